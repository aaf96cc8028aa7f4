package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

@Command(name = "load", description = {
        "Load a server from inside a namespace: N TCP connects (connect + close), or N HTTP GETs with --http.",
        "Prints connections/s (or requests/s) and latency percentiles. Bounded by --count and --timeout."})
final class LoadCommand implements Callable<Integer> {

    @Option(names = "--ns", required = true, paramLabel = "NAME")
    String name;

    @Option(names = "--connect", required = true, paramLabel = "HOST:PORT")
    String target;

    @Option(names = "--count", defaultValue = "1000", paramLabel = "N")
    int count;

    @Option(names = "--concurrency", defaultValue = "16", paramLabel = "C")
    int concurrency;

    @Option(names = "--http", paramLabel = "PATH", description = "GET http://HOST:PORT/PATH instead of TCP connects (keep-alive pool).")
    String httpPath;

    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", description = "Give up after this long.")
    long timeout;

    @Override
    public Integer call() {
        if (count < 1 || count > 10_000_000 || concurrency < 1 || concurrency > 10_000) {
            throw new IllegalArgumentException("--count must be 1..10000000 and --concurrency 1..10000");
        }
        int colon = target.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected HOST:PORT, not '" + target + "'");
        }
        String host = target.substring(0, colon);
        int port = Integer.parseInt(target.substring(colon + 1));
        long[] latencies = new long[count];
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        Netns netns = null;
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            netns = Netns.create();
            Netns toolkit = netns;
            Mono<?> one;
            if (httpPath != null) {
                String url = "http://" + target + "/" + (httpPath.startsWith("/") ? httpPath.substring(1) : httpPath);
                one = toolkit.httpClient(ns).get().uri(url).responseContent().aggregate().asString().defaultIfEmpty("");
            } else {
                TcpClient client = TcpClient.newConnection().host(host).port(port);
                one = toolkit.connect(ns, client).doOnNext(Connection::dispose);
            }
            long start = System.nanoTime();
            Flux.range(0, count).flatMap(i -> Mono.defer(() -> {
                long s = System.nanoTime();
                return one.doOnSuccess(v -> latencies[next.getAndIncrement()] = System.nanoTime() - s)
                        .onErrorResume(e -> {
                            errors.incrementAndGet();
                            return Mono.empty();
                        });
            }), concurrency).blockLast(Duration.ofSeconds(timeout));
            double seconds = (System.nanoTime() - start) / 1e9;
            int ok = next.get();
            long[] done = Arrays.copyOf(latencies, ok);
            Arrays.sort(done);
            System.out.printf(Locale.ROOT, "%d %s in %.2f s from %s: %.0f/s, %d errors%n", ok,
                    httpPath != null ? "requests" : "connections", seconds, name, ok / seconds, errors.get());
            if (ok > 0) {
                System.out.printf(Locale.ROOT, "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f%n",
                        pct(done, 50), pct(done, 90), pct(done, 99), done[ok - 1] / 1e6);
            }
            return ok == 0 ? 1 : 0;
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
        }
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
        return sorted[i] / 1e6;
    }
}

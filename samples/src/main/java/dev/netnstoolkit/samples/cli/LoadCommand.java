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
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
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

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "N",
            description = "Make N connects (or requests) first, not measured: the figures are then a steady state (the JIT has compiled the path).")
    int warmup;

    @Override
    public Integer call() {
        Args.range("--count", count, 1, 10_000_000);
        Args.range("--concurrency", concurrency, 1, 10_000);
        Args.range("--timeout", timeout, 1, 86_400);
        Args.range("--warmup", warmup, 0, 10_000_000);
        Args.Target t = Args.target("--connect", target);
        String host = t.host();
        int port = t.port();
        long[] latencies = new long[count];
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        Map<String, AtomicLong> errorKinds = new ConcurrentSkipListMap<>();
        Netns netns = null;
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            netns = Netns.create();
            Netns toolkit = netns;
            Mono<?> one;
            if (httpPath != null) {
                String url = "http://" + t + "/" + (httpPath.startsWith("/") ? httpPath.substring(1) : httpPath);
                // an answer that is not 2xx is an error, counted by its status
                one = toolkit.httpClient(ns).get().uri(url).responseSingle((res, body) -> res.status().code() / 100 == 2
                        ? body.asString().defaultIfEmpty("")
                        : Mono.error(new IllegalStateException("HTTP " + res.status().code())));
            } else {
                TcpClient client = TcpClient.newConnection().host(host).port(port);
                // closed after the connect's own callbacks have returned: a channel closed from inside them
                // makes Netty 4.2 build a ClosedChannelException (with its stack trace) for the promise it
                // has just completed, ~5 % of this client's CPU
                one = toolkit.connect(ns, client).doOnNext(c -> c.channel().eventLoop().execute(c::dispose));
            }
            if (warmup > 0) {
                Flux.range(0, warmup).flatMap(i -> one.onErrorResume(e -> Mono.empty()), concurrency)
                        .blockLast(Duration.ofSeconds(timeout));
            }
            long start = System.nanoTime();
            Flux.range(0, count).flatMap(i -> Mono.defer(() -> {
                long s = System.nanoTime();
                return one.doOnSuccess(v -> latencies[next.getAndIncrement()] = System.nanoTime() - s)
                        .onErrorResume(e -> {
                            errors.incrementAndGet();
                            errorKinds.computeIfAbsent(kind(e), k -> new AtomicLong()).incrementAndGet();
                            return Mono.empty();
                        });
            }), concurrency).blockLast(Duration.ofSeconds(timeout));
            double seconds = (System.nanoTime() - start) / 1e9;
            int ok = next.get();
            long[] done = Arrays.copyOf(latencies, ok);
            Arrays.sort(done);
            System.out.printf(Locale.ROOT, "%d %s in %.2f s from %s: %.0f/s, %d errors%s%n", ok,
                    httpPath != null ? "requests" : "connections", seconds, name, ok / seconds, errors.get(),
                    warmup > 0 ? " (after " + warmup + " not measured)" : "");
            if (!errorKinds.isEmpty()) {
                System.out.println("errors: " + errorKinds);
            }
            if (ok > 0) {
                System.out.printf(Locale.ROOT, "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f%n",
                        pct(done, 50), pct(done, 90), pct(done, 99), done[ok - 1] / 1e6);
            }
            return errors.get() == 0 ? 0 : 1;
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
        }
    }

    /** An error's kind for the summary: its message if short ("HTTP 404"), else its type. */
    private static String kind(Throwable e) {
        Throwable t = reactor.core.Exceptions.unwrap(e);
        String msg = t.getMessage();
        return msg != null && msg.length() <= 40 ? msg : t.getClass().getSimpleName();
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
        return sorted[i] / 1e6;
    }
}

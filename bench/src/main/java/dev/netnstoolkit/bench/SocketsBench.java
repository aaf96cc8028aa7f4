package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.reactor.PingResult;
import reactor.core.publisher.Flux;
import reactor.netty.udp.UdpClient;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The generic socket path (issue 14's bench):
 * <ol>
 *   <li>a UDP socket made and registered through {@code openSocket} against Reactor Netty building its own
 *       (a {@code UdpClient} connected through the toolkit), made and closed, µs each, in paired rounds;</li>
 *   <li>ping round trip from inside a namespace to its loopback: {@code netns.ping} against
 *       {@code ip netns exec NAME ping}, the round trip each reports, and the whole command's time;</li>
 *   <li>pings across many namespaces at once: one echo from inside each of N, pings per second, and the
 *       threads and descriptors of the process while it runs.</li>
 * </ol>
 * <pre>java -cp bench/target/benchmarks.jar dev.netnstoolkit.bench.SocketsBench [--quick]</pre>
 * Needs root. Names are {@code ntk-sb-PID-*}; only those are deleted, on every exit path. Traffic is on
 * loopback inside them. Writes {@code bench/target/sockets.json} and {@code sockets.md}.
 */
public final class SocketsBench {

    private static final Pattern PING_TIME = Pattern.compile("time=([0-9.]+) ms");

    private final boolean quick;
    private final String prefix = HarnessRun.prefix("sb");
    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final Report report = new Report();

    private SocketsBench(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        SocketsBench b = new SocketsBench(List.of(args).contains("--quick"));
        HarnessRun.exitWith("sockets bench", b.prefix, b::run);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        Netns netns = Netns.create();
        try (NetNamespace ns = registry.create(prefix + "main")) {
            socketCreation(netns, ns);
            pingRoundTrip(netns, ns);
            manyNamespaces(netns, quick ? 200 : 1000);
        } finally {
            netns.disposeNow();
        }
        report.put("seconds", (System.nanoTime() - t0) / 1e9);
        Path out = Path.of("bench", "target");
        Files.createDirectories(out);
        Files.writeString(out.resolve("sockets.json"), Json.write(report.json()));
        Files.writeString(out.resolve("sockets.md"), report.table());
        System.out.println();
        System.out.print(report.table());
        System.out.printf(Locale.ROOT, "(%.0f s; written: bench/target/sockets.json, sockets.md)%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private void socketCreation(Netns netns, NetNamespace ns) throws Exception {
        int n = quick ? 500 : 2000;
        SocketSpec udp = SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP);
        UdpClient client = UdpClient.create().host("127.0.0.1").port(9);
        Callable<Double> generic = () -> perOpMicros(n, () -> Flux.range(0, n)
                .concatMap(i -> netns.openSocket(ns, udp).doOnNext(s -> s.dispose()).then(), 1).blockLast(Duration.ofMinutes(1)));
        Callable<Double> reactorNetty = () -> perOpMicros(n, () -> Flux.range(0, n)
                .concatMap(i -> netns.connect(ns, client).doOnNext(c -> c.dispose()).then(), 1).blockLast(Duration.ofMinutes(1)));
        report.pairs("generic_vs_reactor_netty", "UDP socket made, registered and closed in a namespace, µs each: openSocket (generic path) "
                + "/ Reactor Netty's own UdpClient through the toolkit", PairedRounds.run("generic", generic, "reactor-netty",
                reactorNetty, quick ? 5 : 11, 6), "%.1f");
    }

    private void pingRoundTrip(Netns netns, NetNamespace ns) throws Exception {
        int count = quick ? 20 : 100;
        InetAddress lo = InetAddress.getLoopbackAddress();
        netns.ping(ns, lo, 5, Duration.ofMillis(5), Duration.ofSeconds(2)).block(Duration.ofSeconds(10)); // warm-up
        long s = System.nanoTime();
        PingResult r = netns.ping(ns, lo, count, Duration.ofMillis(10), Duration.ofSeconds(2)).block(Duration.ofMinutes(1));
        double toolkitWallMs = (System.nanoTime() - s) / 1e6;
        List<Double> toolkitRtt = r.roundTrips().stream().map(d -> d.toNanos() / 1e3).toList();
        String name = ns.name().orElseThrow();
        long ps = System.nanoTime();
        Process p = new ProcessBuilder("ip", "netns", "exec", name, "ping", "-n", "-c", Integer.toString(count), "-i", "0.01",
                "127.0.0.1").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        double pingWallMs = (System.nanoTime() - ps) / 1e6;
        List<Double> pingRtt = new ArrayList<>();
        Matcher m = PING_TIME.matcher(output);
        while (m.find()) {
            pingRtt.add(Double.parseDouble(m.group(1)) * 1000);
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("count", count);
        j.put("toolkit_method", r.method());
        j.put("toolkit_received", r.received());
        j.put("toolkit_rtt_us_p50", Stats.quantile(toolkitRtt, 0.5));
        j.put("toolkit_wall_ms", toolkitWallMs);
        j.put("ping8_received", pingRtt.size());
        j.put("ping8_rtt_us_p50", pingRtt.isEmpty() ? null : Stats.quantile(pingRtt, 0.5));
        j.put("ping8_wall_ms", pingWallMs);
        if (pingRtt.isEmpty()) {
            j.put("ping8_output", output.strip()); // e.g. ping(8) not installed: apt-get install iputils-ping
        }
        report.put("ping_round_trip", j);
        report.row(String.format(Locale.ROOT, "| ping 127.0.0.1 from inside a namespace, %d echoes 10 ms apart: round trip p50 µs "
                        + "(netns.ping over a %s / `ip netns exec NAME ping -i 0.01`) | %.0f (%d replies) | %s (%d replies) | "
                        + "whole run %.0f ms / %.0f ms |", count, r.method(), Stats.quantile(toolkitRtt, 0.5), r.received(),
                pingRtt.isEmpty() ? "— (" + output.strip().lines().findFirst().orElse("no output") + ")"
                        : String.format(Locale.ROOT, "%.0f", Stats.quantile(pingRtt, 0.5)), pingRtt.size(),
                toolkitWallMs, pingWallMs));
    }

    private void manyNamespaces(Netns netns, int n) {
        List<String> names = IntStream.range(0, n).mapToObj(i -> prefix + "p" + i).toList();
        int threadsBefore = ProcessAudit.threadCount();
        int fdsBefore = ProcessAudit.openFdCount();
        List<NetNamespace> spaces = registry.createAll(names, CreateOptions.defaults());
        try {
            InetAddress lo = InetAddress.getLoopbackAddress();
            Flux.fromIterable(spaces).flatMap(ns -> netns.ping(ns, lo, 1, Duration.ZERO, Duration.ofSeconds(5)), 256)
                    .blockLast(Duration.ofMinutes(2)); // warm-up round: what is made once per process is made here
            int[] peakThreads = {0};
            long s = System.nanoTime();
            List<PingResult> results = Flux.fromIterable(spaces)
                    .flatMap(ns -> netns.ping(ns, lo, 1, Duration.ZERO, Duration.ofSeconds(5)), 256)
                    .doOnNext(x -> peakThreads[0] = Math.max(peakThreads[0], ProcessAudit.threadCount()))
                    .collectList().block(Duration.ofMinutes(2));
            double seconds = (System.nanoTime() - s) / 1e9;
            long received = results.stream().mapToLong(PingResult::received).sum();
            int fdsAfter = ProcessAudit.openFdCount();
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("namespaces", n);
            j.put("pings_per_s", n / seconds);
            j.put("received", received);
            j.put("threads_before", threadsBefore);
            j.put("threads_peak", peakThreads[0]);
            j.put("fds_per_namespace_after", (fdsAfter - fdsBefore) / (double) n);
            report.put("many_namespaces", j);
            report.row(String.format(Locale.ROOT, "| one ICMP echo from inside each of %d namespaces at once (256 in flight), after a warm-up round "
                            + "| %.0f pings/s, %d / %d replies, threads %d → %d, %.2f descriptors per namespace after (its handle) | — | — |",
                    n, n / seconds, received, n, threadsBefore, peakThreads[0], (fdsAfter - fdsBefore) / (double) n));
        } finally {
            spaces.forEach(NetNamespace::close);
        }
    }

    private static double perOpMicros(int n, Runnable work) {
        long s = System.nanoTime();
        work.run();
        return (System.nanoTime() - s) / 1e3 / n;
    }
}

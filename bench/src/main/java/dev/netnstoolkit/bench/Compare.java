package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;
import dev.netnstoolkit.reactor.NamespaceScheduler;
import dev.netnstoolkit.reactor.Netns;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Side-by-side comparisons in one run, each a {@link PairedRounds paired-round} ratio of the toolkit to
 * its baseline measured in the same run: median and interquartile range of the per-pair ratios. Prints
 * a markdown table and writes {@code bench/target/compare.json} and PNG charts next to it.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.netnstoolkit.bench.Compare [--quick]</pre>
 *
 * Needs root. Creates namespaces {@code ntk-cmp-PID-*} and removes them on every exit path. All
 * traffic is on loopback, inside those namespaces or on the host. The Go pattern is a peer where Go is
 * installed ({@link GoPattern}), skipped with a note where it is not.
 */
public final class Compare {

    static final int TCP_PORT = 19000;
    private static final int HTTP_PORT = 19080;
    /** Connections in flight in every connect comparison (the Go pattern's too). */
    private static final int CONCURRENCY = 8;
    /** Short runs per side of a throughput pair, the best counted ({@link #bestOf}). */
    private static final int RUNS_PER_SIDE = 3;
    /** Calls in flight at once in the call() throughput row. */
    private static final int CALLS_IN_FLIGHT = 16;

    private final boolean quick;
    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String prefix = HarnessRun.prefix("cmp");
    private final Report report = new Report();
    private final Path out = Path.of("bench", "target");

    private Compare(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        Compare c = new Compare(List.of(args).contains("--quick"));
        HarnessRun.exitWith("compare", c.prefix, c::run);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        report.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
                "java", System.getProperty("java.version"), "os", System.getProperty("os.version"), "quick", quick));
        NetNamespace ns = registry.create(prefix + "main");
        Netns toolkit = Netns.create();
        LoopResources plainLoops = LoopResources.create("plain", Math.max(2, Runtime.getRuntime().availableProcessors()), true);
        // Servers on loops of their own, as in another process: on the clients' loops, a client that connects
        // faster than the loop accepts fills the accept queue, and an overflow costs a SYN its 1 s retransmission.
        Netns servers = Netns.builder().namePrefix("cmp-server").build();
        LoopResources plainServerLoops = LoopResources.create("plain-server", Math.max(2, Runtime.getRuntime().availableProcessors()), true);
        try {
            socketCreation(toolkit.scheduler(), ns);
            connects(toolkit, servers, plainLoops, plainServerLoops, ns);
            httpKeepAlive(toolkit, servers, plainLoops, plainServerLoops, ns);
        } finally {
            toolkit.disposeNow();
            servers.disposeNow();
            plainLoops.disposeLater().block(Duration.ofSeconds(10));
            plainServerLoops.disposeLater().block(Duration.ofSeconds(10));
            ns.close();
        }
        new CompareScale(quick, registry, prefix, report).run();
        report.put("seconds", (System.nanoTime() - t0) / 1e9);
        Files.writeString(out.resolve("compare.json"), Json.write(report.json()));
        Files.writeString(out.resolve("compare.md"), report.table() + "\n");
        Charts.write(report.json(), out);
        System.out.println();
        System.out.println(report.table());
        System.out.println("(" + String.format(Locale.ROOT, "%.0f", (System.nanoTime() - t0) / 1e9)
                + " s; written: bench/target/compare.json, compare.md, compare-scale.png, compare-ratios.png)");
        return 0;
    }

    // ------------------------------------------------------------ 1. socket creation

    private void socketCreation(NamespaceScheduler scheduler, NetNamespace ns) throws Exception {
        int pairs = quick ? 9 : 21;
        int ops = quick ? 2_000 : 5_000;
        NamespaceSwitch sw = NamespaceSwitch.system();
        ExecutorService loop = ownedThread(sw);
        Callable<Object> socket = () -> {
            SocketChannel.open().close();
            return Boolean.TRUE;
        };
        NamespaceBackend backend = NamespaceBackend.load();
        NamespaceFd nsFd = backend.open(ns.path(), false);
        NamespaceFd homeFd = backend.open("/proc/self/ns/net", true);
        Callable<long[]> rawSamples = () -> loop.submit(() -> {
            try (NamespaceFd.Lease in = nsFd.lease(ns.label()); NamespaceFd.Lease back = homeFd.lease("home")) {
                return time(ops, () -> {
                    backend.setns(in, "ns");
                    try {
                        return socket.call();
                    } finally {
                        backend.setns(back, "home");
                    }
                });
            }
        }).get();
        Callable<Double> raw = () -> p50Micros(rawSamples.call());
        Callable<Double> rawMean = () -> java.util.Arrays.stream(rawSamples.call()).average().orElseThrow() / 1000.0;
        // many callers at once, as a burst of connects from a thread pool: tasks queued one behind the other share a switch
        Callable<Double> callInFlight = () -> {
            long start = System.nanoTime();
            Flux.range(0, ops).flatMap(i -> scheduler.call(ns, socket), CALLS_IN_FLIGHT).blockLast(Duration.ofMinutes(1));
            return (System.nanoTime() - start) / 1000.0 / ops;
        };
        try {
            report.pairs("socket_inline_vs_raw", "socket creation, µs p50: toolkit inline (event-loop path) / raw JNA setns round trip",
                    PairedRounds.run("inline", () -> p50Micros(loop.submit(() -> time(ops, () -> sw.run(ns, socket))).get()),
                            "raw", raw, pairs, 8), "%.1f");
            report.pairs("socket_call_vs_raw", "socket creation, µs p50: toolkit call() one at a time, block() on each "
                            + "(a hand-over; the caller waits awake up to 50 µs inside subscribe) / raw setns round trip",
                    PairedRounds.run("call", () -> p50Micros(time(ops / 4, () -> scheduler.call(ns, socket).block())),
                            "raw", raw, pairs, 8), "%.1f");
            report.pairs("socket_call_blocking_vs_raw", "socket creation, µs p50: toolkit callBlocking() one at a time "
                            + "(the caller waits awake up to 50 µs before it parks) / raw setns round trip",
                    PairedRounds.run("callBlocking", () -> p50Micros(time(ops / 4, () -> scheduler.callBlocking(ns, socket))),
                            "raw", raw, pairs, 8), "%.1f");
            report.pairs("socket_call_in_flight_vs_raw", "socket creation, µs per socket: toolkit call(), " + CALLS_IN_FLIGHT
                            + " in flight (queued ones share a switch) / raw setns round trip (mean)",
                    PairedRounds.run("call-in-flight", callInFlight, "raw", rawMean, pairs, 8), "%.1f");
            report.pairs("socket_none_vs_raw", "socket creation, µs p50: no namespace / raw setns round trip",
                    PairedRounds.run("none", () -> p50Micros(loop.submit(() -> time(ops, socket)).get()),
                            "raw", raw, pairs, 8), "%.1f");
        } finally {
            loop.shutdownNow();
            nsFd.close();
            homeFd.close();
        }
    }

    /** One platform thread owned by the switch, as the toolkit's event loops are. */
    static ExecutorService ownedThread(NamespaceSwitch sw) {
        return Executors.newSingleThreadExecutor(r -> new Thread(() -> {
            sw.adoptCurrentThread();
            r.run();
        }, "cmp-owned"));
    }

    private static double p50Micros(long[] samples) {
        return Stats.percentile(samples, 50) / 1000.0;
    }

    private static long[] time(int ops, Callable<Object> op) throws Exception {
        long[] t = new long[ops];
        for (int i = 0; i < ops; i++) {
            long s = System.nanoTime();
            op.call();
            t[i] = System.nanoTime() - s;
        }
        return t;
    }

    // ------------------------------------------------------------ 2. new connections

    private void connects(Netns toolkit, Netns servers, LoopResources plainLoops, LoopResources plainServerLoops, NetNamespace ns)
            throws Exception {
        int pairs = quick ? 9 : 21;
        int conns = quick ? 3_000 : 10_000;
        TcpServer server = TcpServer.create().host("127.0.0.1").port(TCP_PORT).handle((in, o) -> in.receive().then());
        DisposableServer inNs = servers.bind(ns, server).block(Duration.ofSeconds(10));
        DisposableServer onHost = server.runOn(plainServerLoops, true).bindNow();
        NetNamespace home = registry.home();
        DisposableServer toolkitOnHost = servers.bind(home, server.port(TCP_PORT + 1)).block(Duration.ofSeconds(10));
        // An orderly close, as the Go pattern's (TIME_WAIT on loopback is reused: net.ipv4.tcp_tw_reuse=2). A reset
        // instead floods the accept queue with connections reset before they are accepted: the listener then
        // overflows now and then and a SYN waits the 1 s retransmission (seen: TcpExtListenOverflows).
        TcpClient plainClient = TcpClient.newConnection().runOn(plainLoops, true).host("127.0.0.1").port(TCP_PORT);
        TcpClient nsClient = TcpClient.newConnection().host("127.0.0.1").port(TCP_PORT);
        TcpClient homeClient = nsClient.port(TCP_PORT + 1);
        int part = conns / RUNS_PER_SIDE;
        Callable<Double> inNamespace = bestOf(() -> rate(part, Flux.range(0, part).flatMap(i -> closedAfter(toolkit.connect(ns, nsClient)), CONCURRENCY)));
        Callable<Double> plain = bestOf(() -> rate(part, Flux.range(0, part).flatMap(i -> closedAfter(plainClient.connect()), CONCURRENCY)));
        try {
            report.pairs("tcp_connect_close", "TCP connect+close per s (concurrency " + CONCURRENCY + ", best of " + RUNS_PER_SIDE + " runs per side"
                            + "): toolkit in a namespace / plain Reactor Netty on the host",
                    PairedRounds.run("toolkit", inNamespace, "plain", plain, pairs, 10), "%.0f");
            report.pairs("tcp_connect_close_control", "TCP connect+close per s: control, toolkit switching into the home namespace / plain on the host",
                    PairedRounds.run("toolkit-home", bestOf(() -> rate(part, Flux.range(0, part)
                            .flatMap(i -> closedAfter(toolkit.connect(home, homeClient)), CONCURRENCY))), "plain", plain, pairs, 10), "%.0f");
            GoPattern go = GoPattern.build(out);
            if (go.skipped() != null) {
                report.note("go_pattern", "Go pattern peer skipped: " + go.skipped());
            } else {
                String name = ns.name().orElseThrow();
                report.pairs("tcp_connect_vs_go", "TCP connect+close per s (concurrency " + CONCURRENCY + ", best of " + RUNS_PER_SIDE + " runs per side"
                                + "), same server in the namespace: toolkit / Go pattern (LockOSThread + vishvananda/netns + net.Dial)",
                        PairedRounds.run("toolkit", inNamespace, "go",
                                bestOf(() -> go.connectRate(name, "127.0.0.1:" + TCP_PORT, part, CONCURRENCY, part / 10)), pairs, 10), "%.0f");
            }
        } finally {
            inNs.disposeNow();
            onHost.disposeNow();
            toolkitOnHost.disposeNow();
            home.close();
        }
    }

    /**
     * Closed once the connect's own callbacks have returned: closed inside them, Netty 4.2 builds a
     * ClosedChannelException with its stack trace for the promise it has just completed.
     */
    private static Mono<Connection> closedAfter(Mono<? extends Connection> connect) {
        return connect.<Connection>map(c -> c).doOnNext(c -> c.channel().eventLoop().execute(c::dispose));
    }

    /**
     * A side's figure in a pair of throughput rounds: the best of {@value #RUNS_PER_SIDE} short runs. On this
     * VM other guests and the JVM's own threads only ever slow a run down (one side's runs varied from 12k to
     * 20k per s within minutes), so the best run is the steadiest estimate of what each side can do.
     */
    private static Callable<Double> bestOf(Callable<Double> run) {
        return () -> {
            double best = 0;
            for (int i = 0; i < RUNS_PER_SIDE; i++) {
                best = Math.max(best, run.call());
            }
            return best;
        };
    }

    private static double rate(int n, Flux<?> work) {
        long s = System.nanoTime();
        work.blockLast(Duration.ofMinutes(5));
        return n / ((System.nanoTime() - s) / 1e9);
    }

    // ------------------------------------------------------------ 3. HTTP keep-alive

    private void httpKeepAlive(Netns toolkit, Netns servers, LoopResources plainLoops, LoopResources plainServerLoops, NetNamespace ns)
            throws Exception {
        int pairs = quick ? 9 : 21;
        int requests = quick ? 4_000 : 10_000;
        HttpServer server = HttpServer.create().host("127.0.0.1").port(HTTP_PORT).handle((req, res) -> res.sendString(Mono.just("ok")));
        DisposableServer inNs = servers.bind(ns, server).block(Duration.ofSeconds(10));
        DisposableServer onHost = server.runOn(plainServerLoops, true).bindNow();
        NetNamespace home = registry.home();
        DisposableServer toolkitOnHost = servers.bind(home, server.port(HTTP_PORT + 1)).block(Duration.ofSeconds(10));
        HttpClient homeClient = toolkit.httpClient(home);
        String homeUrl = "http://127.0.0.1:" + (HTTP_PORT + 1) + "/";
        ConnectionProvider plainPool = ConnectionProvider.builder("plain").maxConnections(500).build();
        HttpClient plainClient = HttpClient.create(plainPool).runOn(plainLoops, true);
        HttpClient nsClient = toolkit.httpClient(ns);
        String url = "http://127.0.0.1:" + HTTP_PORT + "/";
        int part = requests / RUNS_PER_SIDE;
        Callable<Double> plain = bestOf(() -> rate(part, Flux.range(0, part)
                .flatMap(i -> plainClient.get().uri(url).responseContent().aggregate().asString(), CONCURRENCY)));
        try {
            report.pairs("http_keepalive", "HTTP keep-alive requests per s (concurrency " + CONCURRENCY + ", best of " + RUNS_PER_SIDE + " runs per side"
                            + "): toolkit in a namespace / plain Reactor Netty on the host",
                    PairedRounds.run("toolkit", bestOf(() -> rate(part, Flux.range(0, part)
                            .flatMap(i -> nsClient.get().uri(url).responseContent().aggregate().asString(), CONCURRENCY))),
                            "plain", plain, pairs, 10), "%.0f");
            report.pairs("http_keepalive_control", "HTTP keep-alive requests per s: control, toolkit switching into the home namespace / plain on the host",
                    PairedRounds.run("toolkit-home", bestOf(() -> rate(part, Flux.range(0, part)
                            .flatMap(i -> homeClient.get().uri(homeUrl).responseContent().aggregate().asString(), CONCURRENCY))),
                            "plain", plain, pairs, 10), "%.0f");
        } finally {
            inNs.disposeNow();
            onHost.disposeNow();
            toolkitOnHost.disposeNow();
            home.close();
            plainPool.disposeLater().block(Duration.ofSeconds(10));
        }
    }
}

package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;
import dev.netnstoolkit.reactor.NamespaceScheduler;
import dev.netnstoolkit.reactor.Netns;
import io.netty.channel.ChannelOption;
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
import reactor.netty.udp.UdpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.channels.SocketChannel;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Side-by-side comparisons in one run, each figure a ratio to its baseline measured in the same run:
 * interleaved rounds (the order alternates), a warm-up round first, medians of rounds. Prints a
 * markdown table and writes {@code bench/target/compare.json} and PNG charts next to it.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.netnstoolkit.bench.Compare [--quick]</pre>
 *
 * Needs root. Creates namespaces {@code ntk-cmp-PID-*} and removes them on every exit path. All
 * traffic is on loopback, inside those namespaces or on the host.
 */
public final class Compare {

    private static final int TCP_PORT = 19000;
    private static final int HTTP_PORT = 19080;

    private final boolean quick;
    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String prefix = "ntk-cmp-" + ProcessHandle.current().pid() + "-";
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final StringBuilder table = new StringBuilder();
    private final Path out = Path.of("bench", "target");

    private Compare(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = List.of(args).contains("--quick");
        Compare c = new Compare(quick);
        Thread cleanup = new Thread(c::removeAll, "ntk-cmp-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        int status;
        try {
            status = c.run();
        } catch (NamespacePermissionException e) {
            System.err.println("compare: " + e.getMessage() + " (run as root)");
            status = 1;
        } finally {
            c.removeAll();
        }
        Runtime.getRuntime().removeShutdownHook(cleanup);
        System.exit(status);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        json.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
                "java", System.getProperty("java.version"), "os", System.getProperty("os.version"), "quick", quick));
        row("| measure | toolkit | baseline | ratio |");
        row("|---|---|---|---|");
        NetNamespace ns = registry.create(prefix + "main");
        Netns toolkit = Netns.create();
        LoopResources plainLoops = LoopResources.create("plain", Math.max(2, Runtime.getRuntime().availableProcessors()), true);
        try {
            socketCreation(toolkit.scheduler(), ns);
            tcpConnectRate(toolkit, plainLoops, ns);
            httpKeepAlive(toolkit, plainLoops, ns);
        } finally {
            toolkit.disposeNow();
            plainLoops.disposeLater().block(Duration.ofSeconds(10));
            ns.close();
        }
        createDelete();
        scale();
        json.put("seconds", (System.nanoTime() - t0) / 1e9);
        Files.writeString(out.resolve("compare.json"), Json.write(json));
        Charts.write(json, out);
        System.out.println();
        System.out.println(table);
        System.out.println("(" + String.format(Locale.ROOT, "%.0f", (System.nanoTime() - t0) / 1e9)
                + " s; written: bench/target/compare.json, bench/target/compare-scale.png, bench/target/compare-ratios.png)");
        return 0;
    }

    // ------------------------------------------------------------ 1. socket creation

    private void socketCreation(NamespaceScheduler scheduler, NetNamespace ns) throws Exception {
        int rounds = quick ? 5 : 9;
        int ops = quick ? 2_000 : 10_000;
        NamespaceSwitch sw = NamespaceSwitch.system();
        ExecutorService loop = ownedThread(sw);
        Callable<Object> socket = () -> {
            SocketChannel.open().close();
            return Boolean.TRUE;
        };
        NamespaceBackend backend = NamespaceBackend.load();
        Map<String, Callable<long[]>> variants = new LinkedHashMap<>();
        variants.put("no namespace", () -> loop.submit(() -> time(ops, socket)).get());
        variants.put("raw switch (JNA setns in and out)", () -> loop.submit(() -> {
            NamespaceFd nsFd = backend.open(ns.path(), false);
            NamespaceFd homeFd = backend.open("/proc/self/ns/net", true);
            try (NamespaceFd.Lease in = nsFd.lease(ns.label()); NamespaceFd.Lease back = homeFd.lease("home")) {
                return time(ops, () -> {
                    backend.setns(in, "ns");
                    try {
                        return socket.call();
                    } finally {
                        backend.setns(back, "home");
                    }
                });
            } finally {
                nsFd.close();
                homeFd.close();
            }
        }).get());
        variants.put("toolkit inline (event-loop path)", () -> loop.submit(() -> time(ops, () -> sw.run(ns, socket))).get());
        variants.put("toolkit call() (dedicated worker)", () -> time(ops / 4, () -> scheduler.call(ns, socket).block()));
        Map<String, List<long[]>> samples = interleave(rounds, variants);
        loop.shutdownNow();
        Map<String, Object> section = new LinkedHashMap<>();
        for (Map.Entry<String, List<long[]>> e : samples.entrySet()) {
            long[] all = Stats.concat(e.getValue());
            List<Double> p50s = e.getValue().stream().map(s -> Stats.percentile(s, 50) / 1000.0).toList();
            section.put(e.getKey(), Map.of("p50_us", Stats.median(p50s), "p99_us", Stats.percentile(all, 99) / 1000.0));
        }
        json.put("socket_creation", section);
        double raw = p50(section, "raw switch (JNA setns in and out)");
        double none = p50(section, "no namespace");
        for (String k : section.keySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Double> v = (Map<String, Double>) section.get(k);
            row(String.format(Locale.ROOT, "| socket creation: %s, µs p50 / p99 | %.1f / %.1f | raw switch %.1f | %.2f× raw, %.2f× none |",
                    k, v.get("p50_us"), v.get("p99_us"), raw, v.get("p50_us") / raw, v.get("p50_us") / none));
        }
    }

    /** One platform thread owned by the switch, as the toolkit's event loops are. */
    static ExecutorService ownedThread(NamespaceSwitch sw) {
        return Executors.newSingleThreadExecutor(r -> new Thread(() -> {
            sw.adoptCurrentThread();
            r.run();
        }, "cmp-owned"));
    }

    private static double p50(Map<String, Object> section, String key) {
        @SuppressWarnings("unchecked")
        Map<String, Double> v = (Map<String, Double>) section.get(key);
        return v.get("p50_us");
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

    private static final int WARMUP_ROUNDS = 2;

    /** Runs every variant once per round, the order rotating each round; the first rounds are a discarded warm-up. */
    private static <T> Map<String, List<T>> interleave(int rounds, Map<String, Callable<T>> variants) throws Exception {
        Map<String, List<T>> results = new LinkedHashMap<>();
        variants.keySet().forEach(k -> results.put(k, new ArrayList<>()));
        List<String> order = new ArrayList<>(variants.keySet());
        for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
            for (int i = 0; i < order.size(); i++) {
                String k = order.get((i + r) % order.size());
                T v = variants.get(k).call();
                if (r >= WARMUP_ROUNDS) {
                    results.get(k).add(v);
                }
            }
            System.err.print(".");
        }
        System.err.println();
        return results;
    }

    // ------------------------------------------------------------ 2. TCP connect + close

    private void tcpConnectRate(Netns toolkit, LoopResources plainLoops, NetNamespace ns) throws Exception {
        int rounds = quick ? 11 : 31;
        int conns = quick ? 1_000 : 2_000;
        int concurrency = 16;
        TcpServer server = TcpServer.create().host("127.0.0.1").port(TCP_PORT).handle((in, o) -> in.receive().then());
        DisposableServer inNs = toolkit.bind(Flux.just(ns), server).blockLast(Duration.ofSeconds(10));
        DisposableServer onHost = server.runOn(plainLoops, true).bindNow();
        NetNamespace home = registry.home();
        DisposableServer toolkitOnHost = toolkit.bind(Flux.just(home), server.port(TCP_PORT + 1)).blockLast(Duration.ofSeconds(10));
        // SO_LINGER 0: close with RST, so no TIME_WAIT piles up on either side across rounds (on the host
        // the ephemeral ports are shared with every earlier round; a namespace starts with its own).
        TcpClient plainClient = TcpClient.newConnection().option(ChannelOption.SO_LINGER, 0).runOn(plainLoops, true)
                .host("127.0.0.1").port(TCP_PORT);
        TcpClient nsClient = TcpClient.newConnection().option(ChannelOption.SO_LINGER, 0).host("127.0.0.1").port(TCP_PORT);
        Map<String, Callable<Double>> variants = new LinkedHashMap<>();
        variants.put("toolkit", () -> rate(conns, Flux.range(0, conns)
                .flatMap(i -> toolkit.connect(ns, nsClient).doOnNext(Connection::dispose), concurrency)));
        variants.put("plain", () -> rate(conns, Flux.range(0, conns)
                .flatMap(i -> plainClient.connect().doOnNext(Connection::dispose), concurrency)));
        TcpClient homeClient = nsClient.port(TCP_PORT + 1);
        variants.put("toolkit-home", () -> rate(conns, Flux.range(0, conns)
                .flatMap(i -> toolkit.connect(home, homeClient).doOnNext(Connection::dispose), concurrency)));
        Map<String, List<Double>> r = interleave(rounds, variants);
        inNs.disposeNow();
        onHost.disposeNow();
        toolkitOnHost.disposeNow();
        home.close();
        ratio("tcp_connect_close", "TCP connect+close per s (concurrency " + concurrency + ")", r, "%.0f");
    }

    private static double rate(int n, Flux<?> work) {
        long s = System.nanoTime();
        work.blockLast(Duration.ofMinutes(5));
        return n / ((System.nanoTime() - s) / 1e9);
    }

    // ------------------------------------------------------------ 3. HTTP keep-alive

    private void httpKeepAlive(Netns toolkit, LoopResources plainLoops, NetNamespace ns) throws Exception {
        int rounds = quick ? 7 : 15;
        int requests = quick ? 4_000 : 10_000;
        int concurrency = 16;
        HttpServer server = HttpServer.create().host("127.0.0.1").port(HTTP_PORT).handle((req, res) -> res.sendString(Mono.just("ok")));
        DisposableServer inNs = toolkit.bind(Flux.just(ns), server).blockLast(Duration.ofSeconds(10));
        DisposableServer onHost = server.runOn(plainLoops, true).bindNow();
        NetNamespace home = registry.home();
        DisposableServer toolkitOnHost = toolkit.bind(Flux.just(home), server.port(HTTP_PORT + 1)).blockLast(Duration.ofSeconds(10));
        HttpClient homeClient = toolkit.httpClient(home);
        String homeUrl = "http://127.0.0.1:" + (HTTP_PORT + 1) + "/";
        ConnectionProvider plainPool = ConnectionProvider.builder("plain").maxConnections(500).build();
        HttpClient plain = HttpClient.create(plainPool).runOn(plainLoops, true);
        HttpClient nsClient = toolkit.httpClient(ns);
        String url = "http://127.0.0.1:" + HTTP_PORT + "/";
        Map<String, Callable<Double>> variants = new LinkedHashMap<>();
        variants.put("toolkit", () -> rate(requests, Flux.range(0, requests)
                .flatMap(i -> nsClient.get().uri(url).responseContent().aggregate().asString(), concurrency)));
        variants.put("plain", () -> rate(requests, Flux.range(0, requests)
                .flatMap(i -> plain.get().uri(url).responseContent().aggregate().asString(), concurrency)));
        variants.put("toolkit-home", () -> rate(requests, Flux.range(0, requests)
                .flatMap(i -> homeClient.get().uri(homeUrl).responseContent().aggregate().asString(), concurrency)));
        Map<String, List<Double>> r = interleave(rounds, variants);
        inNs.disposeNow();
        onHost.disposeNow();
        toolkitOnHost.disposeNow();
        home.close();
        plainPool.disposeLater().block(Duration.ofSeconds(10));
        ratio("http_keepalive", "HTTP keep-alive requests per s (concurrency " + concurrency + ")", r, "%.0f");
    }

    /**
     * Two ratios: the toolkit in a namespace against plain Reactor Netty on the host (what users compare),
     * and, as a control, the toolkit in the home namespace (the same code, switching into home) against
     * the same plain baseline: the toolkit's own cost, without the difference between the two stacks.
     */
    private void ratio(String key, String label, Map<String, List<Double>> r, String fmt) {
        double t = Stats.median(r.get("toolkit"));
        double p = Stats.median(r.get("plain"));
        double h = Stats.median(r.get("toolkit-home"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("toolkit", t);
        m.put("plain", p);
        m.put("toolkit_home", h);
        m.put("ratio", t / p);
        m.put("ratio_toolkit_home", h / p);
        m.put("rounds_toolkit", r.get("toolkit"));
        m.put("rounds_plain", r.get("plain"));
        m.put("rounds_toolkit_home", r.get("toolkit-home"));
        json.put(key, m);
        row(String.format(Locale.ROOT, "| %s: toolkit in a namespace vs plain Reactor Netty on the host | " + fmt + " | " + fmt + " | %.2f× |",
                label, t, p, t / p));
        row(String.format(Locale.ROOT, "| %s: control, toolkit switching into the home namespace vs plain on the host | " + fmt + " | " + fmt + " | %.2f× |",
                label, h, p, h / p));
    }

    // ------------------------------------------------------------ 5. create / delete

    private void createDelete() throws Exception {
        int rounds = quick ? 3 : 7;
        int n = quick ? 30 : 100;
        Map<String, Callable<Double>> variants = new LinkedHashMap<>();
        int[] seq = {0};
        variants.put("toolkit", () -> perOpMicros(n, () -> {
            String name = prefix + "cd-" + seq[0]++;
            registry.create(name).close();
            registry.delete(name);
        }));
        variants.put("ip", () -> perOpMicros(n, () -> {
            String name = prefix + "cd-" + seq[0]++;
            exec("ip", "netns", "add", name);
            exec("ip", "netns", "delete", name);
        }));
        Map<String, List<Double>> r = interleave(rounds, variants);
        double t = Stats.median(r.get("toolkit"));
        double p = Stats.median(r.get("ip"));
        json.put("create_delete", Map.of("toolkit_us", t, "ip_netns_us", p, "ratio", t / p));
        row(String.format(Locale.ROOT, "| namespace create+delete, µs (toolkit with lo up vs `ip netns add` + `ip netns delete` processes) | %.0f | %.0f | %.2f× |", t, p, t / p));
    }

    private static double perOpMicros(int n, ThrowingRunnable op) throws Exception {
        long s = System.nanoTime();
        for (int i = 0; i < n; i++) {
            op.run();
        }
        return (System.nanoTime() - s) / 1e3 / n;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void exec(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " failed");
        }
    }

    // ------------------------------------------------------------ 4. scale

    private void scale() throws Exception {
        int[] counts = {10, 100, 1000};
        List<Map<String, Object>> points = new ArrayList<>();
        Map<String, Object> perJvm = oneJvmPerNamespace();
        for (int count : counts) {
            List<NetNamespace> spaces = new ArrayList<>();
            long c0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                spaces.add(registry.create(prefix + count + "-" + i));
            }
            long createNanos = System.nanoTime() - c0;
            long heapBefore = usedHeapAfterGc();
            int threadsBefore = ProcessAudit.threadCount();
            long b0 = System.nanoTime();
            Netns toolkit = Netns.create();
            List<DisposableServer> tcp = toolkit.bind(Flux.fromIterable(spaces), TcpServer.create().host("0.0.0.0").port(TCP_PORT)
                    .handle((in, o) -> o.sendString(Mono.just("ns\n")))).collectList().block(Duration.ofMinutes(5));
            List<Connection> udp = toolkit.bind(Flux.fromIterable(spaces), UdpServer.create().host("0.0.0.0").port(TCP_PORT))
                    .collectList().block(Duration.ofMinutes(5));
            long bindNanos = System.nanoTime() - b0;
            int threads = ProcessAudit.threadCount();
            int fds = ProcessAudit.openFdCount();
            long heapAfter = usedHeapAfterGc();
            boolean atHome = ProcessAudit.threadsAwayFromHome().isEmpty();
            tcp.forEach(DisposableServer::disposeNow);
            udp.forEach(Connection::disposeNow);
            toolkit.disposeNow();
            for (NetNamespace s : spaces) {
                s.close();
                registry.delete(s.name().orElseThrow());
            }
            Map<String, Object> point = new LinkedHashMap<>();
            point.put("namespaces", count);
            point.put("create_ms", createNanos / 1e6);
            point.put("bring_up_ms", bindNanos / 1e6);
            point.put("jvm_threads", threads);
            point.put("jvm_threads_before", threadsBefore);
            point.put("open_fds", fds);
            point.put("heap_kib_per_namespace", Math.max(0, heapAfter - heapBefore) / 1024.0 / count);
            point.put("all_threads_at_home", atHome);
            point.put("one_jvm_per_namespace_threads", (int) perJvm.get("threads") * count);
            point.put("one_jvm_per_namespace_rss_mib", (double) perJvm.get("rss_mib") * count);
            point.put("one_jvm_per_namespace_startup_ms_serial", (double) perJvm.get("ready_ms") * count);
            points.add(point);
            row(String.format(Locale.ROOT, "| scale: %d namespaces × (TCP + UDP) listeners: bring-up ms / JVM threads / fds / heap KiB per ns | %.0f / %d / %d / %.1f | one JVM per ns (measured once, × %d): %.0f ms / %d threads / %.0f MiB RSS | — |",
                    count, bindNanos / 1e6, threads, fds, (double) point.get("heap_kib_per_namespace"), count,
                    (double) perJvm.get("ready_ms") * count, (int) perJvm.get("threads") * count, (double) perJvm.get("rss_mib") * count));
        }
        json.put("scale", points);
        json.put("one_jvm_per_namespace", perJvm);
    }

    /** One `ip netns exec NS java OneNamespaceServer` JVM: time to ready, its threads and RSS. Multiplied, say so. */
    private Map<String, Object> oneJvmPerNamespace() throws Exception {
        String name = prefix + "jvm";
        registry.create(name).close();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long s = System.nanoTime();
        Process p = new ProcessBuilder("ip", "netns", "exec", name, java, "-cp", System.getProperty("java.class.path"),
                OneNamespaceServer.class.getName(), Integer.toString(TCP_PORT)).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null && !line.equals("ready")) {
                // startup output
            }
            double readyMs = (System.nanoTime() - s) / 1e6;
            Thread.sleep(500);
            Map<String, String> status = new LinkedHashMap<>();
            for (String l : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
                int c = l.indexOf(':');
                status.put(l.substring(0, c), l.substring(c + 1).trim());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ready_ms", readyMs);
            m.put("threads", Integer.parseInt(status.get("Threads")));
            m.put("rss_mib", Long.parseLong(status.get("VmRSS").split("\\s+")[0]) / 1024.0);
            m.put("note", "one JVM measured, figures for N namespaces are N times these");
            return m;
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.destroyForcibly();
            registry.delete(name);
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private void row(String line) {
        table.append(line).append('\n');
    }

    private void removeAll() {
        for (String name : registry.list()) {
            if (name.startsWith(prefix)) {
                try {
                    registry.delete(name);
                } catch (RuntimeException e) {
                    System.err.println("compare: could not remove " + name + ": " + e.getMessage());
                }
            }
        }
    }
}

package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;
import reactor.netty.udp.UdpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The harness's sections about namespaces themselves: creation one at a time and many at once against
 * iproute2, and scale (listeners in 10, 100 and 1000 namespaces against one JVM per namespace; the
 * largest count the descriptor limit allows, through {@code ntk tour} where its jar is built).
 */
final class CompareScale {

    private final boolean quick;
    private final NamespaceRegistry registry;
    private final String prefix;
    private final Report report;

    CompareScale(boolean quick, NamespaceRegistry registry, String prefix, Report report) {
        this.quick = quick;
        this.registry = registry;
        this.prefix = prefix;
        this.report = report;
    }

    void run() throws Exception {
        createDelete();
        batchCreate();
        scale();
        largestCount();
    }

    private void createDelete() throws Exception {
        int pairs = quick ? 5 : 9;
        int n = quick ? 30 : 100;
        int[] seq = {0};
        report.pairs("create_delete", "namespace create+delete, µs each: toolkit (lo up) / `ip netns add` + `ip netns delete` processes",
                PairedRounds.run("toolkit", () -> perOpMicros(n, () -> {
                    String name = prefix + "cd-" + seq[0]++;
                    registry.create(name).close();
                    registry.delete(name);
                }), "ip", () -> perOpMicros(n, () -> {
                    String name = prefix + "cd-" + seq[0]++;
                    exec("ip", "netns", "add", name);
                    exec("ip", "netns", "delete", name);
                }), pairs, 3), "%.0f");
    }

    /**
     * Many at once: {@link NamespaceRegistry#createAll} (lo up, side by side on the cores) against one
     * {@code ip -batch} of {@code netns add} (lo down), per namespace; each round deletes what it made.
     */
    private void batchCreate() throws Exception {
        int pairs = quick ? 3 : 7;
        int n = quick ? 300 : 1000;
        int[] seq = {0};
        report.pairs("batch_create", "create " + n + " at once, µs per namespace: toolkit createAll (lo up) / one `ip -batch` of `netns add` (lo down)",
                PairedRounds.run("toolkit", () -> {
                    List<String> names = names("ba-" + seq[0]++ + "-", n);
                    long s = System.nanoTime();
                    registry.createAll(names, CreateOptions.defaults()).forEach(NetNamespace::close);
                    double us = (System.nanoTime() - s) / 1e3 / n;
                    names.forEach(registry::delete);
                    return us;
                }, "ip -batch", () -> {
                    List<String> names = names("bb-" + seq[0]++ + "-", n);
                    Path batch = Files.createTempFile("ntk-cmp", ".batch");
                    try {
                        Files.write(batch, names.stream().map(x -> "netns add " + x).toList());
                        long s = System.nanoTime();
                        exec("ip", "-batch", batch.toString());
                        double us = (System.nanoTime() - s) / 1e3 / n;
                        names.forEach(registry::delete);
                        return us;
                    } finally {
                        Files.deleteIfExists(batch);
                    }
                }, pairs, 2), "%.0f");
    }

    private List<String> names(String infix, int n) {
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(prefix + infix + i);
        }
        return names;
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
            List<DisposableServer> tcp = toolkit.bind(Flux.fromIterable(spaces), TcpServer.create().host("0.0.0.0").port(Compare.TCP_PORT)
                    .handle((in, o) -> o.sendString(Mono.just("ns\n")))).collectList().block(Duration.ofMinutes(5));
            List<Connection> udp = toolkit.bind(Flux.fromIterable(spaces), UdpServer.create().host("0.0.0.0").port(Compare.TCP_PORT))
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
            report.row(String.format(Locale.ROOT, "| scale: %d namespaces × (TCP + UDP) listeners: bring-up ms / JVM threads / fds / heap KiB per ns | %.0f / %d / %d / %.1f | one JVM per ns (measured once, × %d): %.0f ms / %d threads / %.0f MiB RSS | — |",
                    count, bindNanos / 1e6, threads, fds, (double) point.get("heap_kib_per_namespace"), count,
                    (double) perJvm.get("ready_ms") * count, (int) perJvm.get("threads") * count, (double) perJvm.get("rss_mib") * count));
        }
        report.put("scale", points);
        report.put("one_jvm_per_namespace", perJvm);
    }

    /** One `ip netns exec NS java OneNamespaceServer` JVM: time to ready, its threads and RSS. Multiplied, say so. */
    private Map<String, Object> oneJvmPerNamespace() throws Exception {
        String name = prefix + "jvm";
        registry.create(name).close();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long s = System.nanoTime();
        Process p = new ProcessBuilder("ip", "netns", "exec", name, java, "-cp", System.getProperty("java.class.path"),
                OneNamespaceServer.class.getName(), Integer.toString(Compare.TCP_PORT)).redirectErrorStream(true).start();
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

    /** Used heap after three full collections (also HeapPerNamespace's measure). */
    static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }


    /**
     * {@code ntk tour --count N} for the largest N whose namespaces, listeners and checks fit the
     * descriptor limit (the tour works it out and refuses more), run as its own JVM.
     */
    private void largestCount() throws Exception {
        Path jar = Path.of("samples", "target", "ntk.jar");
        if (quick || !Files.isRegularFile(jar)) {
            report.note("largest_count", "largest count: not run (" + (quick ? "--quick" : jar + " not built") + ")");
            return;
        }
        long limit = openFilesLimit();
        int count = (int) Math.max(1, (limit - 2248) / 4); // the tour's own sum: 4 per namespace, 2248 besides (256 checks in flight)
        Path json = Path.of("bench", "target", "tour-largest.json");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-jar", jar.toString(), "tour", "--count", Integer.toString(count), "--json", json.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            report.note("largest_count", "largest count: ntk tour --count " + count + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + ")");
            return;
        }
        String text = Files.readString(json).trim();
        report.put("largest_count", new Json.Raw(text));
        report.row("| largest count in " + limit + " descriptors: `ntk tour --count " + count + "` (TCP, UDP, HTTP listeners and checks) | "
                + text.replace("\"", "").replace("{", "").replace("}", "") + " | — | — |");
    }

    private static long openFilesLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return v.equals("unlimited") ? 1 << 20 : Long.parseLong(v);
            }
        }
        return 1024;
    }
}

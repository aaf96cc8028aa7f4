package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.reactor.ServingEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Namespaces made by iproute2 while {@code serve(watch(...))} follows them:
 * <ol>
 *   <li>latency: from the start of {@code ip netns add NAME && ip -n NAME link set lo up} to the first
 *       connection the server in NAME accepts (a client at home connects into NAME through the toolkit,
 *       retrying every millisecond from the moment the command has returned), p50/p99 over sequential rounds;</li>
 *   <li>a burst: 1000 names added by one {@code ip -batch}, time until all are served, then deleted by
 *       another, time until all are released;</li>
 *   <li>churn: batches of 100 added, served, deleted and released, for a fixed time: the add+delete rate
 *       held, and descriptors, threads and meters before and after.</li>
 * </ol>
 * <pre>java -cp bench/target/benchmarks.jar dev.netnstoolkit.bench.WatchBench [--quick]</pre>
 * Needs root. Names are {@code ntk-wb-PID-*}; only those are deleted, on every exit path. Traffic is on
 * loopback inside them. Writes {@code bench/target/watch.json}.
 */
public final class WatchBench {

    private static final int PORT = 19500;

    private final boolean quick;
    private final String prefix = HarnessRun.prefix("wb");
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final StringBuilder table = new StringBuilder();
    private final Map<String, Long> firstAccept = new ConcurrentHashMap<>();
    private final Map<String, Long> served = new ConcurrentHashMap<>();
    private final AtomicLong stopped = new AtomicLong();

    private WatchBench(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        WatchBench b = new WatchBench(List.of(args).contains("--quick"));
        HarnessRun.exitWith("watch bench", b.prefix, b::run);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        Path out = Path.of("bench", "target");
        Files.createDirectories(out);
        json.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
                "java", System.getProperty("java.version"), "os", System.getProperty("os.version"), "quick", quick));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Netns netns = Netns.builder().meterRegistry(meters).build();
        TcpServer server = TcpServer.create().host("0.0.0.0").port(PORT)
                .doOnConnection(c -> firstAccept.putIfAbsent(Netns.namespaceOf(c).label(), System.nanoTime()))
                .handle((in, outbound) -> outbound.sendString(Mono.just("hi\n")).then());
        Disposable serving = netns.serve(netns.watch(Path.of(NamespaceRegistry.runDir()), prefix), server).subscribe(e -> {
            if (e instanceof ServingEvent.Serving) {
                served.put(e.name(), System.nanoTime());
            } else if (e instanceof ServingEvent.Stopped) {
                stopped.incrementAndGet();
            }
        });
        try {
            row("| measure | value |");
            row("|---|---|");
            latency(netns);
            burst();
            churn(meters);
        } finally {
            serving.dispose();
            netns.disposeNow();
        }
        json.put("seconds", (System.nanoTime() - t0) / 1e9);
        Files.writeString(out.resolve("watch.json"), Json.write(json));
        System.out.println();
        System.out.println(table);
        System.out.println("(" + fmt((System.nanoTime() - t0) / 1e9) + " s; written: bench/target/watch.json)");
        return 0;
    }

    // ------------------------------------------------------------ 1. ip netns add -> first accepted connection

    private void latency(Netns netns) throws Exception {
        int rounds = quick ? 30 : 200;
        long[] toAccept = new long[rounds];
        long[] ipCommand = new long[rounds];
        for (int i = -5; i < rounds; i++) { // five rounds of warm-up, not counted
            String name = prefix + "l" + (i + 5);
            long start = System.nanoTime();
            sh("ip netns add " + name + " && ip -n " + name + " link set lo up");
            long added = System.nanoTime();
            try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!firstAccept.containsKey(name) && System.nanoTime() < deadline) {
                    try {
                        netns.connect(ns, netns.tcpClient(ns).host("127.0.0.1").port(PORT))
                                .flatMap(c -> c.inbound().receive().then().doFinally(s -> c.dispose()))
                                .block(Duration.ofSeconds(2));
                    } catch (RuntimeException refusedNotYetServed) {
                        Thread.sleep(1);
                    }
                }
                netns.release(ns).block(Duration.ofSeconds(10)); // this client's pool for the name
            }
            Long accepted = firstAccept.get(name);
            if (accepted == null) {
                throw new IllegalStateException("no connection accepted in " + name + " within 10 s");
            }
            if (i >= 0) {
                toAccept[i] = accepted - start;
                ipCommand[i] = added - start;
            }
            sh("ip netns delete " + name);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rounds", rounds);
        m.put("add_to_first_accept_ms_p50", Stats.percentile(toAccept, 50) / 1e6);
        m.put("add_to_first_accept_ms_p99", Stats.percentile(toAccept, 99) / 1e6);
        m.put("ip_commands_ms_p50", Stats.percentile(ipCommand, 50) / 1e6);
        long[] afterCommand = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            afterCommand[i] = toAccept[i] - ipCommand[i];
        }
        m.put("after_ip_returned_to_first_accept_ms_p50", Stats.percentile(afterCommand, 50) / 1e6);
        m.put("after_ip_returned_to_first_accept_ms_p99", Stats.percentile(afterCommand, 99) / 1e6);
        json.put("latency", m);
        row("| `ip netns add` + lo up → first accepted connection, p50 / p99 (" + rounds + " rounds) | "
                + fmt(Stats.percentile(toAccept, 50) / 1e6) + " / " + fmt(Stats.percentile(toAccept, 99) / 1e6) + " ms |");
        row("| of which the two `ip` commands, p50 | " + fmt(Stats.percentile(ipCommand, 50) / 1e6) + " ms |");
        row("| from the commands' return → first accepted connection, p50 / p99 | "
                + fmt(Stats.percentile(afterCommand, 50) / 1e6) + " / " + fmt(Stats.percentile(afterCommand, 99) / 1e6) + " ms |");
    }

    // ------------------------------------------------------------ 2. 1000 at once

    private void burst() throws Exception {
        int n = 1000;
        served.clear();
        long stoppedBefore = stopped.get();
        List<String> adds = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            adds.add("netns add " + prefix + "b" + i);
            deletes.add("netns delete " + prefix + "b" + i);
        }
        long start = System.nanoTime();
        batch(adds);
        long added = System.nanoTime();
        awaitCount(() -> served.keySet().stream().filter(k -> k.startsWith(prefix + "b")).count(), n);
        long allServed = System.nanoTime();
        batch(deletes);
        awaitCount(() -> stopped.get() - stoppedBefore, n);
        long allReleased = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("namespaces", n);
        m.put("ip_batch_add_ms", (added - start) / 1e6);
        m.put("all_served_ms", (allServed - start) / 1e6);
        m.put("all_released_after_delete_ms", (allReleased - allServed) / 1e6);
        json.put("burst", m);
        row("| " + n + " added by one `ip -batch`: the batch / all served | " + fmt((added - start) / 1e6) + " / "
                + fmt((allServed - start) / 1e6) + " ms |");
        row("| " + n + " deleted by one `ip -batch` → all released | " + fmt((allReleased - allServed) / 1e6) + " ms |");
    }

    // ------------------------------------------------------------ 3. add+delete rate held

    private void churn(SimpleMeterRegistry meters) throws Exception {
        int batchSize = 100;
        long seconds = quick ? 5 : 30;
        int fds = ProcessAudit.openFdCount();
        int threads = ProcessAudit.threadCount();
        int meterCount = meters.getMeters().size();
        long cycles = 0;
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        for (int round = 0; System.nanoTime() < end; round++) {
            List<String> adds = new ArrayList<>();
            List<String> deletes = new ArrayList<>();
            for (int i = 0; i < batchSize; i++) {
                adds.add("netns add " + prefix + "c" + round + "-" + i);
                deletes.add("netns delete " + prefix + "c" + round + "-" + i);
            }
            String roundPrefix = prefix + "c" + round + "-";
            long stoppedBefore = stopped.get();
            batch(adds);
            awaitCount(() -> served.keySet().stream().filter(k -> k.startsWith(roundPrefix)).count(), batchSize);
            batch(deletes);
            awaitCount(() -> stopped.get() - stoppedBefore, batchSize);
            served.keySet().removeIf(k -> k.startsWith(roundPrefix));
            cycles += batchSize;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        int fdsAfter = settledFds(fds);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", elapsed);
        m.put("cycles", cycles);
        m.put("cycles_per_second", cycles / elapsed);
        m.put("fds_before", fds);
        m.put("fds_after", fdsAfter);
        m.put("threads_before", threads);
        m.put("threads_after", ProcessAudit.threadCount());
        m.put("meters_before", meterCount);
        m.put("meters_after", meters.getMeters().size());
        json.put("churn", m);
        row("| add → served → delete → released, batches of " + batchSize + " for " + fmt(elapsed) + " s | "
                + cycles + " cycles, " + fmt(cycles / elapsed) + " /s |");
        row("| descriptors / threads / meters before → after the churn | " + fds + " → " + fdsAfter + " / " + threads
                + " → " + ProcessAudit.threadCount() + " / " + meterCount + " → " + meters.getMeters().size() + " |");
    }

    // ------------------------------------------------------------ helpers

    private static int settledFds(int expected) throws InterruptedException {
        int now = ProcessAudit.openFdCount();
        for (int i = 0; i < 100 && now != expected; i++) {
            Thread.sleep(20);
            now = ProcessAudit.openFdCount();
        }
        return now;
    }

    private static void awaitCount(java.util.function.LongSupplier count, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (count.getAsLong() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + count.getAsLong() + " of " + n + " within 60 s");
            }
            Thread.sleep(1);
        }
    }

    private static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("`" + command + "` failed: " + output.trim());
        }
    }

    private static void batch(List<String> commands) throws IOException, InterruptedException {
        Path file = Files.createTempFile("ntk-wb", ".txt");
        try {
            Files.write(file, commands);
            sh("ip -batch " + file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Deletes every name with this run's prefix (and only those). */

    private void row(String line) {
        table.append(line).append('\n');
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v);
    }
}

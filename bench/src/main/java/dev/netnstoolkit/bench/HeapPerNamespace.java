package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.netty.udp.UdpServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

/**
 * Heap per namespace, part by part: what a namespace handle costs, what each kind of listener adds, and
 * what a client's first connect adds (the tour's figure is all of them at once). Each part is measured
 * over N fresh namespaces (used heap after GC, before and after, divided by N), after a warm-up round of
 * the same part, and everything of the part is released before the next one.
 * <pre>java -cp bench/target/benchmarks.jar dev.netnstoolkit.bench.HeapPerNamespace [--quick]</pre>
 * Needs root. Names are {@code ntk-heap-PID-*}; only those are deleted, on every exit path. Traffic is on
 * loopback inside them. Writes {@code bench/target/heap.json} and {@code heap.md}.
 */
public final class HeapPerNamespace {

    private static final int PORT = 7000;

    private final boolean quick;
    private final String prefix = HarnessRun.prefix("heap");
    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private int made;

    private HeapPerNamespace(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        HeapPerNamespace b = new HeapPerNamespace(List.of(args).contains("--quick"));
        HarnessRun.exitWith("heap bench", b.prefix, b::run);
    }

    private int run() throws Exception {
        int n = quick ? 300 : 1000;
        TcpServer tcp = TcpServer.create().host("0.0.0.0").port(PORT).handle((in, out) -> Mono.never());
        UdpServer udp = UdpServer.create().host("0.0.0.0").port(PORT)
                .handle((in, out) -> in.receiveObject().cast(DatagramPacket.class)
                        .map(p -> new DatagramPacket(Unpooled.copiedBuffer("ok", StandardCharsets.UTF_8), p.sender()))
                        .concatMap(out::sendObject, 1));
        HttpServer http = HttpServer.create().host("0.0.0.0").port(PORT).route(r -> r.get("/", (req, res) -> res.sendString(Mono.just("ok"))));
        Map<String, BiFunction<Netns, NetNamespace, Mono<?>>> parts = new LinkedHashMap<>();
        parts.put("namespace handle (open, lo up)", (netns, ns) -> Mono.just(ns));
        parts.put("+ TCP listener", (netns, ns) -> netns.bind(ns, tcp));
        parts.put("+ UDP listener", (netns, ns) -> netns.bind(ns, udp));
        parts.put("+ HTTP listener", (netns, ns) -> netns.bind(ns, http));
        parts.put("+ HTTP listener, one request from the namespace's pooled client (keep-alive off)", (netns, ns) -> netns.bind(ns, http)
                .flatMap(s -> oneRequest(netns.httpClient(ns).keepAlive(false)).thenReturn(s)));
        parts.put("+ HTTP listener, one request from an unpooled client (netns.unpooledHttpClient)", (netns, ns) -> netns.bind(ns, http)
                .flatMap(s -> oneRequest(netns.unpooledHttpClient(ns)).thenReturn(s)));
        parts.put("+ TCP listener, one unpooled connect (closed)", (netns, ns) -> netns.bind(ns, tcp)
                .flatMap(s -> netns.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(PORT))
                        .doOnNext(c -> c.disposeNow()).thenReturn(s)));
        Map<String, Object> json = new LinkedHashMap<>();
        StringBuilder table = new StringBuilder("| part | KiB per namespace (" + n + " namespaces, used heap after GC) |\n|---|---|\n");
        // one toolkit for every part: its loops' own buffers are made in the first warm-up, not counted
        Netns netns = Netns.create();
        try {
            for (Map.Entry<String, BiFunction<Netns, NetNamespace, Mono<?>>> part : parts.entrySet()) {
                measure(netns, part.getValue(), 20); // warm-up: classes, caches
                double kib = measure(netns, part.getValue(), n);
                json.put(part.getKey(), Math.round(kib * 100) / 100.0);
                table.append(String.format(Locale.ROOT, "| %s | %.2f |%n", part.getKey(), kib));
                System.out.printf(Locale.ROOT, "%-84s %6.2f KiB%n", part.getKey(), kib);
            }
        } finally {
            netns.disposeNow();
        }
        json.put("namespaces", n);
        Path out = Path.of("bench", "target");
        Files.createDirectories(out);
        Files.writeString(out.resolve("heap.json"), Json.write(json));
        Files.writeString(out.resolve("heap.md"), table.toString());
        System.out.println("(written: bench/target/heap.json, heap.md)");
        return 0;
    }

    private static Mono<String> oneRequest(HttpClient client) {
        return client.get().uri("http://127.0.0.1:" + PORT + "/").responseContent().aggregate().asString();
    }

    /** KiB of heap per namespace that {@code part} holds, over {@code n} fresh namespaces; all of it released after. */
    private double measure(Netns netns, BiFunction<Netns, NetNamespace, Mono<?>> part, int n) {
        List<String> names = IntStream.range(0, n).mapToObj(i -> prefix + (made++)).toList();
        long before = CompareScale.usedHeapAfterGc();
        List<NetNamespace> spaces = registry.createAll(names, CreateOptions.defaults());
        List<Object> held = new ArrayList<>();
        try {
            Flux.fromIterable(spaces).flatMap(ns -> part.apply(netns, ns), 32).doOnNext(held::add).blockLast(Duration.ofMinutes(2));
            long after = CompareScale.usedHeapAfterGc();
            return Math.max(0, after - before) / 1024.0 / n;
        } finally {
            held.forEach(h -> {
                if (h instanceof Disposable d) {
                    d.dispose();
                }
            });
            Flux.fromIterable(spaces).flatMap(netns::release).blockLast(Duration.ofMinutes(1));
            names.forEach(registry::delete);
        }
    }
}

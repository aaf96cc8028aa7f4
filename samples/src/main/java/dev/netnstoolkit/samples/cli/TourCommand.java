package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.LinkEvent;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.netnstoolkit.reactor.Netns;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpClient;
import reactor.netty.udp.UdpClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The main demo: creates many namespaces, brings up TCP, UDP and HTTP servers in all of them from one
 * process, connects into every one with the reactive clients, checks each answer came from the right
 * namespace, prints a table (threads, fds, timings), and removes everything it created.
 */
@Command(name = "tour", description = "The main demo: many namespaces from one JVM, checked and cleaned up (needs root).")
final class TourCommand implements Callable<Integer> {

    @Option(names = "--count", defaultValue = "100", description = "Namespaces to create (default ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures to FILE as JSON (for the bench harness).")
    java.nio.file.Path json;

    /** Namespaces checked at once: their TCP, UDP and HTTP checks run side by side. */
    static final int CHECKS_IN_FLIGHT = 256;
    /** Open descriptors that stay per namespace: its handle and three listeners. */
    static final int FDS_PER_NAMESPACE = 4;
    /** Descriptors of checks in flight (a TCP connection both ends, a UDP socket, an HTTP connection both ends, an ICMP socket, two netlink sockets) and the JVM's own. */
    static final int FDS_BESIDES = CHECKS_IN_FLIGHT * 8 + 200;

    static final int TCP_PORT = 7000;
    static final int UDP_PORT = 7000;
    static final int HTTP_PORT = 8080;

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final List<NetNamespace> created = new ArrayList<>();

    @Override
    public Integer call() throws java.io.IOException {
        if (count < 1 || count > 100_000) {
            throw new IllegalArgumentException("--count must be between 1 and 100000, not " + count);
        }
        Limits.requireDescriptors("tour --count " + count, (long) count * FDS_PER_NAMESPACE + FDS_BESIDES,
                FDS_PER_NAMESPACE + " per namespace (its handle, TCP, UDP and HTTP listeners) and " + FDS_BESIDES
                        + " for the checks in flight and the JVM; at this limit --count "
                        + Math.max(0, (Limits.openFiles() - FDS_BESIDES) / FDS_PER_NAMESPACE) + " fits");
        OwnedNamespaces.reclaimDead(false).forEach(line -> System.out.println("ntk tour: " + line));
        try (OwnedNamespaces owned = OwnedNamespaces.forRun("tour", "ntk tour")) {
            return tour(owned);
        } catch (NamespacePermissionException e) {
            System.err.println("ntk tour: " + e.getMessage());
            System.err.println("ntk tour: it needs " + e.missingCapability() + " to create network namespaces. Run it as root"
                    + " (sudo java -jar samples/target/ntk.jar tour), or rootless in a private user + mount namespace:"
                    + " unshare -Urnm sh -c 'mount -t tmpfs tmpfs /run && java -jar samples/target/ntk.jar tour'");
            return 1;
        }
    }

    private int tour(OwnedNamespaces owned) throws java.io.IOException {
        int threadsBefore = ProcessAudit.threadCount();
        long heapBefore = usedHeapAfterGc();
        long t0 = System.nanoTime();
        created.addAll(owned.create(count));
        long createNanos = System.nanoTime() - t0;

        Netns netns = Netns.create();
        NameServers servers = new NameServers(TCP_PORT, UDP_PORT, HTTP_PORT);
        try {
            long t1 = System.nanoTime();
            int listeners = servers.bind(netns, created, Duration.ofSeconds(120));
            long bindNanos = System.nanoTime() - t1;

            AtomicLong tcp = new AtomicLong();
            AtomicLong udp = new AtomicLong();
            AtomicLong http = new AtomicLong();
            AtomicLong icmp = new AtomicLong();
            AtomicLong links = new AtomicLong();
            java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            Progress checking = new Progress("checking every answer", count);
            long t2 = System.nanoTime();
            Flux.fromIterable(created).flatMap(ns -> Flux.merge(
                            check(ns, "tcp", tcpAnswer(netns, ns), ns.label(), tcp, errors),
                            check(ns, "udp", udpAnswer(netns, ns), ns.label() + " ping", udp, errors),
                            // one request per namespace: no pool, no connection kept after it
                            check(ns, "http", netns.unpooledHttpClient(ns).get().uri("http://127.0.0.1:" + HTTP_PORT + "/")
                                    .responseContent().aggregate().asString().map(String::trim), ns.label(), http, errors),
                            // an ICMP echo from inside, on a socket made there by the generic path
                            check(ns, "icmp", netns.ping(ns, loopback, 1, Duration.ZERO, Duration.ofSeconds(5))
                                    .map(r -> r.received() == 1 ? ns.label() : "no echo reply"), ns.label(), icmp, errors))
                    .then().doFinally(sig -> checking.step()), CHECKS_IN_FLIGHT)
                    .blockLast(Duration.ofSeconds(300));
            checking.done();
            long checkNanos = System.nanoTime() - t2;
            // then a veth pair added and deleted from inside each, seen come and go by rtnetlink from inside (timed
            // apart: the kernel serialises link changes, which would dominate the answers above)
            long t3 = System.nanoTime();
            Flux.fromIterable(created).flatMap(ns -> check(ns, "link", linkAnswer(netns, ns), ns.label(), links, errors), CHECKS_IN_FLIGHT)
                    .blockLast(Duration.ofSeconds(600));
            long linkNanos = System.nanoTime() - t3;

            NetNamespace first = created.get(0);
            System.out.println("`ip -br addr` and `ss -tuln` inside " + first.label() + " (ntk exec):");
            registry.exec(first, List.of("ip", "-br", "addr"), System.getenv());
            registry.exec(first, List.of("ss", "-tuln"), System.getenv());
            int threads = ProcessAudit.threadCount();
            int fds = ProcessAudit.openFdCount();
            List<String> away = ProcessAudit.threadsAwayFromHome();
            double heapPerNs = Math.max(0, usedHeapAfterGc() - heapBefore) / 1024.0 / count;
            double answersPerSecond = (tcp.get() + udp.get() + http.get() + icmp.get()) / (checkNanos / 1e9);

            Table table = new Table();
            table.row("namespaces (created, lo up)", count + String.format(" in %.0f ms (%.2f ms each)", createNanos / 1e6, createNanos / 1e6 / count));
            table.row("listeners (TCP :" + TCP_PORT + ", UDP :" + UDP_PORT + ", HTTP :" + HTTP_PORT + ")", listeners + String.format(" bound in %.0f ms", bindNanos / 1e6));
            table.row("TCP connections, right namespace", tcp.get() + " / " + count);
            table.row("UDP datagrams, right namespace", udp.get() + " / " + count);
            table.row("HTTP requests, right namespace", http.get() + " / " + count);
            table.row("ICMP echo replies to pings from inside", icmp.get() + " / " + count);
            table.row("veth pairs added, removed, seen inside", links.get() + " / " + count
                    + String.format(" in %.0f ms", linkNanos / 1e6));
            table.row("errors", Integer.toString(errors.size()));
            table.row("time to check all answers", String.format("%.0f ms (%.0f answers/s, %d namespaces at a time)",
                    checkNanos / 1e6, answersPerSecond, CHECKS_IN_FLIGHT));
            table.row("JVM threads before / now", threadsBefore + " / " + threads + " (for " + count + " namespaces)");
            table.row("open fds now", fds + String.format(" (%.2f per namespace: its handle and 3 listeners)", (double) fds / count));
            table.row("heap per namespace", String.format("%.1f KiB (handles, listeners, pools; after GC)", heapPerNs));
            table.row("threads outside home namespace", Integer.toString(away.size()));
            table.print(System.out);
            errors.stream().limit(10).forEach(e -> System.out.println("  error: " + e));

            boolean ok = errors.isEmpty() && away.isEmpty() && tcp.get() == count && udp.get() == count && http.get() == count
                    && icmp.get() == count && links.get() == count;
            if (json != null) {
                java.nio.file.Files.writeString(json, String.format(java.util.Locale.ROOT,
                        "{\"namespaces\": %d, \"create_ms\": %.1f, \"bring_up_ms\": %.1f, \"check_ms\": %.1f, \"answers_per_s\": %.0f, \"veth_links_ms\": %.1f,"
                                + " \"jvm_threads_before\": %d, \"jvm_threads\": %d, \"open_fds\": %d, \"heap_kib_per_namespace\": %.2f,"
                                + " \"threads_outside_home\": %d, \"fd_limit\": %d, \"ok\": %b}%n",
                        count, createNanos / 1e6, bindNanos / 1e6, checkNanos / 1e6, answersPerSecond, linkNanos / 1e6, threadsBefore, threads, fds,
                        heapPerNs, away.size(), Limits.openFiles(), ok));
            }
            System.out.println(ok ? "tour: OK, removing everything it created" : "tour: FAILED " + away);
            return ok ? 0 : 1;
        } finally {
            servers.dispose();
            netns.disposeNow();
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static Mono<String> tcpAnswer(Netns netns, NetNamespace ns) {
        return netns.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(TCP_PORT))
                .flatMap(c -> c.inbound().receive().asString().next().map(String::trim).doFinally(s -> c.dispose()));
    }

    /** The links of {@code ns}: once they are listed, a veth pair is added; once it is seen, it is deleted and seen go. */
    private static Mono<String> linkAnswer(Netns netns, NetNamespace ns) {
        return netns.links(ns)
                .concatMap(e -> e.link().equals("lo") && e.kind().name().startsWith("PRESENT")
                        ? netns.addVethPair(ns, "ntk-tour0", "ntk-tour1").thenReturn(e) : Mono.just(e))
                .concatMap(e -> e.link().equals("ntk-tour0") && e.kind() == LinkEvent.Kind.ADDED
                        ? netns.deleteLink(ns, "ntk-tour0").thenReturn(e) : Mono.just(e))
                .filter(e -> e.link().equals("ntk-tour0") && e.kind() == LinkEvent.Kind.REMOVED)
                .next()
                .map(e -> ns.label());
    }

    private static Mono<String> udpAnswer(Netns netns, NetNamespace ns) {
        return netns.connect(ns, UdpClient.create().host("127.0.0.1").port(UDP_PORT))
                .flatMap(c -> c.outbound().sendString(Mono.just("ping")).then()
                        .then(c.inbound().receive().asString().next()).doFinally(s -> c.dispose()));
    }

    private static Mono<Void> check(NetNamespace ns, String what, Mono<String> answer, String expected, AtomicLong ok, List<String> errors) {
        return answer.timeout(Duration.ofSeconds(20))
                .doOnNext(a -> {
                    if (a.equals(expected)) {
                        ok.incrementAndGet();
                    } else {
                        errors.add(what + " in " + ns.label() + " answered '" + a + "'");
                    }
                })
                .onErrorResume(e -> {
                    errors.add(what + " in " + ns.label() + ": " + e);
                    return Mono.empty();
                })
                .then();
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceEvent;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.test.StepVerifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The watch of /run/netns and serving that follows it, driven by iproute2 (`ip netns add/delete`, `ip -batch`). */
@ExtendWith(Privilege.class)
class WatchTest {

    static final int PORT = 18600;
    static final Path RUN = Path.of(NamespaceRegistry.runDir());

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private Invariants.Snapshot before;
    private Netns toolkit;

    @BeforeEach
    void setUp() {
        before = Invariants.snapshot();
        toolkit = Netns.builder().loopThreads(2).dedicatedThreads(1).build();
    }

    @AfterEach
    void tearDown() {
        toolkit.disposeNow();
        netns.cleanUp();
        before.assertClean(netns.prefix());
    }

    @Test
    void aSnapshotThenEveryAddAndDeleteOfIproute2() {
        String p = netns.prefix();
        Commands.ok("ip", "netns", "add", p + "1");
        StepVerifier.create(toolkit.watch(RUN, p))
                .assertNext(e -> assertThat(e).isInstanceOf(NamespaceEvent.Added.class).extracting(NamespaceEvent::name).isEqualTo(p + "1"))
                .then(() -> Commands.ok("ip", "netns", "add", p + "2"))
                .assertNext(e -> {
                    assertThat(e).isInstanceOf(NamespaceEvent.Added.class).extracting(NamespaceEvent::name).isEqualTo(p + "2");
                    assertThat(((NamespaceEvent.Added) e).id()).isEqualTo(NamespaceRegistry.system().idOfNamespaceAt(RUN.resolve(p + "2").toString()));
                })
                .then(() -> Commands.ok("ip", "netns", "delete", p + "1"))
                .assertNext(e -> assertThat(e).isEqualTo(new NamespaceEvent.Removed(p + "1", RUN.resolve(p + "1").toString(),
                        ((NamespaceEvent.Removed) e).id())))
                .then(() -> Commands.ok("sh", "-c", "ip netns delete " + p + "2 && ip netns add " + p + "2"))
                .assertNext(e -> assertThat(e).isInstanceOf(NamespaceEvent.Removed.class).extracting(NamespaceEvent::name).isEqualTo(p + "2"))
                .assertNext(e -> assertThat(e).isInstanceOf(NamespaceEvent.Added.class).extracting(NamespaceEvent::name).isEqualTo(p + "2"))
                .then(() -> Commands.ok("ip", "netns", "add", "other-" + p)) // not matching the prefix: not told
                .then(() -> Commands.ok("ip", "netns", "delete", "other-" + p))
                .expectNoEvent(Duration.ofMillis(300))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }

    @Test
    void aFileThatIsNotANamespaceIsAWarningAndAMissingDirectoryATypedError() throws IOException {
        String p = netns.prefix();
        Path odd = RUN.resolve(p + "odd");
        Files.writeString(odd, "not a namespace");
        try {
            StepVerifier.create(toolkit.watch(RUN, p))
                    .assertNext(e -> assertThat(e).isInstanceOf(NamespaceEvent.Unusable.class).extracting(NamespaceEvent::name)
                            .isEqualTo(p + "odd"))
                    .thenCancel()
                    .verify(Duration.ofSeconds(30));
        } finally {
            Files.delete(odd);
        }
        StepVerifier.create(toolkit.watch(Path.of("/run/ntk-no-such-dir-" + p), ""))
                .expectError(NamespaceNotFoundException.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void itReadsOnlyWhileTheSubscriberAsks() {
        String p = netns.prefix();
        StepVerifier.create(toolkit.watch(RUN, p), 0)
                .then(() -> Commands.ok("sh", "-c", IntStream.range(0, 5).mapToObj(i -> "ip netns add " + p + "b" + i)
                        .collect(Collectors.joining(" && "))))
                .expectNoEvent(Duration.ofMillis(500))
                .thenRequest(5)
                .expectNextCount(5)
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }

    @Test
    void servingFollowsTheWatchAndReleasesEverythingOfANamespaceThatGoes() throws Exception {
        String p = netns.prefix();
        TcpServer server = TcpServer.create().host("127.0.0.1").port(PORT)
                .handle((in, out) -> out.sendString(Mono.just(Netns.namespaceOf(in).label() + "\n")).then(in.receive().then()));
        List<ServingEvent> seen = new CopyOnWriteArrayList<>();
        Sinks.Empty<Void> stop = Sinks.empty();
        toolkit.serve(toolkit.watch(RUN, p).takeUntilOther(stop.asMono()), server).subscribe(seen::add);
        Commands.ok("ip", "netns", "add", p + "a");
        Commands.ok("ip", "-n", p + "a", "link", "set", "lo", "up");
        awaitSize(seen, 1);
        assertThat(seen.get(0)).isInstanceOf(ServingEvent.Serving.class).extracting(ServingEvent::name).isEqualTo(p + "a");
        String ino = "net:[" + seen.get(0).id().ino() + "]";
        // a client inside (through the toolkit, pooled) and the server's accepted connection
        try (var ns = NamespaceRegistry.system().open(p + "a")) {
            String hello = toolkit.connect(ns, toolkit.tcpClient(ns).host("127.0.0.1").port(PORT))
                    .flatMap(c -> c.inbound().receive().asString().next()).block(Duration.ofSeconds(10));
            assertThat(hello).isEqualTo(p + "a\n");
            assertThat(toolkit.namespacesWithClients()).isEqualTo(1);
            toolkit.release(ns).block(Duration.ofSeconds(10)); // this test's own handle and its pool
        }
        Commands.ok("ip", "netns", "delete", p + "a");
        awaitSize(seen, 2);
        assertThat(seen.get(1)).isEqualTo(new ServingEvent.Stopped(p + "a", seen.get(0).id()));
        // nothing of ours keeps it alive: no descriptor of the namespace, no socket in it
        for (int i = 0; i < 100 && (!fdsOf(ino).isEmpty() || !ProcessAudit.socketsOutsideHome().isEmpty()); i++) {
            Thread.sleep(20);
        }
        assertThat(fdsOf(ino)).isEmpty();
        assertThat(ProcessAudit.socketsOutsideHome()).isEmpty();
        assertThat(toolkit.namespacesWithClients()).isZero();
        stop.tryEmitEmpty();
    }

    @Test
    void aThousandNamespacesAddedAtOnceWithIpBatchAreAllServedThenReleasedToTheBaseline() throws Exception {
        String p = netns.prefix();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Netns metered = Netns.builder().loopThreads(2).dedicatedThreads(1).meterRegistry(meters).build();
        try {
            List<ServingEvent> seen = new CopyOnWriteArrayList<>();
            Sinks.Empty<Void> stop = Sinks.empty();
            metered.serve(metered.watch(RUN, p).takeUntilOther(stop.asMono()),
                    TcpServer.create().host("0.0.0.0").port(PORT)).subscribe(seen::add);
            // one namespace first, so that whatever the first bind loads once is in the baseline
            Commands.ipBatch(List.of("netns add " + p + "warm"));
            awaitSize(seen, 1);
            Commands.ipBatch(List.of("netns delete " + p + "warm"));
            awaitSize(seen, 2);
            int fds = awaitFds(ProcessAudit.openFdCount());
            int threads = ProcessAudit.threadCount();
            int meterCount = meters.getMeters().size();

            Commands.ipBatch(IntStream.range(0, 1000).mapToObj(i -> "netns add " + p + "c" + i).toList());
            awaitSize(seen, 1002);
            assertThat(seen.subList(2, 1002)).allMatch(e -> e instanceof ServingEvent.Serving);
            assertThat(meters.getMeters().size()).isGreaterThan(meterCount); // the binds' switches were metered per namespace
            Commands.ipBatch(IntStream.range(0, 1000).mapToObj(i -> "netns delete " + p + "c" + i).toList());
            awaitSize(seen, 2002);
            assertThat(seen.subList(1002, 2002)).allMatch(e -> e instanceof ServingEvent.Stopped);

            // not above the baseline (a close of the warm-up namespace still under way may have been counted in it, once in CI)
            assertThat(awaitFds(fds)).isLessThanOrEqualTo(fds);
            assertThat(meters.getMeters().size()).isEqualTo(meterCount);
            assertThat(ProcessAudit.threadCount()).isLessThanOrEqualTo(threads);
            assertThat(ProcessAudit.threadsAwayFromHome()).isEmpty();
            assertThat(ProcessAudit.socketsOutsideHome()).isEmpty();
            stop.tryEmitEmpty();
        } finally {
            metered.disposeNow();
        }
    }

    /** The open descriptor count once it has settled at {@code expected} (closes complete on the loops), or as it is after 2 s. */
    private static int awaitFds(int expected) throws InterruptedException {
        int now = ProcessAudit.openFdCount();
        for (int i = 0; i < 100 && now != expected; i++) {
            Thread.sleep(20);
            now = ProcessAudit.openFdCount();
        }
        return now;
    }

    private static void awaitSize(List<?> list, int n) throws InterruptedException {
        for (int i = 0; i < 1500 && list.size() < n; i++) {
            Thread.sleep(20);
        }
        assertThat(list).hasSizeGreaterThanOrEqualTo(n);
    }

    private static List<String> fdsOf(String ino) {
        List<String> out = new ArrayList<>();
        for (String fd : ProcessAudit.describeOpenFds()) {
            if (fd.endsWith(ino)) {
                out.add(fd);
            }
        }
        return out;
    }
}

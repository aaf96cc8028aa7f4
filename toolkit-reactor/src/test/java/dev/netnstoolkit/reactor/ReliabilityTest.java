package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Resource exhaustion and leakage across process boundaries: bounded queue, fd limits, close-on-exec. */
@ExtendWith(Privilege.class)
class ReliabilityTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    @Test
    void aBurstOf100000TasksHitsTheQueueBoundWithErrorSignalsNotMemoryOrHangs() throws Exception {
        NetNamespace ns = netns.create();
        Invariants.Snapshot before = Invariants.snapshot();
        int capacity = 1000;
        NamespaceScheduler scheduler = NamespaceScheduler.builder().dedicatedThreads(1).queueCapacity(capacity).build();
        AtomicInteger maxQueued = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                maxQueued.accumulateAndGet(scheduler.queuedTasks(), Math::max);
                Thread.onSpinWait();
            }
        }, "queue-sampler");
        sampler.start();
        AtomicLong ok = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        AtomicLong other = new AtomicLong();
        Flux.range(0, 100_000)
                .flatMap(i -> scheduler.call(ns, () -> {
                            SocketChannel.open().close();
                            return i;
                        })
                        .doOnNext(v -> ok.incrementAndGet())
                        .onErrorResume(e -> {
                            (e instanceof QueueFullException ? rejected : other).incrementAndGet();
                            return Mono.empty();
                        }), 100_000)
                .blockLast(Duration.ofMinutes(2));
        sampling.set(false);
        sampler.join();
        assertThat(ok.get() + rejected.get()).isEqualTo(100_000);
        assertThat(other).hasValue(0);
        assertThat(rejected.get()).isPositive();
        assertThat(ok.get()).isGreaterThanOrEqualTo(capacity);
        assertThat(maxQueued.get()).isLessThanOrEqualTo(capacity);
        scheduler.dispose();
        assertThat(scheduler.awaitTermination(Duration.ofSeconds(10))).isTrue();
        before.assertClean();
    }

    @Test
    void aChildJvmWithALowFdLimitGetsTypedErrorsAndRecovers() {
        NetNamespace ns = netns.create();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Commands.Result r = Commands.run("prlimit", "--nofile=256:256", java, "-cp", System.getProperty("java.class.path"),
                FdLimitProbe.class.getName(), ns.name().orElseThrow());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).containsPattern("exhausted after \\d+: NamespaceException errno=24 syscall=open");
        assertThat(r.out()).contains("socket while exhausted: SocketException: Too many open files");
        assertThat(r.out()).contains("recovered: true");
    }

    @Test
    void theFirstNioUseInsideANamespaceDoesNotPinIt() {
        NetNamespace ns = netns.create();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Commands.Result r = Commands.run(java, "-cp", System.getProperty("java.class.path"),
                FirstNioUseProbe.class.getName(), ns.name().orElseThrow());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("outside home: []");
    }

    @Test
    void everyDescriptorTheToolkitOpensIsCloseOnExecAndChildrenSeeOnlyStdio() throws IOException {
        List<NetNamespace> spaces = netns.create(2);
        Invariants.Snapshot before = Invariants.snapshot();
        List<String> baseline = fdNumbers();
        Netns toolkit = Netns.builder().loopThreads(1).dedicatedThreads(1).build();
        Path out = Files.createTempFile("ntk-child-fds", ".txt");
        try {
            List<DisposableServer> servers = toolkit.bind(Flux.fromIterable(spaces), TcpServer.create().host("127.0.0.1").port(18300)
                    .handle((in, o) -> o.sendString(Mono.just("x")).then(in.receive().then())))
                    .collectList().block(Duration.ofSeconds(10));
            List<Connection> clients = new ArrayList<>();
            for (NetNamespace ns : spaces) {
                clients.add(toolkit.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(18300)).block(Duration.ofSeconds(10)));
            }
            List<String> opened = new ArrayList<>(fdNumbers());
            opened.removeAll(baseline);
            assertThat(opened).as("descriptors the toolkit opened").hasSizeGreaterThan(6);
            for (String fd : opened) {
                String flags = null;
                try {
                    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo", fd))) {
                        if (line.startsWith("flags:")) {
                            flags = line.substring(6).trim();
                        }
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    continue; // closed meanwhile
                }
                assertThat(Long.parseLong(flags, 8) & 02000000L).as("fd %s (%s) has O_CLOEXEC", fd, link(fd)).isNotZero();
            }
            // a process started in a namespace while all of that is open inherits none of it
            int exit = NamespaceRegistry.system().exec(spaces.get(0), List.of("sh", "-c", "ls /proc/self/fd > \"$0\"", out.toString()),
                    System.getenv());
            assertThat(exit).isZero();
            assertThat(Files.readAllLines(out)).containsExactly("0", "1", "2", "3"); // 3: ls's own directory
            clients.forEach(Connection::disposeNow);
            servers.forEach(DisposableServer::disposeNow);
        } finally {
            toolkit.disposeNow();
            Files.deleteIfExists(out);
        }
        before.assertClean();
    }

    private static List<String> fdNumbers() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static String link(String fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd", fd)).toString();
        } catch (IOException e) {
            return "?";
        }
    }
}

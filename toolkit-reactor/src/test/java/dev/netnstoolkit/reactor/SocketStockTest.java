package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Client sockets made in batches during a burst ({@link SocketStock}): fewer switches, nothing crosses namespaces, nothing kept. */
@ExtendWith(Privilege.class)
class SocketStockTest {

    private static final int CONNECTS = 400;

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Invariants.Snapshot before;
    private Netns toolkit;
    private Netns servers;

    @BeforeEach
    void setUp() {
        before = Invariants.snapshot();
        toolkit = Netns.builder().loopThreads(2).dedicatedThreads(1).meterRegistry(registry).namePrefix("stock").build();
        servers = Netns.builder().loopThreads(1).dedicatedThreads(1).namePrefix("stock-server").build();
    }

    @AfterEach
    void tearDown() {
        toolkit.disposeNow();
        servers.disposeNow();
        netns.cleanUp();
        before.assertClean(netns.prefix()); // threads at home, descriptors back, nothing left in /run/netns
    }

    @Test
    void aBurstOfConnectsSharesSwitchesAndEverySocketIsMadeInItsOwnNamespace() {
        List<NetNamespace> spaces = netns.create(2);
        Invariants.Snapshot beforeBurst = Invariants.snapshot();
        List<DisposableServer> bound = servers.bind(Flux.fromIterable(spaces), NetnsTest.nameServer()).collectList()
                .block(Duration.ofSeconds(10));
        TcpClient client = TcpClient.newConnection().host("127.0.0.1").port(NetnsTest.PORT);
        assertThat(burst(spaces, client)).isEmpty(); // warm: the JIT's first connects come too slowly to count as a burst
        long[] switchesBefore = spaces.stream().mapToLong(ns -> switches(ns)).toArray();
        double[] socketsBefore = spaces.stream().mapToDouble(ns -> sockets(ns)).toArray();
        assertThat(burst(spaces, client)).isEmpty();
        for (int i = 0; i < spaces.size(); i++) {
            NetNamespace ns = spaces.get(i);
            long switched = switches(ns) - switchesBefore[i];
            double made = sockets(ns) - socketsBefore[i];
            // spares left from the warm-up burst may serve a few; never more made than used plus a loop's spares each
            int spares = SocketStock.MAX_SPARES * 2;
            assertThat(made).as("sockets made in " + ns.label()).isBetween((double) CONNECTS / 2 - spares, (double) CONNECTS / 2 + spares);
            System.out.println("socket batches: " + switched + " switches into " + ns.label() + " for " + CONNECTS / 2
                    + " connects, " + (long) made + " sockets made");
            // one switch per socket without batching; a burst shares them
            assertThat(switched).as("switches into " + ns.label() + " for " + CONNECTS / 2 + " connects").isLessThan(CONNECTS / 4); // one per connect without batches
        }
        bound.forEach(DisposableServer::disposeNow);
        beforeBurst.assertClean(); // the spares of the burst closed once it is over (the toolkit is still up)
    }

    /** The two namespaces interleaved, 32 at a time (a burst however slow the machine: 8 per loop and namespace at once); what comes back names the namespace each socket was made in. */
    private List<String> burst(List<NetNamespace> spaces, TcpClient client) {
        return Flux.range(0, CONNECTS)
                .flatMap(i -> {
                    NetNamespace ns = spaces.get(i % 2);
                    return toolkit.connect(ns, client)
                            .flatMap(c -> c.inbound().receive().asString().next().map(String::trim)
                                    .doFinally(signal -> c.dispose())
                                    .map(answer -> answer.equals(ns.label()) ? "" : ns.label() + " got " + answer));
                }, 32)
                .filter(s -> !s.isEmpty())
                .collectList().block(Duration.ofSeconds(60));
    }

    private long switches(NetNamespace ns) {
        return registry.get(SchedulerMetrics.SWITCH).tag("namespace", ns.label()).timer().count();
    }

    private double sockets(NetNamespace ns) {
        return registry.get(SchedulerMetrics.TASKS).tag("namespace", ns.label()).counter().count();
    }

    @Test
    void loneConnectsMakeOneSocketEachAndReleaseClosesSparesAtOnce() throws Exception {
        NetNamespace ns = netns.create();
        AtomicInteger accepted = new AtomicInteger();
        DisposableServer server = servers.bind(ns, TcpServer.create().host("127.0.0.1").port(NetnsTest.PORT)
                .doOnConnection(c -> {
                    accepted.incrementAndGet();
                    c.onDispose(accepted::decrementAndGet);
                })
                .handle((in, out) -> out.sendString(Mono.just(Netns.namespaceOf(in).label() + "\n")).then(in.receive().then())))
                .block(Duration.ofSeconds(10));
        TcpClient client = TcpClient.newConnection().host("127.0.0.1").port(NetnsTest.PORT);
        for (int i = 0; i < 5; i++) { // 50 ms apart: no burst
            Connection c = toolkit.connect(ns, client).block(Duration.ofSeconds(10));
            assertThat(NetnsTest.readLine(c)).isEqualTo(ns.label());
            c.disposeNow();
            Thread.sleep(50);
        }
        assertThat(registry.get(SchedulerMetrics.TASKS).tag("namespace", ns.label()).counter().count()).isEqualTo(5);
        // a burst through a handle of its own, then release(handle) at once: the spares go with it, not at the next sweep
        NetNamespace handle = NamespaceRegistry.system().open(ns.name().orElseThrow());
        await(() -> accepted.get() == 0);
        int fdsBefore = Invariants.openFdCount();
        List<Connection> open = Flux.range(0, 64).flatMap(i -> toolkit.connect(handle, client), 8)
                .collectList().block(Duration.ofSeconds(30));
        assertThat(open).hasSize(64);
        toolkit.release(handle).block(Duration.ofSeconds(10));
        assertThat(open).allMatch(Connection::isDisposed);
        await(() -> accepted.get() == 0); // the server's ends, in this process too, closed (a millisecond or so)
        // checked before the sweep (20 ms after the burst) could have closed spares: the handle's descriptor is gone too
        assertThat(Invariants.openFdCount()).as("descriptors right after release").isLessThan(fdsBefore);
        server.disposeNow();
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}

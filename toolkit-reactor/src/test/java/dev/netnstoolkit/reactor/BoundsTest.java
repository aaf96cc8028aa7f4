package dev.netnstoolkit.reactor;

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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.test.StepVerifier;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every queue has a bound, overflow is a typed error naming it, and nothing grows with namespace churn:
 * pools, resolvers and meters of a namespace go when its handle is closed.
 */
@ExtendWith(Privilege.class)
class BoundsTest {

    static final int PORT = 18400;

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private Invariants.Snapshot before;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Netns toolkit;

    @BeforeEach
    void setUp() {
        before = Invariants.snapshot();
        toolkit = Netns.builder().loopThreads(2).dedicatedThreads(1).queueCapacity(4).acceptBuffer(2)
                .maxConnectionsPerNamespace(1).pendingAcquiresPerNamespace(1).meterRegistry(registry).build();
    }

    @AfterEach
    void tearDown() {
        toolkit.disposeNow();
        netns.cleanUp();
        before.assertClean(netns.prefix());
    }

    @Test
    void pendingAcquiresBeyondTheBoundFailAtOnceNamingIt() {
        NetNamespace ns = netns.create();
        DisposableServer slow = toolkit.bind(ns, HttpServer.create().host("127.0.0.1").port(PORT)
                .handle((req, res) -> res.sendString(Mono.just("ok").delayElement(Duration.ofMillis(500))))).block(Duration.ofSeconds(10));
        HttpClient client = toolkit.httpClient(ns);
        // 100 ms apart, while the first holds the only connection for 500 ms: made at the same moment, the first still
        // counts as pending while its connection is being made, and both others were refused (seen in CI)
        List<Object> outcomes = Flux.range(0, 3).delayElements(Duration.ofMillis(100))
                .flatMap(i -> client.get().uri("http://127.0.0.1:" + PORT + "/").responseContent().aggregate().asString()
                        .<Object>map(s -> s).onErrorResume(e -> Mono.just(e)), 3)
                .collectList().block(Duration.ofSeconds(10));
        assertThat(outcomes).as("outcomes %s", outcomes).filteredOn("ok"::equals).hasSize(2); // one on the connection, one waiting for it
        assertThat(outcomes).filteredOn(o -> o instanceof Throwable).singleElement()
                .satisfies(e -> assertThat(e.getClass().getSimpleName()).isEqualTo("PoolAcquirePendingLimitException"))
                .asString().contains("maximum size of 1");
        slow.disposeNow();
    }

    @Test
    void aSchedulerWorkerHoldsAtMostTheQueueCapacity() throws Exception {
        NetNamespace ns = netns.create();
        Scheduler.Worker worker = toolkit.scheduler().in(ns).createWorker();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        worker.schedule(() -> {
            running.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 4; i++) {
            worker.schedule(() -> { });
        }
        assertThatThrownBy(() -> worker.schedule(() -> { })).isInstanceOf(QueueFullException.class)
                .hasMessageContaining("is full (4 waiting)")
                .satisfies(e -> assertThat(((QueueFullException) e).capacity()).isEqualTo(4));
        release.countDown();
        worker.dispose();
    }

    @Test
    void acceptHoldsAtMostItsBufferForASlowSubscriberThenFailsTypedAndClosesWhatItHeld() {
        NetNamespace ns = netns.create();
        TcpClient client = TcpClient.newConnection().host("127.0.0.1").port(PORT);
        List<reactor.netty.Connection> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
        StepVerifier.create(toolkit.accept(Flux.just(ns), TcpServer.create().host("127.0.0.1").port(PORT)), 0)
                .then(() -> {
                    for (int i = 0; i < 3; i++) { // two wait in the buffer, the third overflows it
                        clients.add(toolkit.connect(ns, client).retryWhen(Retry.fixedDelay(100, Duration.ofMillis(20)))
                                .block(Duration.ofSeconds(10)));
                    }
                })
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(QueueFullException.class)
                        .hasMessageContaining("accept buffer is full (2 waiting)"))
                .verify(Duration.ofSeconds(10));
        clients.forEach(reactor.netty.Connection::disposeNow);
    }

    @Test
    void aNamespacesPoolResolverAndMetersGoWhenItsHandleIsClosed() {
        List<NetNamespace> spaces = netns.create(30);
        List<DisposableServer> servers = toolkit.bind(Flux.fromIterable(spaces), HttpServer.create().host("127.0.0.1").port(PORT)
                .handle((req, res) -> res.sendString(Mono.just("ok")))).collectList().block(Duration.ofSeconds(30));
        for (NetNamespace ns : spaces) {
            assertThat(toolkit.httpClient(ns).get().uri("http://127.0.0.1:" + PORT + "/").responseContent().aggregate().asString()
                    .block(Duration.ofSeconds(10))).isEqualTo("ok");
        }
        assertThat(toolkit.namespacesWithClients()).isEqualTo(30);
        assertThat(registry.find(SchedulerMetrics.SWITCH).timers()).hasSize(30);
        servers.forEach(DisposableServer::disposeNow);
        spaces.forEach(NetNamespace::close);
        assertThat(toolkit.namespacesWithClients()).isZero();
        assertThat(toolkit.scheduler().meteredSwitch().metrics().namespaces()).isZero();
        assertThat(registry.getMeters()).noneMatch(m -> m.getId().getTag("namespace") != null);
    }

    @Test
    void afterDisposeEveryCallFailsWithTheSameError() {
        NetNamespace ns = netns.create();
        toolkit.disposeNow();
        String disposed = "netns toolkit ntk is disposed";
        assertThatThrownBy(() -> toolkit.httpClient(ns)).isInstanceOf(IllegalStateException.class).hasMessageStartingWith(disposed);
        assertThatThrownBy(() -> toolkit.tcpClient(ns)).isInstanceOf(IllegalStateException.class).hasMessageStartingWith(disposed);
        StepVerifier.create(toolkit.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(PORT)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageStartingWith(disposed))
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(toolkit.bind(ns, TcpServer.create().port(PORT)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageStartingWith(disposed))
                .verify(Duration.ofSeconds(5));
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.ThreadStrandedException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.test.StepVerifier;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(Privilege.class)
class NamespaceSchedulerTest {

    private static final int PORT = 18080;

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final List<NamespaceScheduler> schedulers = new ArrayList<>();

    private NamespaceScheduler track(NamespaceScheduler s) {
        schedulers.add(s);
        return s;
    }

    @AfterEach
    void disposeSchedulers() throws InterruptedException {
        for (NamespaceScheduler s : schedulers) {
            s.dispose();
            assertThat(s.awaitTermination(Duration.ofSeconds(10))).isTrue();
        }
    }

    /** The calling thread's namespace, from /proc: what a socket made now would be bound to. */
    static String threadNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String inode(NetNamespace ns) {
        return "net:[" + ns.id().ino() + "]";
    }

    @Test
    void sameLoopbackPortIn20NamespacesAtOnce() throws Exception {
        List<NetNamespace> spaces = netns.create(20);
        Invariants.Snapshot before = Invariants.snapshot();
        NamespaceScheduler scheduler = track(NamespaceScheduler.create(2));
        for (int round = 0; round < 10; round++) {
            List<ServerSocketChannel> listeners = Flux.fromIterable(spaces)
                    .flatMap(ns -> scheduler.call(ns, () -> {
                        ServerSocketChannel ch = ServerSocketChannel.open();
                        ch.bind(new InetSocketAddress("127.0.0.1", PORT));
                        return ch;
                    }))
                    .collectList().block(Duration.ofSeconds(30));
            assertThat(listeners).hasSize(20);
            if (round == 0) {
                for (NetNamespace ns : spaces) {
                    String ss = Commands.ok("ip", "netns", "exec", ns.name().orElseThrow(), "ss", "-Hltn");
                    assertThat(ss).containsPattern("127\\.0\\.0\\.1\\]?:" + PORT); // [::ffff:127.0.0.1] for a dual-stack JDK socket
                }
                assertThat(Commands.ok("ss", "-Hltn")).doesNotContainPattern("127\\.0\\.0\\.1\\]?:" + PORT);
            }
            for (ServerSocketChannel ch : listeners) {
                ch.close();
            }
        }
        scheduler.dispose();
        assertThat(scheduler.awaitTermination(Duration.ofSeconds(10))).isTrue();
        before.assertClean();
    }

    @Test
    void hundredThousandTasksAcross50NamespacesLeaveEveryThreadAtHome() throws Exception {
        List<NetNamespace> spaces = netns.create(50);
        Invariants.Snapshot before = Invariants.snapshot();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(2).queueCapacity(4096).build());
        AtomicInteger wrong = new AtomicInteger();
        int subscribers = 8;
        int perSubscriber = 12_500;
        Long total = Flux.range(0, subscribers)
                .flatMap(sub -> Flux.range(0, perSubscriber)
                        .flatMap(i -> {
                            NetNamespace ns = spaces.get((sub * perSubscriber + i) % spaces.size());
                            return scheduler.call(ns, () -> {
                                SocketChannel ch = SocketChannel.open();
                                if (!threadNamespace().equals(inode(ns))) {
                                    wrong.incrementAndGet();
                                }
                                return ch;
                            });
                        }, 64)
                        .doOnNext(ch -> {
                            try {
                                ch.close();
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                        })
                        .subscribeOn(reactor.core.scheduler.Schedulers.immediate()))
                .count()
                .block(Duration.ofMinutes(3));
        assertThat(total).isEqualTo((long) subscribers * perSubscriber);
        assertThat(wrong).hasValue(0);
        Invariants.assertAllThreadsAtHome();
        scheduler.dispose();
        assertThat(scheduler.awaitTermination(Duration.ofSeconds(10))).isTrue();
        before.assertClean();
    }

    @Test
    void aWorkerThatCannotSwitchBackIsRetiredAndReplaced() throws Exception {
        NetNamespace ns = netns.create();
        FaultyBackend backend = new FaultyBackend();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).namespaceSwitch(backend.asSwitch()).build());
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        AtomicBoolean closed = new AtomicBoolean();
        backend.failSwitchesHome.set(2); // the switch back and its retry: stranded

        StepVerifier.create(scheduler.call(ns, () -> {
                    ranOn.set(Thread.currentThread());
                    return (AutoCloseable) () -> closed.set(true);
                }))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(ThreadStrandedException.class)
                            .hasMessageContaining("only ends").hasMessageContaining(ns.label());
                    // signalled by the replacement at home, not by the stranded worker: downstream runs at home
                    assertThat(Thread.currentThread()).isNotEqualTo(ranOn.get());
                    assertThat(threadNamespace()).isEqualTo(Invariants.homeNamespace());
                })
                .verify(Duration.ofSeconds(10));

        ranOn.get().join(10_000);
        assertThat(ranOn.get().isAlive()).isFalse();
        assertThat(closed).isTrue(); // the stranded task's result was closed, not leaked
        assertThat(scheduler.retiredWorkers()).isEqualTo(1);
        // the replacement serves, in the right namespace, from a different thread
        StepVerifier.create(scheduler.call(ns, () -> Thread.currentThread().getName() + " " + threadNamespace()))
                .assertNext(s -> assertThat(s).endsWith(inode(ns)).doesNotStartWith(ranOn.get().getName() + " "))
                .verifyComplete();
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void tasksQueuedBehindEachOtherRunUnderOneSwitchEachInsideItsNamespaceSignalledAtHome() throws Exception {
        List<NetNamespace> spaces = netns.create(2);
        Invariants.Snapshot before = Invariants.snapshot();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).meterRegistry(registry).build());
        CountDownLatch hold = new CountDownLatch(1);
        Mono<String> blocker = scheduler.call(spaces.get(1), () -> hold.await(10, TimeUnit.SECONDS) ? "held" : "timeout");
        blocker.subscribe();
        // queued while the only worker is busy: 64 for one namespace with 8 for the other among them
        List<NetNamespace> order = new ArrayList<>();
        for (int i = 0; i < 72; i++) {
            order.add(i % 9 == 8 ? spaces.get(1) : spaces.get(0));
        }
        List<String> homes = new CopyOnWriteArrayList<>();
        Mono<List<String>> all = Flux.fromIterable(order)
                .flatMapSequential(ns -> scheduler.call(ns, () -> threadNamespace())
                        .doOnNext(x -> homes.add(threadNamespace())), 100)
                .collectList()
                .cache();
        all.subscribe(); // every call is queued by now: subscribing submits
        hold.countDown();
        List<String> seen = all.block(Duration.ofSeconds(10));
        for (int i = 0; i < order.size(); i++) {
            assertThat(seen.get(i)).as("task %d", i).isEqualTo(inode(order.get(i)));
        }
        assertThat(homes).hasSize(72).allMatch(Invariants.homeNamespace()::equals); // results handed on at home
        String label = spaces.get(0).name().orElseThrow();
        double switches = registry.get(SchedulerMetrics.SWITCH).tag("namespace", label).timer().count();
        double tasks = registry.get(SchedulerMetrics.TASKS).tag("namespace", label).counter().count();
        assertThat(tasks).isEqualTo(64);
        assertThat(switches).as("switches for 64 tasks queued together").isLessThan(64);
        before.assertClean(); // every thread at home, descriptors back
    }

    @Test
    void aBatchWhoseSwitchBackFailsFailsEveryTaskOfItAtHomeAndClosesWhatTheyMade() throws Exception {
        NetNamespace ns = netns.create();
        NetNamespace other = netns.create();
        Invariants.Snapshot before = Invariants.snapshot();
        FaultyBackend backend = new FaultyBackend();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).namespaceSwitch(backend.asSwitch()).build());
        CountDownLatch hold = new CountDownLatch(1);
        scheduler.call(other, () -> hold.await(10, TimeUnit.SECONDS)).subscribe();
        AtomicInteger closed = new AtomicInteger();
        List<Mono<AutoCloseable>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            boolean first = i == 0;
            calls.add(scheduler.call(ns, () -> {
                if (first) {
                    backend.failSwitchesHome.set(2); // the batch's switch back and its retry: stranded
                }
                return (AutoCloseable) closed::incrementAndGet;
            }));
        }
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<String> signalledIn = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(8);
        calls.forEach(c -> c.subscribe(v -> done.countDown(), e -> {
            errors.add(e);
            signalledIn.add(threadNamespace());
            done.countDown();
        }));
        hold.countDown();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(errors).hasSize(8).allMatch(e -> e instanceof ThreadStrandedException);
        assertThat(signalledIn).allMatch(Invariants.homeNamespace()::equals);
        assertThat(closed).hasValue(8);
        assertThat(scheduler.retiredWorkers()).isEqualTo(1);
        assertThat(scheduler.call(ns, () -> threadNamespace()).block(Duration.ofSeconds(10))).isEqualTo(inode(ns));
        before.assertClean(); // every thread at home (the stranded one ended), descriptors back
    }

    @Test
    void threadsWhoseFirstSwitchHomeFailsRetryAndLoopsThatCannotStartFailClearly() throws Exception {
        FaultyBackend backend = new FaultyBackend();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).namespaceSwitch(backend.asSwitch()).build());
        Invariants.Snapshot before = Invariants.snapshot(); // the scheduler's own descriptors counted in
        // one failure at a new thread's start: the retry brings it home (the soak met a loop that ended instead)
        backend.failSwitchesHome.set(1);
        NamespaceLoopResources loops = new NamespaceLoopResources(scheduler, 1);
        try {
            assertThat(loops.eventLoopGroup().submit(NamespaceSchedulerTest::threadNamespace).get(10, TimeUnit.SECONDS))
                    .isEqualTo(Invariants.homeNamespace());
        } finally {
            loops.disposeLater().block(Duration.ofSeconds(10));
        }
        before.assertClean(); // threads at home, the loops' descriptors closed
        // every switch home fails: the loop thread ends without running; creation fails, it does not hang
        backend.failSwitchesHome.set(Integer.MAX_VALUE);
        try {
            assertThatThrownBy(() -> new NamespaceLoopResources(scheduler, 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("did not start at home");
        } finally {
            backend.failSwitchesHome.set(0);
        }
        // a loop that never ran never closes its epoll descriptors (Netty closes them when the loop ends),
        // so only the threads are checked here: the fd count is checked above, after the loops that ran
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void aThreadThatCannotSwitchBackIsStrandedAndSwitchesNoMore() throws Exception {
        NetNamespace ns = netns.create();
        FaultyBackend backend = new FaultyBackend();
        NamespaceSwitch sw = backend.asSwitch();
        List<Object> outcomes = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean closed = new AtomicBoolean();
        Thread owned = new Thread(() -> {
            try {
                sw.adoptCurrentThread();
                backend.failSwitchesHome.set(1); // one failure: the retry brings it home
                outcomes.add(sw.run(ns, NamespaceSchedulerTest::threadNamespace));
                outcomes.add(threadNamespace());
                backend.failSwitchesHome.set(2); // both attempts fail: stranded, the result closed
                try {
                    sw.run(ns, () -> (AutoCloseable) () -> closed.set(true));
                    outcomes.add("no error");
                } catch (ThreadStrandedException e) {
                    outcomes.add(e);
                }
                outcomes.add(sw.isCurrentThreadStranded());
                try {
                    sw.run(ns, () -> "after stranding");
                    outcomes.add("ran after stranding");
                } catch (ThreadStrandedException e) {
                    outcomes.add(e);
                }
            } catch (Exception e) {
                outcomes.add(e);
            }
        }, "test-owned");
        owned.start();
        owned.join(10_000);
        assertThat(outcomes).hasSize(5);
        assertThat(outcomes.get(0)).isEqualTo(inode(ns));
        assertThat(outcomes.get(1)).isEqualTo(Invariants.homeNamespace());
        assertThat(outcomes.get(2)).isInstanceOf(ThreadStrandedException.class)
                .asString().contains("could not switch back home from " + ns.label()).contains("only ends");
        assertThat(closed).isTrue();
        assertThat(outcomes.get(3)).isEqualTo(true);
        assertThat(outcomes.get(4)).isInstanceOf(ThreadStrandedException.class).asString().contains("switches no more");
        Invariants.assertAllThreadsAtHome(); // the stranded thread has ended
    }

    @Test
    void onlyOwnedPlatformThreadsSwitch() {
        NetNamespace ns = netns.create();
        NamespaceSwitch sw = NamespaceSwitch.system();
        assertThatThrownBy(() -> sw.run(ns, () -> 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not owned");
        assertThat(sw.ownsCurrentThread()).isFalse();
        assertThat(threadNamespace()).isEqualTo(Invariants.homeNamespace());
    }

    @Test
    void aFullQueueErrorsAtOnceAndCancelledTasksNeverRun() throws Exception {
        NetNamespace ns = netns.create();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).queueCapacity(2).build());
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        Mono<Integer> blocker = scheduler.call(ns, () -> {
            blocking.countDown();
            release.await(10, TimeUnit.SECONDS);
            return 0;
        });
        AtomicInteger ran = new AtomicInteger();
        blocker.subscribe();
        assertThat(blocking.await(10, TimeUnit.SECONDS)).isTrue();
        // the worker is busy: two tasks fit in the queue, the third errors at once
        reactor.core.Disposable cancelled = scheduler.call(ns, ran::incrementAndGet).subscribe();
        StepVerifier second = StepVerifier.create(scheduler.call(ns, () -> 2)).expectNext(2).expectComplete().verifyLater();
        StepVerifier.create(scheduler.call(ns, () -> 3))
                .expectError(QueueFullException.class)
                .verify(Duration.ofSeconds(1));
        cancelled.dispose(); // frees its slot: a new task fits again
        StepVerifier third = StepVerifier.create(scheduler.call(ns, () -> 4)).expectNext(4).expectComplete().verifyLater();
        release.countDown();
        second.verify(Duration.ofSeconds(10));
        third.verify(Duration.ofSeconds(10));
        assertThat(ran).hasValue(0);
        assertThat(scheduler.queuedTasks()).isZero();
    }

    @Test
    void aResultProducedAfterCancellationIsClosed() throws Exception {
        NetNamespace ns = netns.create();
        NamespaceScheduler scheduler = track(NamespaceScheduler.create(1));
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch cancelledLatch = new CountDownLatch(1);
        AtomicReference<SocketChannel> made = new AtomicReference<>();
        Invariants.Snapshot before = Invariants.snapshot();
        StepVerifier.create(scheduler.call(ns, () -> {
                    running.countDown();
                    cancelledLatch.await(10, TimeUnit.SECONDS);
                    SocketChannel ch = SocketChannel.open();
                    made.set(ch);
                    return ch;
                }))
                .then(() -> {
                    try {
                        running.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        cancelledLatch.countDown();
        // the task completes after the cancel: its socket must be closed, not leaked
        for (int i = 0; i < 500 && (made.get() == null || made.get().isOpen()); i++) {
            Thread.sleep(10);
        }
        assertThat(made.get()).isNotNull();
        assertThat(made.get().isOpen()).isFalse();
        before.assertClean();
    }

    @Test
    void aDeletedNamespaceStillServesThroughAnOpenHandle() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        NamespaceScheduler scheduler = track(NamespaceScheduler.create(1));
        Commands.ok("ip", "netns", "delete", name);
        StepVerifier.create(scheduler.call(ns, () -> {
                    try (ServerSocketChannel ch = ServerSocketChannel.open()) {
                        ch.bind(new InetSocketAddress("127.0.0.1", PORT));
                        return threadNamespace();
                    }
                }))
                .expectNext(inode(ns))
                .verifyComplete();
        assertThatThrownBy(() -> NamespaceRegistry.system().open(name)).isInstanceOf(NamespaceNotFoundException.class);
    }

    @Test
    void aClosedHandleGivesATypedErrorSignal() {
        NetNamespace ns = netns.create();
        ns.close();
        NamespaceScheduler scheduler = track(NamespaceScheduler.create(1));
        StepVerifier.create(scheduler.call(ns, () -> 1)).expectError(ClosedNamespaceException.class).verify(Duration.ofSeconds(5));
    }

    @Test
    void inIsAReactorSchedulerWhoseWorkersRunTasksInOrderInsideTheNamespace() throws Exception {
        NetNamespace ns = netns.create();
        NamespaceScheduler scheduler = track(NamespaceScheduler.create(2));
        Scheduler inNs = scheduler.in(ns);
        StepVerifier.create(Mono.fromCallable(NamespaceSchedulerTest::threadNamespace).subscribeOn(inNs))
                .expectNext(inode(ns))
                .verifyComplete();
        Scheduler.Worker worker = inNs.createWorker();
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        AtomicInteger wrongNs = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1000);
        for (int i = 0; i < 1000; i++) {
            int n = i;
            worker.schedule(() -> {
                maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                if (!threadNamespace().equals(inode(ns))) {
                    wrongNs.incrementAndGet();
                }
                order.add(n);
                concurrent.decrementAndGet();
                done.countDown();
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(maxConcurrent).hasValue(1);
        assertThat(wrongNs).hasValue(0);
        assertThat(order).isSorted().hasSize(1000);
        worker.dispose();
        assertThatThrownBy(() -> worker.schedule(() -> { })).isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        assertThatThrownBy(() -> inNs.schedule(() -> { }, 1, TimeUnit.SECONDS))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        inNs.dispose();
        assertThat(inNs.isDisposed()).isTrue();
        assertThat(scheduler.isDisposed()).isFalse();
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void metricsAreTaggedWithTheNamespace() {
        NetNamespace ns = netns.create();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        NamespaceScheduler scheduler = track(NamespaceScheduler.builder().dedicatedThreads(1).meterRegistry(registry).build());
        Flux.range(0, 10).concatMap(i -> scheduler.call(ns, () -> i)).blockLast(Duration.ofSeconds(10));
        StepVerifier.create(scheduler.call(ns, () -> {
            throw new IOException("boom");
        })).expectError(IOException.class).verify(Duration.ofSeconds(5));
        String label = ns.name().orElseThrow();
        assertThat(registry.get(SchedulerMetrics.SWITCH).tag("namespace", label).timer().count()).isEqualTo(11);
        assertThat(registry.get(SchedulerMetrics.TASKS).tag("namespace", label).counter().count()).isEqualTo(11);
        assertThat(registry.get(SchedulerMetrics.ERRORS).tag("namespace", label).tag("type", "IOException").counter().count()).isEqualTo(1);
        assertThat(registry.get(SchedulerMetrics.QUEUED).tag("namespace", label).gauge().value()).isZero();
        NamespaceScheduler quiet = track(NamespaceScheduler.create(1));
        quiet.call(ns, () -> 1).block(Duration.ofSeconds(5));
        assertThat(registry.getMeters()).allMatch(m -> "ntk".equals(m.getId().getTag("scheduler")));
    }
}

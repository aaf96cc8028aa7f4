package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.Namespaces;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import io.micrometer.core.instrument.MeterRegistry;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A bounded scheduler of namespace-switching platform threads: everything that creates a socket inside
 * a network namespace goes through it.
 *
 * <p>Two kinds of threads switch: the toolkit's own event loops, which switch <em>inline</em> for the
 * duration of one socket creation ({@link #callInline}, the fast path: no handoff), and a small fixed
 * pool of dedicated workers for callers outside the loops ({@link #call}, {@link #callBlocking},
 * {@link #in}). Every thread is made from the home namespace (that of the thread that created the
 * scheduler), sets itself home when it starts and checks it, and switches back home in a
 * {@code finally} after each task. A dedicated worker that cannot switch back is retired (its thread
 * ends) and replaced; an event loop that cannot, after one retry, is fenced off for good.
 *
 * <pre>{@code
 * NamespaceScheduler scheduler = NamespaceScheduler.create(2);
 * Mono<ServerSocketChannel> listener = scheduler.call(blue, () -> {
 *     ServerSocketChannel ch = ServerSocketChannel.open();   // socket(2) runs inside "blue"
 *     ch.bind(new InetSocketAddress("127.0.0.1", 8080));
 *     return ch;
 * });
 * }</pre>
 *
 * <p><b>What a task may do.</b> Between the switch and the switch back, a task should only create
 * descriptors and the objects that wrap them. A task that starts a thread, directly or by touching
 * anything that starts one lazily (subscribing to a Reactor scheduler, a first Netty event loop, a
 * logging appender, ForkJoinPool.commonPool), makes that thread live in the namespace forever: that is
 * the caller's bug. The scheduler itself starts no thread lazily: its workers exist from creation on
 * (a retired worker's replacement switches itself home first). Values reach subscribers after the
 * worker is home again, on that worker's thread.
 *
 * <p><b>Bounded.</b> At most {@code queueCapacity} tasks wait; past that the subscriber gets
 * {@link SchedulerQueueFullException} at once. Cancelling a task before it runs removes it; a result
 * produced after cancellation is closed if it is {@link AutoCloseable}.
 *
 * <p>Virtual threads are refused everywhere: switching one would switch its carrier.
 */
public final class NamespaceScheduler implements Disposable {

    private static final System.Logger LOG = System.getLogger(NamespaceScheduler.class.getName());
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

    private final NamespaceBackend backend;
    private final NetNamespace home;
    private final NamespaceId homeId;
    private final String name;
    private final int capacity;
    private final BlockingQueue<Job<?>> queue;
    private final ThreadFactory threadFactory;
    private final SchedulerMetrics metrics;
    private final Set<Thread> dedicated = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<ThreadState> state = new ThreadLocal<>();
    private final AtomicInteger threadSeq = new AtomicInteger();
    private final AtomicInteger retired = new AtomicInteger();
    private final AtomicInteger fencedCount = new AtomicInteger();
    private final Set<Consumer<Thread>> fenceListeners = ConcurrentHashMap.newKeySet();
    private volatile boolean disposed;

    /** Per owned thread: fenced for good, and the namespace it is switched into right now. */
    private static final class ThreadState {
        final boolean isDedicated;
        volatile boolean fenced;
        NetNamespace inside;

        ThreadState(boolean isDedicated) {
            this.isDedicated = isDedicated;
        }
    }

    private NamespaceScheduler(Builder b) {
        if (isVirtual(Thread.currentThread())) {
            throw new IllegalStateException("create the NamespaceScheduler from a platform thread, not a virtual thread");
        }
        this.backend = b.backend != null ? b.backend : Namespaces.system().backend();
        NamespaceId processHome = backend.homeId();
        this.homeId = backend.threadId();
        if (!homeId.equals(processHome)) {
            throw new IllegalStateException("the thread creating the NamespaceScheduler (" + Thread.currentThread().getName()
                    + ") is in " + homeId + ", not in the process's home namespace " + processHome
                    + ": its threads would inherit the wrong namespace");
        }
        prewarmJdkSockets();
        this.home = backend.open("/proc/thread-self/ns/net", null);
        this.name = b.namePrefix;
        this.capacity = b.queueCapacity;
        this.queue = new ArrayBlockingQueue<>(b.queueCapacity);
        this.threadFactory = b.threadFactory;
        this.metrics = new SchedulerMetrics(b.meterRegistry, b.namePrefix);
        CountDownLatch started = new CountDownLatch(b.dedicatedThreads);
        for (int i = 0; i < b.dedicatedThreads; i++) {
            startDedicatedWorker(started);
        }
        // The workers exist, at home, before anyone can submit: nothing about them is lazy.
        awaitUninterruptibly(started);
        if (dedicated.size() < b.dedicatedThreads) {
            dispose();
            throw new IllegalStateException("the scheduler's workers could not switch themselves home; see the log");
        }
    }

    /**
     * The JDK makes a socket pair for life the first time an NIO channel is closed (its pre-close
     * descriptor) in the namespace of that thread: if that is a task's namespace, the namespace can
     * never be freed. Make it here, at home, before any task runs.
     */
    private static void prewarmJdkSockets() {
        try {
            java.nio.channels.SocketChannel.open().close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot open a socket at home", e);
        }
    }

    /** A scheduler with {@code dedicatedThreads} dedicated workers and the default queue bound (10 000). */
    public static NamespaceScheduler create(int dedicatedThreads) {
        return builder().dedicatedThreads(dedicatedThreads).build();
    }

    /** A builder with 2 dedicated workers, a queue bound of 10 000, no metrics. */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- public API

    /**
     * Runs {@code task} inside {@code ns} on a dedicated worker and emits its result (empty for
     * {@code null}) once the worker is home again. Errors: the task's exception, a
     * {@link NamespaceException} if the switch failed, {@link SchedulerQueueFullException} at once when
     * the queue is full. Cancelling before it runs drops it; a result produced after cancellation is
     * closed if it is {@link AutoCloseable}.
     */
    public <T> Mono<T> call(NetNamespace ns, Callable<T> task) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(task, "task");
        return Mono.<T>create(sink -> {
            Job<T> job = new Job<>(ns, task, v -> {
                if (v == null) {
                    sink.success();
                } else {
                    sink.success(v);
                }
            }, sink::error);
            sink.onCancel(job);
            try {
                submit(job);
            } catch (RejectedExecutionException e) {
                sink.error(e);
            }
        }).doOnDiscard(AutoCloseable.class, NamespaceScheduler::closeQuietly);
    }

    /**
     * A Reactor {@link Scheduler} whose every task runs inside {@code ns} on a dedicated worker and
     * switches back home after it. Its {@link Scheduler.Worker}s run their tasks in order, one at a time,
     * consecutive ones under one switch. Not time-capable: delayed and periodic scheduling is rejected,
     * since a timer thread would be one more thread to keep at home.
     *
     * <p>Everything the task runs, runs inside the namespace: with {@code subscribeOn(in(ns))} that is
     * the whole subscription and the signals it emits synchronously. Prefer {@link #call}, which emits
     * after switching back, for anything beyond creating sockets.
     */
    public Scheduler in(NetNamespace ns) {
        return new NamespaceBoundScheduler(this, Objects.requireNonNull(ns, "ns"));
    }

    /**
     * Runs {@code task} inside {@code ns} on the calling thread and switches back in a {@code finally}:
     * the inline fast path, for threads this scheduler owns (its event loops and workers) only. If the
     * switch back fails it is retried once; if it still fails the thread is fenced off: it never
     * switches again, fence listeners are told (they close its channels), and the failure is logged
     * and counted.
     *
     * @throws IllegalStateException on a thread this scheduler does not own, or a virtual thread
     * @throws NamespaceSwitchException if the thread is fenced or the switch failed
     */
    public <T> T callInline(NetNamespace ns, Callable<T> task) throws Exception {
        ThreadState st = state.get();
        if (st == null) {
            throw new IllegalStateException("callInline runs only on threads this scheduler owns; "
                    + Thread.currentThread() + " is not one (use call() or callBlocking())");
        }
        return runSwitched(st, ns, task);
    }

    /**
     * Runs {@code task} inside {@code ns} and waits for it: inline on a thread this scheduler owns,
     * otherwise on a dedicated worker while the calling thread waits (never switched itself).
     */
    public <T> T callBlocking(NetNamespace ns, Callable<T> task) throws Exception {
        ThreadState st = state.get();
        if (st != null) {
            return runSwitched(st, ns, task);
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        Job<T> job = new Job<>(ns, task, result::complete, result::completeExceptionally);
        submit(job);
        try {
            return result.get();
        } catch (InterruptedException e) {
            job.dispose();
            Thread.currentThread().interrupt();
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            throw (Error) cause;
        }
    }

    /** Whether the calling thread is one this scheduler owns (an event loop or a dedicated worker). */
    public boolean ownsCurrentThread() {
        return state.get() != null;
    }

    /** Number of dedicated workers retired so far after failing to switch back. */
    public int retiredWorkers() {
        return retired.get();
    }

    /** Number of owned threads fenced off so far after failing to switch back. */
    public int fencedThreads() {
        return fencedCount.get();
    }

    /** Tasks waiting for a dedicated worker. */
    public int queuedTasks() {
        return queue.size();
    }

    /** The native backend this scheduler switches with. */
    NamespaceBackend backend() {
        return backend;
    }

    /** The home namespace: that of the thread which created the scheduler. */
    public NamespaceId homeId() {
        return homeId;
    }

    @Override
    public void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        dedicated.forEach(Thread::interrupt);
        Job<?> j;
        while ((j = queue.poll()) != null) {
            j.fail(new RejectedExecutionException("namespace scheduler " + name + " is disposed"));
        }
        home.close(); // the descriptor stays open until the last thread using it has ended
    }

    @Override
    public boolean isDisposed() {
        return disposed;
    }

    /** Waits until every dedicated worker has ended, after {@link #dispose()}. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : dedicated) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !joinNanos(t, left)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Registers a listener told (on the fenced thread, after it is marked) when an owned thread is
     * fenced off; the Reactor Netty integration closes that event loop's channels.
     */
    void onFence(Consumer<Thread> listener) {
        fenceListeners.add(listener);
    }

    // ---------------------------------------------------------------- threads

    /**
     * A thread factory for threads this scheduler owns, on which {@link #callInline} works: the
     * toolkit's event loops use it, and so may a user's own loop. The threads are platform threads that
     * switch themselves home at start and check it before running anything. Call it from a thread at home.
     */
    public ThreadFactory ownedThreadFactory(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> newOwnedThread(prefix + "-" + n.incrementAndGet(), false, new CountDownLatch(1), r);
    }

    private void startDedicatedWorker(CountDownLatch started) {
        startDedicatedWorker(started, null);
    }

    /** {@code first}, if any, runs on the new worker once it is at home, before its first job. */
    private Thread startDedicatedWorker(CountDownLatch started, Runnable first) {
        Runnable body = first == null ? this::workLoop : () -> {
            first.run();
            workLoop();
        };
        Thread t = newOwnedThread(name + "-worker-" + threadSeq.incrementAndGet(), true, started, body);
        dedicated.add(t);
        t.start();
        return t;
    }

    private Thread newOwnedThread(String threadName, boolean isDedicated, CountDownLatch started, Runnable body) {
        Runnable run = () -> {
            home.acquireFd(); // held for the thread's life
            try {
                // Whoever started us, we run only at home (one retry, as on the way back), and we check it.
                NamespaceSwitchException failed = switchHome(2);
                if (failed != null) {
                    throw failed;
                }
                if (!backend.threadId().equals(homeId)) {
                    throw new NamespaceSwitchException("thread " + threadName + " is not at home after setns",
                            "setns", 0, "home", null);
                }
                state.set(new ThreadState(isDedicated));
            } catch (RuntimeException e) {
                dedicated.remove(Thread.currentThread());
                home.releaseFd();
                started.countDown();
                LOG.log(System.Logger.Level.ERROR, "thread " + threadName + " could not start at home; it ends", e);
                return;
            }
            started.countDown();
            try {
                body.run();
            } finally {
                dedicated.remove(Thread.currentThread());
                home.releaseFd();
            }
        };
        Thread t = threadFactory.newThread(run);
        if (isVirtual(t)) {
            throw new IllegalArgumentException("the thread factory made a virtual thread; namespace switching needs platform threads");
        }
        t.setName(threadName);
        t.setDaemon(true);
        return t;
    }

    private void workLoop() {
        ThreadState st = state.get();
        while (!disposed) {
            Job<?> job;
            try {
                job = queue.take(); // waits at home, always
            } catch (InterruptedException e) {
                continue; // dispose() interrupts; the loop condition decides
            }
            if (!runJob(st, job)) {
                return; // retired: this thread ends, its replacement has been started
            }
        }
    }

    /** Runs one job on a dedicated worker; false if the worker must retire. */
    private <T> boolean runJob(ThreadState st, Job<T> job) {
        if (job.ns != null) {
            SchedulerMetrics.PerNamespace m = metrics.of(job.ns);
            if (m != null) {
                m.queued.decrementAndGet();
            }
        }
        if (!job.start()) {
            return true;
        }
        T value;
        try {
            value = job.ns == null ? job.task.call() : runSwitched(st, job.ns, job.task);
        } catch (ThreadStrandedException e) {
            // Not signalled from here: downstream operators would run on a thread outside home (and
            // anything they start lazily would live there). The replacement, once home, signals it.
            retire(() -> job.fail(e));
            return false;
        } catch (Throwable e) {
            job.fail(e);
            return true;
        }
        job.succeed(value);
        return true;
    }

    private void retire(Runnable signalFailure) {
        retired.incrementAndGet();
        metrics.retired();
        if (disposed) {
            signalFailure.run(); // no replacement: nothing else is left to signal it
        } else {
            // The replacement first (it switches itself home before anything else, see newOwnedThread), so
            // that the set of workers is never empty when all of them retire at once: submit() would refuse.
            CountDownLatch started = new CountDownLatch(1);
            Thread replacement = startDedicatedWorker(started, signalFailure);
            awaitUninterruptibly(started);
            if (!dedicated.contains(replacement)) {
                signalFailure.run(); // it could not get home (logged): better signalled from here than never
            }
        }
        dedicated.remove(Thread.currentThread());
    }

    // ---------------------------------------------------------------- the switch

    /**
     * Switches the calling owned thread into {@code ns}, runs the task, switches back home. Returns or
     * throws only once the thread is home again, except {@link ThreadStrandedException}.
     */
    private <T> T runSwitched(ThreadState st, NetNamespace ns, Callable<T> task) throws Exception {
        if (st.fenced) {
            throw new NamespaceSwitchException("thread " + Thread.currentThread().getName()
                    + " was fenced off after failing to switch back home; it creates no more sockets", "setns", 0, ns.label(), null);
        }
        if (st.inside != null) {
            if (st.inside.equals(ns)) {
                return task.call(); // nested call for the namespace we are already in
            }
            throw new IllegalStateException("nested switch into " + ns.label() + " while inside " + st.inside.label());
        }
        SchedulerMetrics.PerNamespace m = metrics.of(ns);
        int fd = ns.acquireFd();
        long t0 = m != null ? System.nanoTime() : 0L;
        T value = null;
        Throwable failure = null;
        try {
            try {
                backend.setns(fd, ns.label()); // on failure the thread has not moved
            } catch (NamespaceException e) {
                if (m != null) {
                    m.error(e);
                }
                throw e;
            }
            st.inside = ns;
            try {
                value = task.call();
            } catch (Throwable e) {
                failure = e;
            }
            NamespaceSwitchException back = switchHome(st.isDedicated ? 1 : 2);
            st.inside = null;
            if (back != null) {
                closeQuietly(value);
                ThreadStrandedException stranded = new ThreadStrandedException(st.isDedicated
                        ? "worker " + Thread.currentThread().getName() + " could not switch back from " + ns.label() + " and was retired"
                        : "event loop " + Thread.currentThread().getName() + " could not switch back from " + ns.label() + " and was fenced off",
                        back);
                if (failure != null) {
                    stranded.addSuppressed(failure);
                }
                if (m != null) {
                    m.error(stranded);
                }
                if (!st.isDedicated) {
                    fence(st, stranded);
                }
                throw stranded;
            }
        } finally {
            ns.releaseFd();
        }
        if (m != null) {
            m.ran(System.nanoTime() - t0);
            if (failure != null) {
                m.error(failure);
            }
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure != null) {
            throw (Error) failure;
        }
        return value;
    }

    private NamespaceSwitchException switchHome(int attempts) {
        NamespaceSwitchException last = null;
        int homeFd = home.acquireFd();
        try {
            for (int i = 0; i < attempts; i++) {
                try {
                    backend.setns(homeFd, "home");
                    return null;
                } catch (NamespaceSwitchException e) {
                    last = e;
                } catch (NamespaceException e) {
                    last = new NamespaceSwitchException(e.getMessage(), e.syscall(), e.errno(), e.target(), e);
                }
            }
        } finally {
            home.releaseFd();
        }
        return last;
    }

    private void fence(ThreadState st, ThreadStrandedException e) {
        st.fenced = true;
        fencedCount.incrementAndGet();
        metrics.fenced();
        Thread self = Thread.currentThread();
        for (Consumer<Thread> l : fenceListeners) {
            try {
                l.accept(self);
            } catch (RuntimeException ignored) {
                // a listener's failure must not hide the fence
            }
        }
        // Logged by a dedicated worker at home: an appender started from here would inherit the namespace.
        Job<Void> log = new Job<>(null, () -> {
            LOG.log(System.Logger.Level.ERROR, "FENCED: " + e.getMessage() + " (total fenced: " + fencedCount.get() + ")", e);
            return null;
        }, v -> { }, x -> { });
        queue.offer(log);
    }

    // ---------------------------------------------------------------- queue

    void submit(Job<?> job) {
        if (disposed) {
            throw new RejectedExecutionException("namespace scheduler " + name + " is disposed");
        }
        if (dedicated.isEmpty() && !disposed) {
            throw new RejectedExecutionException("namespace scheduler " + name + " has no dedicated workers");
        }
        SchedulerMetrics.PerNamespace m = job.ns != null ? metrics.of(job.ns) : null;
        if (m != null) {
            m.queued.incrementAndGet();
        }
        job.onDrop = () -> {
            if (queue.remove(job) && m != null) {
                m.queued.decrementAndGet();
            }
        };
        if (!queue.offer(job)) {
            if (m != null) {
                m.queued.decrementAndGet();
                m.error(new SchedulerQueueFullException(capacity));
            }
            throw new SchedulerQueueFullException(capacity);
        }
    }

    static void closeQuietly(Object o) {
        if (o instanceof io.netty.channel.Channel ch) {
            if (ch.isRegistered()) {
                ch.close(); // on its loop: never under a read loop that still uses the descriptor number
            } else {
                ch.unsafe().closeForcibly(); // never registered: closes the descriptor here and now
            }
        } else if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a result nobody wants; nothing to report to
            }
        }
    }

    static boolean isVirtual(Thread t) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null; // before Java 21 there are no virtual threads
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean joinNanos(Thread t, long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.timedJoin(t, nanos);
        return !t.isAlive();
    }

    @Override
    public String toString() {
        return "NamespaceScheduler[" + name + ", dedicated=" + dedicated.size() + ", queued=" + queue.size()
                + "/" + capacity + (disposed ? ", disposed" : "") + "]";
    }

    /** Configuration of a {@link NamespaceScheduler}. */
    public static final class Builder {
        private int dedicatedThreads = 2;
        private int queueCapacity = 10_000;
        private String namePrefix = "ntk";
        private MeterRegistry meterRegistry;
        private ThreadFactory threadFactory = Thread::new;
        private NamespaceBackend backend;

        private Builder() {
        }

        /** Dedicated workers for callers outside the event loops (at least 1). */
        public Builder dedicatedThreads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("dedicatedThreads must be at least 1, not " + n);
            }
            this.dedicatedThreads = n;
            return this;
        }

        /** The most tasks that may wait for a dedicated worker; past it, tasks fail at once. */
        public Builder queueCapacity(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1, not " + n);
            }
            this.queueCapacity = n;
            return this;
        }

        /** Prefix of thread names and the {@code scheduler} metric tag. */
        public Builder namePrefix(String prefix) {
            this.namePrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /** Where to register metrics; none are registered without one. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /**
         * The factory of the scheduler's threads (default {@code Thread::new}). It must make platform
         * threads: a factory that makes virtual threads is refused.
         */
        public Builder threadFactory(ThreadFactory factory) {
            Objects.requireNonNull(factory, "factory");
            Thread probe = factory.newThread(() -> { });
            if (isVirtual(probe)) {
                throw new IllegalArgumentException("the thread factory makes virtual threads; namespace switching needs platform threads");
            }
            this.threadFactory = factory;
            return this;
        }

        /** The native backend (default: the one on the class path); tests pass one that injects faults. */
        public Builder backend(NamespaceBackend backend) {
            this.backend = backend;
            return this;
        }

        /** Creates the scheduler and starts its dedicated workers, from the calling thread (which must be at home). */
        public NamespaceScheduler build() {
            return new NamespaceScheduler(this);
        }
    }
}

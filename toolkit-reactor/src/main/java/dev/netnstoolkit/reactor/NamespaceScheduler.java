package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import io.micrometer.core.instrument.MeterRegistry;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tasks inside network namespaces, as Reactor types: {@link #call} ({@code Mono}) and
 * {@link #in} (a Reactor {@link Scheduler}). Tasks run on a small fixed set of dedicated platform
 * threads that switch into the namespace through {@link NamespaceSwitch} and back; the caller's thread
 * never switches and never parks, except in {@link #callBlocking}, which says so in its name. (A
 * {@code call(...).block()} waits awake up to 50 µs for a quick result before Reactor parks it; event
 * loops and non-blocking threads never wait.)
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
 * <p><b>What a task may do.</b> Only create descriptors and the objects that wrap them (see
 * {@link NamespaceSwitch}). Values reach subscribers after the worker is home again.
 *
 * <p><b>Bounded.</b> At most {@code queueCapacity} tasks wait; past that the subscriber gets
 * {@link QueueFullException} at once. Cancelling a task before it runs removes it; a result produced
 * after cancellation is closed if it is {@link AutoCloseable} or a Netty channel.
 *
 * <p><b>Threads that cannot come home.</b> A worker whose switch back fails (after a retry) only ends;
 * the scheduler's keeper, a thread that never switches, signals the failure
 * ({@link dev.netnstoolkit.api.ThreadStrandedException}), logs and counts it and starts a replacement,
 * all from home. Every thread is made from home and checks that it is there before it runs anything.
 *
 * <p>The {@link Netns} toolkit's event loops belong to its scheduler too: they switch inline, for the
 * length of one socket creation.
 *
 * <p>(Over 300 lines because it is a public facade with its documented, immutable builder; the jobs are
 * elsewhere: the switch in {@link NamespaceSwitch}, the workers in {@code DedicatedWorkers}, the home
 * thread in {@code Keeper}, thread making in {@code OwnedThreads}.)
 */
public final class NamespaceScheduler implements Disposable {

    private final String name;
    private final int capacity;
    private final MeteredSwitch sw;
    private final OwnedThreads threads;
    private final Keeper keeper;
    private final DedicatedWorkers workers;
    private final AtomicInteger fencedLoops = new AtomicInteger();
    private volatile boolean disposed;

    private NamespaceScheduler(Builder b) {
        NamespaceSwitch nsSwitch = b.namespaceSwitch != null ? b.namespaceSwitch : NamespaceSwitch.system();
        nsSwitch.checkCanSwitch(); // typed and first: NamespacePermissionException before any thread starts
        prewarmJdkSockets();
        this.name = b.namePrefix;
        this.capacity = b.queueCapacity;
        this.sw = new MeteredSwitch(nsSwitch, new SchedulerMetrics(b.meterRegistry, b.namePrefix));
        this.threads = new OwnedThreads(nsSwitch, b.namePrefix);
        this.keeper = new Keeper(threads);
        try {
            this.workers = new DedicatedWorkers(name, b.dedicatedThreads, capacity, sw, threads, keeper);
        } catch (RuntimeException | Error e) {
            keeper.stop();
            throw e;
        }
    }

    /**
     * The JDK makes a socket pair for life the first time an NIO channel is closed (its pre-close
     * descriptor) in the namespace of that thread: if that were a task's namespace, the namespace could
     * never be freed. Make it here, at home, before any task runs.
     */
    private static void prewarmJdkSockets() {
        try {
            SocketChannel.open().close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a socket at home", e);
        }
    }

    /**
     * A scheduler with {@code dedicatedThreads} workers and the default queue bound (10 000).
     *
     * @throws NamespacePermissionException without CAP_SYS_ADMIN, before any thread starts
     */
    public static NamespaceScheduler create(int dedicatedThreads) {
        return builder().dedicatedThreads(dedicatedThreads).build();
    }

    /** A builder: 2 dedicated workers, a queue bound of 10 000, thread names and tag {@code ntk}, no metrics. */
    public static Builder builder() {
        return new Builder(2, 10_000, "ntk", null, null);
    }

    // ---------------------------------------------------------------- public API

    /**
     * Runs {@code task} inside {@code ns} on a dedicated worker and emits its result (empty for
     * {@code null}) once the worker is home again. Errors: the task's exception, a
     * {@link NamespaceException} if the switch failed, {@link QueueFullException} at once when the
     * queue is full, {@link RejectedExecutionException} once disposed. Subscribed by Reactor's
     * {@code block()} on a thread that may block, the subscription waits awake up to 50 µs for the
     * worker, so that {@code call(...).block()} finds a quick result there instead of parking.
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
                workers.submit(job);
            } catch (RejectedExecutionException e) {
                sink.error(e);
                return;
            }
            if (BlockingCallers.isMarked(sink.contextView())) {
                awaitBriefly(job);
            }
        }).doOnDiscard(AutoCloseable.class, Closing::quietly).transform(BlockingCallers::marked);
    }

    /**
     * On a thread that may block (not an event loop, not a non-blocking scheduler's): waits awake, up to
     * the time a worker spins for work, for the worker to hand the outcome on. A socket's creation takes
     * microseconds, a park and a wake-up tens of them here: {@code call(...).block()} and
     * {@code callBlocking} then find the value there and never park. Loops and non-blocking threads return
     * at once; the value reaches them from the worker, as before.
     */
    private void awaitBriefly(Job<?> job) {
        if (Schedulers.isInNonBlockingThread() || sw.namespaceSwitch().ownsCurrentThread()) {
            return;
        }
        for (long until = System.nanoTime() + DedicatedWorkers.SPIN_NANOS; !job.isSettled() && System.nanoTime() < until; ) {
            Thread.yield(); // the worker may share this CPU: see DedicatedWorkers.SPIN_NANOS
        }
    }

    /**
     * A Reactor {@link Scheduler} whose every task runs inside {@code ns} on a dedicated worker and
     * switches back home after it. Its {@link Scheduler.Worker}s run their tasks in order, one at a
     * time, consecutive ones under one switch, and hold at most {@code queueCapacity} tasks. Not
     * time-capable: delayed and periodic scheduling is rejected, since a timer thread would be one more
     * thread to keep at home.
     *
     * <p>Everything the task runs, runs inside the namespace: with {@code subscribeOn(in(ns))} that is
     * the whole subscription and the signals it emits synchronously. Prefer {@link #call}, which emits
     * after switching back, for anything beyond creating sockets.
     */
    public Scheduler in(NetNamespace ns) {
        return new NamespaceBoundScheduler(this, Objects.requireNonNull(ns, "ns"));
    }

    /**
     * Runs {@code task} inside {@code ns} and <b>waits</b> for it: inline on a thread this scheduler
     * owns, otherwise on a dedicated worker while the calling thread waits (never switched itself).
     * Refused on a non-blocking thread (an event loop, Reactor's parallel scheduler), as {@code block()} is.
     *
     * @throws IllegalStateException on a non-blocking thread the scheduler does not own
     */
    public <T> T callBlocking(NetNamespace ns, Callable<T> task) throws Exception {
        NamespaceSwitch s = sw.namespaceSwitch();
        if (s.ownsCurrentThread() && !s.isCurrentThreadStranded()) {
            return sw.run(ns, task);
        }
        if (Schedulers.isInNonBlockingThread()) {
            throw new IllegalStateException("callBlocking() is blocking, which is not supported in thread "
                    + Thread.currentThread().getName() + "; use call()");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        Job<T> job = new Job<>(ns, task, result::complete, result::completeExceptionally);
        workers.submit(job);
        awaitBriefly(job);
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

    /** Dedicated workers retired so far after failing to switch back. */
    public int retiredWorkers() {
        return workers.retired();
    }

    /** Event loops fenced off so far after failing to switch back. */
    public int fencedLoops() {
        return fencedLoops.get();
    }

    /** Tasks waiting for a dedicated worker. */
    public int queuedTasks() {
        return workers.queued();
    }

    /** The home namespace: that of the process's main thread. */
    public NamespaceId homeId() {
        return sw.namespaceSwitch().homeId();
    }

    /** Stops taking tasks, fails the queued ones and lets the threads end; does not wait. */
    @Override
    public void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        workers.dispose();
        keeper.stop();
    }

    /** {@link #dispose()}, completing once every thread of the scheduler has ended (on the keeper, at home). */
    public Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            dispose();
            return Mono.fromFuture(keeper.terminated());
        });
    }

    @Override
    public boolean isDisposed() {
        return disposed;
    }

    /** Waits until every thread has ended, after {@link #dispose()}. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!workers.awaitTermination(timeout)) {
            return false;
        }
        try {
            keeper.terminated().get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- for the toolkit

    String name() {
        return name;
    }

    int queueCapacity() {
        return capacity;
    }

    MeteredSwitch meteredSwitch() {
        return sw;
    }

    OwnedThreads threads() {
        return threads;
    }

    Keeper keeper() {
        return keeper;
    }

    void submit(Job<?> job) {
        workers.submit(job);
    }

    void countFencedLoop() {
        fencedLoops.incrementAndGet();
        sw.metrics().fenced();
    }

    @Override
    public String toString() {
        return "NamespaceScheduler[" + name + ", workers=" + workers.alive() + ", queued=" + workers.queued()
                + "/" + capacity + (disposed ? ", disposed" : "") + "]";
    }

    /** Configuration of a {@link NamespaceScheduler}; immutable, every option checked when set. */
    public static final class Builder {
        private final int dedicatedThreads;
        private final int queueCapacity;
        private final String namePrefix;
        private final MeterRegistry meterRegistry;
        private final NamespaceSwitch namespaceSwitch;

        private Builder(int dedicatedThreads, int queueCapacity, String namePrefix, MeterRegistry meterRegistry,
                        NamespaceSwitch namespaceSwitch) {
            this.dedicatedThreads = dedicatedThreads;
            this.queueCapacity = queueCapacity;
            this.namePrefix = namePrefix;
            this.meterRegistry = meterRegistry;
            this.namespaceSwitch = namespaceSwitch;
        }

        /** Dedicated workers for {@link #call}, {@link #in} and {@link #callBlocking} (1 to 64). */
        public Builder dedicatedThreads(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("dedicatedThreads must be 1 to 64, not " + n);
            }
            return new Builder(n, queueCapacity, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** The most tasks that may wait for a dedicated worker (and per {@link #in} worker); past it, tasks fail at once. */
        public Builder queueCapacity(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1, not " + n);
            }
            return new Builder(dedicatedThreads, n, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Prefix of thread names and the value of the {@code scheduler} meter tag. */
        public Builder namePrefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (prefix.isBlank()) {
                throw new IllegalArgumentException("namePrefix must not be blank");
            }
            return new Builder(dedicatedThreads, queueCapacity, prefix, meterRegistry, namespaceSwitch);
        }

        /** Where to register meters (tagged {@code namespace} and {@code scheduler}); none without one. */
        public Builder meterRegistry(MeterRegistry registry) {
            return new Builder(dedicatedThreads, queueCapacity, namePrefix, Objects.requireNonNull(registry, "registry"),
                    namespaceSwitch);
        }

        /** The switch to use (default {@link NamespaceSwitch#system()}); tests pass one that injects faults. */
        public Builder namespaceSwitch(NamespaceSwitch sw) {
            return new Builder(dedicatedThreads, queueCapacity, namePrefix, meterRegistry, Objects.requireNonNull(sw, "sw"));
        }

        /**
         * Creates the scheduler and starts its threads, from the calling platform thread, which must be
         * at home.
         *
         * @throws NamespacePermissionException without CAP_SYS_ADMIN, before any thread starts
         */
        public NamespaceScheduler build() {
            return new NamespaceScheduler(this);
        }
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of platform threads serving a bounded queue of {@link Job}s, for callers outside the
 * event loops. A worker that cannot switch back home hands its job's failure to the keeper and ends;
 * the keeper, at home, counts and logs it and starts a replacement, which signals the failure before
 * its first job (so downstream operators run at home).
 */
final class DedicatedWorkers {

    private static final System.Logger LOG = System.getLogger(DedicatedWorkers.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final int capacity;
    private final BlockingQueue<Job<?>> queue;
    private final MeteredSwitch sw;
    private final OwnedThreads threads;
    private final Keeper keeper;
    private final Set<Thread> alive = ConcurrentHashMap.newKeySet();
    private final AtomicInteger retired = new AtomicInteger();
    private volatile boolean disposed;

    DedicatedWorkers(String name, int count, int capacity, MeteredSwitch sw, OwnedThreads threads, Keeper keeper) {
        this.name = name;
        this.capacity = capacity;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sw = sw;
        this.threads = threads;
        this.keeper = keeper;
        for (int i = 0; i < count; i++) {
            Throwable failed = startWorker(null);
            if (failed != null) {
                dispose();
                if (failed instanceof RuntimeException e) {
                    throw e;
                }
                throw new IllegalStateException("a dedicated worker could not start at home: " + failed.getMessage(), failed);
            }
        }
    }

    /** Starts a worker and waits until it is home; {@code first} runs on it before its first job. */
    private Throwable startWorker(Runnable first) {
        OwnedThreads.Start start = new OwnedThreads.Start();
        Thread[] self = new Thread[1];
        Runnable body = () -> {
            try {
                if (first != null) {
                    first.run();
                }
                workLoop();
            } finally {
                alive.remove(self[0]);
            }
        };
        synchronized (alive) {
            self[0] = threads.start("worker", start, body);
            alive.add(self[0]);
        }
        Throwable failed = start.await(START_TIMEOUT);
        if (failed != null) {
            alive.remove(self[0]);
        }
        return failed;
    }

    void submit(Job<?> job) {
        if (disposed) {
            throw new RejectedExecutionException("namespace scheduler " + name + " is disposed");
        }
        SchedulerMetrics.PerNamespace m = job.ns != null ? sw.metrics().of(job.ns) : null;
        if (m != null) {
            m.queued.incrementAndGet();
        }
        job.onDrop = () -> {
            if (queue.remove(job) && m != null) {
                m.queued.decrementAndGet();
            }
        };
        if (!queue.offer(job)) {
            QueueFullException full = new QueueFullException("namespace scheduler " + name, capacity,
                    "retry later or raise queueCapacity");
            if (m != null) {
                m.queued.decrementAndGet();
                m.error(full);
            }
            throw full;
        }
    }

    int queued() {
        return queue.size();
    }

    int retired() {
        return retired.get();
    }

    int alive() {
        return alive.size();
    }

    /**
     * How long an idle worker spins (at home) before it parks: a caller that hands over one task after
     * another (call().block() in a loop) finds it awake, and is spared the unpark of a parked thread.
     * Both this spin and the caller's wait yield the CPU at each turn rather than pause on it: a caller and
     * its worker waiting for each other on a 2-core machine with anything else runnable (the JIT warming
     * up) often share one CPU, and pausing, each spun out its wait while the other could not run, then both
     * parked (call().block() p50 ~18 µs, but 100-200 µs for whole rounds of 5000 calls; yielding, 20-35 µs
     * and no round past 75).
     */
    static final long SPIN_NANOS = 50_000;

    /** Jobs through one handle that run under one switch, when they are queued one behind the other. */
    private static final int BATCH = 16;

    private void workLoop() {
        List<Job<?>> batch = new ArrayList<>(BATCH);
        Job<?> carried = null; // polled for a batch but for another namespace: it runs next
        while (!disposed) {
            Job<?> first;
            if (carried != null) {
                first = carried;
                carried = null;
            } else {
                try {
                    first = next(); // waits at home, always
                } catch (InterruptedException e) {
                    continue; // dispose() interrupts; the loop condition decides
                }
            }
            batch.clear();
            batch.add(first);
            if (first.ns != null) {
                Job<?> more;
                while (batch.size() < BATCH && (more = queue.poll()) != null) {
                    if (more.ns != first.ns) { // the same handle: a job never runs through another's
                        carried = more;
                        break;
                    }
                    batch.add(more);
                }
            }
            if (!runJobs(batch)) {
                if (carried != null) {
                    Job<?> left = carried;
                    keeper.report(() -> left.fail(new RejectedExecutionException("a dedicated worker of " + name
                            + " could not switch back home and ended before this task ran; retry it")));
                }
                return; // stranded: this thread only ends
            }
        }
        if (carried != null) { // out of the queue when dispose() failed the queued ones
            carried.fail(new RejectedExecutionException("namespace scheduler " + name + " is disposed"));
        }
    }

    private Job<?> next() throws InterruptedException {
        Job<?> job = queue.poll();
        if (job != null) {
            return job;
        }
        long until = System.nanoTime() + SPIN_NANOS;
        while (System.nanoTime() < until) {
            Thread.yield(); // see SPIN_NANOS
            if (!queue.isEmpty() && (job = queue.poll()) != null) {
                return job;
            }
        }
        return queue.take();
    }

    /**
     * Runs jobs of one namespace (or one job at home) under a single switch: inside, only their tasks
     * run; their results are handed on after the switch back, at home. False if this worker is stranded
     * and must end (the keeper then fails every job of the batch and closes what they made).
     */
    private boolean runJobs(List<Job<?>> batch) {
        List<Job<?>> started = new ArrayList<>(batch.size());
        for (Job<?> job : batch) {
            if (job.ns != null) {
                SchedulerMetrics.PerNamespace m = sw.metrics().of(job.ns);
                if (m != null) {
                    m.queued.decrementAndGet();
                }
            }
            if (job.start()) {
                started.add(job);
            }
        }
        if (started.isEmpty()) {
            return true;
        }
        Object[] values = new Object[started.size()];
        Throwable[] failures = new Throwable[started.size()];
        NetNamespace ns = started.get(0).ns;
        try {
            if (ns == null) { // one job, at home
                values[0] = started.get(0).task.call();
            } else {
                sw.runEach(ns, started.stream().map(job -> job.task).toList(), values, failures);
            }
        } catch (ThreadStrandedException e) {
            alive.remove(Thread.currentThread());
            for (Object made : values) {
                Closing.quietly(made);
            }
            keeper.report(() -> retire(started, e));
            return false;
        } catch (Throwable e) { // the switch in failed (no task ran), or the one task at home failed
            started.forEach(job -> job.fail(e));
            return true;
        }
        for (int i = 0; i < values.length; i++) {
            succeedOrFail(started.get(i), values[i], failures[i]);
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    private static <T> void succeedOrFail(Job<T> job, Object value, Throwable failure) {
        if (failure != null) {
            job.fail(failure);
        } else {
            job.succeed((T) value);
        }
    }

    /** On the keeper, at home: count, log, replace; the replacement signals the failure. */
    private void retire(List<Job<?>> jobs, ThreadStrandedException e) {
        retired.incrementAndGet();
        sw.metrics().retired();
        sw.stranded(jobs.get(0).ns, e);
        LOG.log(System.Logger.Level.WARNING, "RETIRED: " + e.getMessage() + " (retired so far: " + retired.get() + ")");
        Runnable signal = () -> jobs.forEach(job -> job.fail(e));
        if (disposed) {
            signal.run();
            return;
        }
        Throwable failed = startWorker(signal);
        if (failed != null) {
            LOG.log(System.Logger.Level.ERROR, "a replacement worker of " + name + " could not start at home; "
                    + alive.size() + " workers left", failed);
            signal.run(); // better signalled from the keeper than never
        }
    }

    void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        alive.forEach(Thread::interrupt);
        Job<?> j;
        while ((j = queue.poll()) != null) {
            j.fail(new RejectedExecutionException("namespace scheduler " + name + " is disposed"));
        }
    }

    boolean isDisposed() {
        return disposed;
    }

    /** Waits until every worker has ended, after {@link #dispose()}. */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : alive) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedJoin(t, left);
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }
}

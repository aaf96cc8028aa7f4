package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.scheduler.Scheduler;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link NamespaceScheduler#in(NetNamespace)}: a Reactor Scheduler view whose tasks run on the
 * dedicated workers, switched into one namespace. Disposing the view cancels its pending tasks; the
 * parent scheduler lives on.
 */
final class NamespaceBoundScheduler implements Scheduler {

    private final NamespaceScheduler parent;
    private final NetNamespace ns;
    private final Disposable.Composite tasks = Disposables.composite();

    NamespaceBoundScheduler(NamespaceScheduler parent, NetNamespace ns) {
        this.parent = parent;
        this.ns = ns;
    }

    @Override
    public Disposable schedule(Runnable task) {
        return submit(task, tasks);
    }

    private Disposable submit(Runnable task, Disposable.Composite tracker) {
        if (tracker.isDisposed() || parent.isDisposed()) {
            throw new RejectedExecutionException("scheduler for " + ns.label() + " is disposed");
        }
        Job<?>[] self = new Job<?>[1];
        Job<Void> job = new Job<>(ns, () -> {
            task.run();
            return null;
        }, v -> tracker.remove(self[0]), e -> {
            tracker.remove(self[0]);
            Operators.onErrorDropped(e, Context.empty());
        });
        self[0] = job;
        tracker.add(job);
        try {
            parent.submit(job);
        } catch (RejectedExecutionException e) {
            tracker.remove(job);
            throw e;
        }
        return job;
    }

    @Override
    public Worker createWorker() {
        return new SerialWorker();
    }

    @Override
    public void dispose() {
        tasks.dispose();
    }

    @Override
    public boolean isDisposed() {
        return tasks.isDisposed() || parent.isDisposed();
    }

    @Override
    public String toString() {
        return "NamespaceScheduler.in(" + ns.label() + ")";
    }

    /**
     * Runs its tasks in order, one at a time: tasks wait in a local queue, and one drain job at a time
     * runs all that are there under a single switch.
     */
    private final class SerialWorker implements Worker {
        private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
        /** Entries in {@code pending}: bounded by the scheduler's queue capacity. */
        private final AtomicInteger size = new AtomicInteger();
        private final AtomicInteger wip = new AtomicInteger();
        private final Disposable.Composite drains = Disposables.composite();
        private volatile boolean disposed;

        @Override
        public Disposable schedule(Runnable task) {
            if (disposed || isDisposed()) {
                throw new RejectedExecutionException("worker for " + ns.label() + " is disposed");
            }
            if (size.incrementAndGet() > parent.queueCapacity()) {
                size.decrementAndGet();
                throw new QueueFullException("worker of " + NamespaceBoundScheduler.this, parent.queueCapacity(),
                        "the subscriber schedules faster than the namespace runs its tasks");
            }
            Disposable.Swap handle = Disposables.swap();
            Runnable entry = () -> {
                if (!handle.isDisposed()) {
                    task.run();
                }
            };
            pending.offer(entry);
            handle.update(() -> {
                if (pending.remove(entry)) {
                    size.decrementAndGet();
                }
            });
            if (wip.getAndIncrement() == 0) {
                try {
                    submit(this::drain, drains);
                } catch (RejectedExecutionException e) {
                    // No drain will run: drop what is queued (others' tasks get the error through the hook).
                    wip.set(0);
                    Runnable r;
                    while ((r = pending.poll()) != null) {
                        size.decrementAndGet();
                        if (r != entry) {
                            Operators.onErrorDropped(e, Context.empty());
                        }
                    }
                    throw e;
                }
            }
            return handle;
        }

        private void drain() {
            int missed = 1;
            do {
                Runnable r;
                while (!disposed && (r = pending.poll()) != null) {
                    size.decrementAndGet();
                    try {
                        r.run();
                    } catch (Throwable e) {
                        Operators.onErrorDropped(e, Context.empty());
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        @Override
        public void dispose() {
            disposed = true;
            pending.clear();
            size.set(0);
            drains.dispose();
        }

        @Override
        public boolean isDisposed() {
            return disposed;
        }
    }
}

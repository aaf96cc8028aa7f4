package dev.netnstoolkit.reactor;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread of a scheduler that never switches: it acts, at home, for threads that cannot. A
 * stranded worker or event loop hands it what must still happen (signal the failure, log it, count it,
 * start a replacement, close channels) and only ends; anything done on the stranded thread itself would
 * run outside home, and whatever it started lazily would live there.
 *
 * <p>Its queue needs no bound of its own: each owned thread strands at most once and then ends, and a
 * replacement is only started by the keeper, so at most one report per owned thread is ever waiting.
 */
final class Keeper {

    private static final System.Logger LOG = System.getLogger(Keeper.class.getName());

    private final Queue<Runnable> reports = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final Thread thread;
    private volatile boolean stopping;

    Keeper(OwnedThreads threads) {
        OwnedThreads.Start start = new OwnedThreads.Start();
        this.thread = threads.start("keeper", start, this::loop);
        Throwable failed = start.await(Duration.ofSeconds(10));
        if (failed instanceof RuntimeException e) {
            throw e;
        }
        if (failed != null) {
            throw new IllegalStateException("the keeper thread could not start at home: " + failed.getMessage(), failed);
        }
    }

    /** Hands {@code action} to the keeper; lock-free, safe from a stranded thread. */
    void report(Runnable action) {
        reports.offer(action);
        LockSupport.unpark(thread);
    }

    /** Runs what is queued, then ends; {@link #terminated()} completes on the keeper, at home. */
    void stop() {
        stopping = true;
        LockSupport.unpark(thread);
    }

    CompletableFuture<Void> terminated() {
        return terminated;
    }

    boolean isKeeperThread() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        try {
            while (true) {
                Runnable r;
                while ((r = reports.poll()) != null) {
                    try {
                        r.run();
                    } catch (Throwable e) {
                        LOG.log(System.Logger.Level.ERROR, "namespace scheduler keeper: a report failed", e);
                    }
                }
                if (stopping && reports.isEmpty()) {
                    return;
                }
                LockSupport.park(this);
            }
        } finally {
            terminated.complete(null);
        }
    }
}

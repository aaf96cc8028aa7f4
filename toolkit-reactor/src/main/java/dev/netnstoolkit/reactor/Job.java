package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import reactor.core.Disposable;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One task for a dedicated worker: run {@code task} switched into {@code ns} (or at home when
 * {@code ns} is null), then hand the result on, at home. Cancelled before it runs, it never runs;
 * cancelled while it runs, its result is closed if it is {@link AutoCloseable}.
 */
final class Job<T> implements Disposable {

    private static final int NEW = 0, RUNNING = 1, DONE = 2, CANCELLED = 3;

    final NetNamespace ns;
    final Callable<T> task;
    private final Consumer<? super T> onValue;
    private final Consumer<? super Throwable> onError;
    private final AtomicInteger state = new AtomicInteger(NEW);
    /** Set once the outcome has been handed on (or dropped): a caller waiting awake may stop. */
    private volatile boolean settled;
    /** Called once when the job is dropped before running (to free its queue slot). */
    Runnable onDrop;

    Job(NetNamespace ns, Callable<T> task, Consumer<? super T> onValue, Consumer<? super Throwable> onError) {
        this.ns = ns;
        this.task = task;
        this.onValue = onValue;
        this.onError = onError;
    }

    /** NEW to RUNNING; false if it was cancelled first. */
    boolean start() {
        return state.compareAndSet(NEW, RUNNING);
    }

    void succeed(T value) {
        try {
            if (state.compareAndSet(RUNNING, DONE)) {
                onValue.accept(value);
            } else {
                Closing.quietly(value);
            }
        } finally {
            settled = true;
        }
    }

    void fail(Throwable e) {
        try {
            if (state.compareAndSet(RUNNING, DONE) || state.compareAndSet(NEW, DONE)) {
                onError.accept(e);
            }
        } finally {
            settled = true;
        }
    }

    /** The outcome was handed on, or the job was cancelled. */
    boolean isSettled() {
        return settled || state.get() == CANCELLED;
    }

    @Override
    public void dispose() {
        if (state.compareAndSet(NEW, CANCELLED)) {
            Runnable drop = onDrop;
            if (drop != null) {
                drop.run();
            }
        } else {
            state.compareAndSet(RUNNING, CANCELLED);
        }
    }

    @Override
    public boolean isDisposed() {
        int s = state.get();
        return s == DONE || s == CANCELLED;
    }
}

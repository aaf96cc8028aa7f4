package dev.netnstoolkit.reactor;

import java.util.concurrent.RejectedExecutionException;

/**
 * A bounded queue of the toolkit is full: what was offered was refused at once, never queued without
 * limit. {@link #queue()} names the queue and {@link #capacity()} its bound. Reactor operators turn a
 * {@link RejectedExecutionException} into an error signal, so subscribers see it at once.
 */
public class QueueFullException extends RejectedExecutionException {

    private static final long serialVersionUID = 1L;

    private final String queue;
    private final int capacity;

    QueueFullException(String queue, int capacity, String remedy) {
        super(queue + " is full (" + capacity + " waiting); " + remedy);
        this.queue = queue;
        this.capacity = capacity;
    }

    /** Which queue, e.g. {@code "namespace scheduler ntk"}. */
    public String queue() {
        return queue;
    }

    /** Its bound. */
    public int capacity() {
        return capacity;
    }
}

package dev.netnstoolkit.reactor;

import java.util.concurrent.RejectedExecutionException;

/**
 * The namespace scheduler's bounded queue is full: the task was not queued. Reactor operators turn a
 * {@link RejectedExecutionException} into an error signal, so subscribers see it at once.
 */
public class SchedulerQueueFullException extends RejectedExecutionException {

    private static final long serialVersionUID = 1L;

    SchedulerQueueFullException(int capacity) {
        super("namespace scheduler queue is full (" + capacity + " tasks waiting); retry later or raise queueCapacity");
    }
}

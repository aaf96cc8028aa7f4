package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitchException;

/**
 * A thread switched into a namespace could not switch back home. The task's result (if any) was
 * closed; the thread was retired (a dedicated worker, replaced by a fresh one) or fenced off (an event
 * loop, which never creates or serves another socket).
 */
final class ThreadStrandedException extends NamespaceSwitchException {

    private static final long serialVersionUID = 1L;

    ThreadStrandedException(String what, NamespaceSwitchException cause) {
        super(what + ": " + cause.getMessage(), cause.syscall(), cause.errno(), cause.target(), cause);
    }
}

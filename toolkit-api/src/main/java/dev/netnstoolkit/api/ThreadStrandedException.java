package dev.netnstoolkit.api;

/**
 * A thread switched into a namespace could not switch back home, even after a retry. The thread is
 * marked: it never switches again and only ends (a dedicated worker is replaced, an event loop leaves
 * its group). Whatever the task made was closed if it was {@link AutoCloseable}.
 */
public class ThreadStrandedException extends NamespaceSwitchException {

    private static final long serialVersionUID = 1L;

    /**
     * @param thread the name of the stranded thread
     * @param target the namespace it was in
     * @param cause the failed switch back home
     */
    public ThreadStrandedException(String thread, String target, NamespaceSwitchException cause) {
        super("thread " + thread + " could not switch back home from " + target + ": " + cause.getMessage()
                + "; it only ends", cause.syscall(), cause.errno(), target, cause);
    }

    /**
     * For what a stranded thread leaves behind, e.g. a connection of a fenced event loop closed by the
     * toolkit: {@code message} says what and why; no cause, no stack trace (it is told, not thrown).
     */
    public static ThreadStrandedException notice(String message, String target) {
        ThreadStrandedException e = new ThreadStrandedException(message, target, 0);
        e.setStackTrace(new StackTraceElement[0]);
        return e;
    }

    private ThreadStrandedException(String message, String target, int errno) {
        super(message, "setns", errno, target, null);
    }

    /** For a thread that was stranded earlier and is asked to switch again. */
    public ThreadStrandedException(String thread, String target) {
        super("thread " + thread + " could not switch back home earlier; it switches no more (asked for " + target + ")",
                "setns", 0, target, null);
    }
}

package dev.netnstoolkit.api;

/**
 * Base of every error the toolkit raises about a network namespace.
 *
 * <p>Carries what went wrong in the terms of the kernel: the system call that failed (if any), its
 * errno (0 when the error was found before any system call) and the name or path it was about.
 * Unchecked, as in Netty and Reactor: callers handle the subtypes they can act on.
 */
public class NamespaceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String syscall;
    private final int errno;
    private final String target;

    /**
     * @param message what went wrong, in one line
     * @param syscall the failing system call, or {@code null}
     * @param errno the errno of that call, or 0
     * @param target the namespace name or path concerned, or {@code null}
     * @param cause the underlying cause, or {@code null}
     */
    public NamespaceException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, cause);
        this.syscall = syscall;
        this.errno = errno;
        this.target = target;
    }

    /** The system call that failed, or {@code null} if none was made. */
    public String syscall() {
        return syscall;
    }

    /** The errno of the failing call, or 0. */
    public int errno() {
        return errno;
    }

    /** The namespace name or path the error is about, or {@code null}. */
    public String target() {
        return target;
    }
}

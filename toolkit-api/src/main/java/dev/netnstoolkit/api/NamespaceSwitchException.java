package dev.netnstoolkit.api;

/** {@code setns(2)} into a namespace, or back home, failed. A thread that fails to switch back is never used again. */
public class NamespaceSwitchException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** See {@link NamespaceException#NamespaceException(String, String, int, String, Throwable)}. */
    public NamespaceSwitchException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, syscall, errno, target, cause);
    }
}

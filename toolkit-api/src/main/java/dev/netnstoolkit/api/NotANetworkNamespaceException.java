package dev.netnstoolkit.api;

/** The path exists but is not a network namespace: a regular file, a directory, another kind of namespace ({@code /proc/self/ns/uts}), or a stale name file that is not mounted. */
public class NotANetworkNamespaceException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** See {@link NamespaceException#NamespaceException(String, String, int, String, Throwable)}. */
    public NotANetworkNamespaceException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, syscall, errno, target, cause);
    }
}

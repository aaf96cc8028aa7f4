package dev.netnstoolkit.api;

/** A namespace name that iproute2 would not accept or that would reach outside {@code /run/netns}; raised before any system call. */
public class InvalidNamespaceNameException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** See {@link NamespaceException#NamespaceException(String, String, int, String, Throwable)}. */
    public InvalidNamespaceNameException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, syscall, errno, target, cause);
    }
}

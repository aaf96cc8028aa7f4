package dev.netnstoolkit.api;

/** A named namespace with that name exists already (EEXIST). */
public class NamespaceAlreadyExistsException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** See {@link NamespaceException#NamespaceException(String, String, int, String, Throwable)}. */
    public NamespaceAlreadyExistsException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, syscall, errno, target, cause);
    }
}

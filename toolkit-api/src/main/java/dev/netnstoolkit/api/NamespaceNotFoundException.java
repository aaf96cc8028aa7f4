package dev.netnstoolkit.api;

/** No namespace at the given name, path or pid (ENOENT, ESRCH). */
public class NamespaceNotFoundException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** See {@link NamespaceException#NamespaceException(String, String, int, String, Throwable)}. */
    public NamespaceNotFoundException(String message, String syscall, int errno, String target, Throwable cause) {
        super(message, syscall, errno, target, cause);
    }
}

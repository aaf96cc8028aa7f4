package dev.netnstoolkit.api;

/**
 * The caller lacks the privilege for the operation (EPERM, EACCES). {@link #missingCapability()} names
 * what it needs, e.g. {@code CAP_SYS_ADMIN}.
 */
public class NamespacePermissionException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    private final String missingCapability;

    /**
     * @param missingCapability what the caller needs, e.g. {@code "CAP_SYS_ADMIN"}
     */
    public NamespacePermissionException(String message, String syscall, int errno, String target,
                                        String missingCapability) {
        super(message, syscall, errno, target, null);
        this.missingCapability = missingCapability;
    }

    /** The capability (or access) the operation needs, e.g. {@code CAP_SYS_ADMIN}. */
    public String missingCapability() {
        return missingCapability;
    }
}

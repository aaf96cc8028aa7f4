package dev.netnstoolkit.api;

/**
 * The kernel does not offer the socket asked for: its family, type or protocol is unknown to it or not
 * built in (EAFNOSUPPORT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EPROTOTYPE, EINVAL), e.g. SCTP on a kernel
 * without it. Nothing was created.
 */
public class SocketUnsupportedException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    public SocketUnsupportedException(String message, String syscall, int errno, String target) {
        super(message, syscall, errno, target, null);
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;

import java.util.Objects;

/**
 * A network operation inside a namespace failed: a connect, a bind or a name resolution. The message is
 * one line naming the operation, the address, the namespace and the cause as the kernel or Netty said
 * it ({@code connect to /127.0.0.1:7000 in blue failed: Connection refused}); the original exception
 * is the cause.
 */
public class NamespaceIoException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String address;

    NamespaceIoException(String operation, String address, String namespace, Throwable cause) {
        super(operation + (address != null ? " " + address : "") + " in " + namespace + " failed: " + rootMessage(cause),
                null, 0, namespace, cause);
        this.operation = operation;
        this.address = address;
    }

    /** {@code connect to}, {@code bind}, or {@code resolve}. */
    public String operation() {
        return operation;
    }

    /** The address or host name concerned, or {@code null}. */
    public String address() {
        return address;
    }

    /** The innermost message of a cause chain (Netty wraps the errno message a few times over). */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = null;
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause()) {
            if (t.getMessage() != null) {
                msg = t.getMessage();
            }
            if (t.getCause() == t) {
                break;
            }
        }
        msg = msg != null ? msg : e.getClass().getSimpleName();
        int colon = msg.lastIndexOf("failed: ");
        return colon >= 0 ? msg.substring(colon + "failed: ".length()) : Objects.requireNonNull(msg);
    }
}

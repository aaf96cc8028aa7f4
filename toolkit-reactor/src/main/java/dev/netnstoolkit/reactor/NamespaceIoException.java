package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;

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

    /**
     * What the innermost cause says (Netty wraps the errno message a few times over), or, where it says
     * nothing, its kind in words: {@code NoRouteToHostException} is "No route to host".
     */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 10; depth++) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        if (msg == null || msg.isBlank() || msg.startsWith("null")) {
            return words(root.getClass().getSimpleName());
        }
        // "finishConnect(..) failed with error(-111): Connection refused" says "Connection refused"
        return msg.replaceFirst("^.*?failed(?: with error\\(-?\\d+\\))?: ", "");
    }

    /** {@code NoRouteToHostException} to "No route to host". */
    private static String words(String className) {
        String base = className.endsWith("Exception") ? className.substring(0, className.length() - "Exception".length()) : className;
        String spaced = base.replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
        return spaced.isEmpty() ? className : Character.toUpperCase(spaced.charAt(0)) + spaced.substring(1);
    }
}

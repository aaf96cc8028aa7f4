package dev.netnstoolkit.spring;

/**
 * The toolkit cannot start as configured: one message naming the property and the cause, and what to
 * do about it (a Boot failure analyzer prints both without a stack trace).
 */
public class NetnsStartupException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String property;
    private final String action;

    /**
     * @param property the property concerned, e.g. {@code ntk.server.namespaces[1]=blue}
     * @param cause what went wrong
     * @param action what to do about it
     */
    public NetnsStartupException(String property, Throwable cause, String action) {
        super(property + ": " + cause.getMessage(), cause);
        this.property = property;
        this.action = action;
    }

    /** The property concerned, with its value. */
    public String property() {
        return property;
    }

    /** What to do about it. */
    public String action() {
        return action;
    }
}

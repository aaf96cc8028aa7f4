package dev.netnstoolkit.api;

/** A {@link NetNamespace} handle was used after {@link NetNamespace#close()}. */
public class ClosedNamespaceException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    /** @param target the name or path the closed handle was opened from */
    public ClosedNamespaceException(String target) {
        super("namespace handle " + target + " is closed", null, 0, target, null);
    }
}

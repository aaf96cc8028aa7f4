package dev.netnstoolkit.api;

/**
 * Options for {@link NamespaceRegistry#create(String, CreateOptions)}.
 *
 * @param loopbackUp bring {@code lo} up in the new namespace (a new namespace has only {@code lo}, down)
 */
public record CreateOptions(boolean loopbackUp) {

    /** {@code lo} up. */
    public static CreateOptions defaults() {
        return new CreateOptions(true);
    }

    /** A copy with {@code loopbackUp} set. */
    public CreateOptions withLoopbackUp(boolean up) {
        return new CreateOptions(up);
    }
}

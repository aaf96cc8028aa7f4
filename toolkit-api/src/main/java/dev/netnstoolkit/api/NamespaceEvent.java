package dev.netnstoolkit.api;

/**
 * A change in a directory of namespace files (such as /run/netns), as a watch reports it. A name
 * re-created with another namespace is a {@link Removed} then an {@link Added}; the identity tells
 * them apart.
 */
public sealed interface NamespaceEvent {

    /** The entry's name in the directory. */
    String name();

    /** The entry's path. */
    String path();

    /**
     * A namespace is there under this name: present when the watch started, or added since.
     *
     * @param name the entry's name
     * @param path its path
     * @param id the namespace's identity
     */
    record Added(String name, String path, NamespaceId id) implements NamespaceEvent {
    }

    /**
     * The name is gone, or now names another namespace (an {@link Added} follows).
     *
     * @param name the entry's name
     * @param path its path
     * @param id the identity it had
     */
    record Removed(String name, String path, NamespaceId id) implements NamespaceEvent {
    }

    /**
     * An entry that is not a network namespace (after waiting for a creation in progress to mount it): a
     * warning, not an error; the watch goes on.
     *
     * @param name the entry's name
     * @param path its path
     * @param reason why it is not usable
     */
    record Unusable(String name, String path, String reason) implements NamespaceEvent {
    }
}

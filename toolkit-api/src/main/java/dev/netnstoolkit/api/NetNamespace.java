package dev.netnstoolkit.api;

import dev.netnstoolkit.api.spi.NamespaceFd;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A handle to a network namespace: an open, close-on-exec file descriptor to its nsfs inode.
 *
 * <p>The handle keeps the namespace alive (even after {@code ip netns delete}) until it is closed.
 * Handles are equal when they refer to the same namespace ({@link #id()}), whatever they were opened
 * from. After {@link #close()} every switch into it fails with {@link ClosedNamespaceException}; close
 * is idempotent and waits for no one: the descriptor is released when the last switch in progress is
 * done with it, so a concurrent close never lets a switch land on a reused descriptor number.
 *
 * <p>Obtain handles from {@link NamespaceRegistry}; switch into them with {@link NamespaceSwitch}.
 */
public final class NetNamespace implements AutoCloseable {

    private final NamespaceFd fd;
    private final String name;
    private final String path;
    private final List<Runnable> onClose = new CopyOnWriteArrayList<>();

    NetNamespace(NamespaceFd fd, String name, String path) {
        this.fd = Objects.requireNonNull(fd, "fd");
        this.name = name;
        this.path = Objects.requireNonNull(path, "path");
    }

    /** The identity (st_dev, st_ino) of the namespace. */
    public NamespaceId id() {
        return fd.id();
    }

    /** The name it was opened by under {@code /run/netns}, if it was opened by name. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    /** The path it was opened from, e.g. {@code /run/netns/blue} or {@code /proc/42/ns/net}. */
    public String path() {
        return path;
    }

    /** A short label for logs, errors and metrics: the name, else {@code net:[inode]}. */
    public String label() {
        return name != null ? name : "net:[" + fd.id().ino() + "]";
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return fd.isClosed();
    }

    /**
     * Runs {@code action} once when this handle is closed, on the closing thread (at once if it is
     * closed already). What a toolkit keeps per namespace (pools, resolvers, meters) is released this
     * way, so that nothing of it outlives the handle it was made for. Keep actions short.
     */
    public void onClose(Runnable action) {
        Objects.requireNonNull(action, "action");
        onClose.add(action);
        if (isClosed() && onClose.remove(action)) {
            action.run();
        }
    }

    /** For the switch: one use of the descriptor, or {@link ClosedNamespaceException}. */
    NamespaceFd.Lease lease() {
        return fd.lease(label());
    }

    /**
     * Closes the handle; the descriptor is closed once no switch is using it, then the
     * {@link #onClose} actions run. Idempotent.
     */
    @Override
    public void close() {
        if (fd.isClosed()) {
            return;
        }
        fd.close();
        for (Runnable action : onClose) {
            if (onClose.remove(action)) {
                try {
                    action.run();
                } catch (RuntimeException ignored) {
                    // one action's failure must not keep the others from running
                }
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NetNamespace other && fd.id().equals(other.fd.id());
    }

    @Override
    public int hashCode() {
        return fd.id().hashCode();
    }

    @Override
    public String toString() {
        return "NetNamespace[" + label() + ", " + path + (isClosed() ? ", closed" : "") + "]";
    }
}

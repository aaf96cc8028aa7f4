package dev.netnstoolkit.api;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A handle to a network namespace: an open, close-on-exec file descriptor to its nsfs inode.
 *
 * <p>The handle keeps the namespace alive (even after {@code ip netns delete}) until it is closed.
 * Handles are equal when they refer to the same namespace ({@link #id()}), whatever they were opened
 * from. After {@link #close()} every use throws {@link ClosedNamespaceException}; close is idempotent
 * and waits for no one: the descriptor is released when the last in-flight user (a switch in progress)
 * is done with it, so a concurrent close never lets a switch land on a reused fd number.
 *
 * <p>Obtain handles from {@link Namespaces}.
 */
public final class NetNamespace implements AutoCloseable {

    private final int fd;
    private final NamespaceId id;
    private final String name;
    private final String path;
    private final IntConsumer closeFd;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** One reference for the owner plus one per {@link #acquireFd()} not yet released. */
    private final AtomicInteger refs = new AtomicInteger(1);

    private NetNamespace(int fd, NamespaceId id, String name, String path, IntConsumer closeFd) {
        this.fd = fd;
        this.id = id;
        this.name = name;
        this.path = path;
        this.closeFd = closeFd;
    }

    /**
     * For {@link dev.netnstoolkit.api.spi.NamespaceBackend} implementations: wraps an open nsfs
     * descriptor that the handle then owns.
     *
     * @param fd an open descriptor of a network namespace, O_CLOEXEC
     * @param id its identity
     * @param name the name under {@code /run/netns}, or {@code null} if opened otherwise
     * @param path the path it was opened from
     * @param closeFd closes the descriptor; called exactly once
     */
    public static NetNamespace adopt(int fd, NamespaceId id, String name, String path, IntConsumer closeFd) {
        return new NetNamespace(fd, id, name, path, closeFd);
    }

    /** The identity (st_dev, st_ino) of the namespace. */
    public NamespaceId id() {
        return id;
    }

    /** The name it was opened by under {@code /run/netns}, if it was opened by name. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    /** The path it was opened from, e.g. {@code /run/netns/blue} or {@code /proc/42/ns/net}. */
    public String path() {
        return path;
    }

    /** A short label for logs and metrics: the name, else {@code net:[inode]}. */
    public String label() {
        return name != null ? name : "net:[" + id.ino() + "]";
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Takes a reference to the descriptor for one use (a {@code setns}); pair with
     * {@link #releaseFd()} in a {@code finally}. For backends and schedulers.
     *
     * @return the descriptor, valid until the matching release
     * @throws ClosedNamespaceException if the handle is closed
     */
    public int acquireFd() {
        for (;;) {
            int r = refs.get();
            if (r == 0 || closed.get()) {
                throw new ClosedNamespaceException(path);
            }
            if (refs.compareAndSet(r, r + 1)) {
                return fd;
            }
        }
    }

    /** Releases a reference taken by {@link #acquireFd()}. */
    public void releaseFd() {
        if (refs.decrementAndGet() == 0) {
            closeFd.accept(fd);
        }
    }

    /** Closes the handle; the descriptor is closed once no switch is using it. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            releaseFd();
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NetNamespace other && id.equals(other.id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "NetNamespace[" + label() + ", " + path + (closed.get() ? ", closed" : "") + "]";
    }
}

package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NamespaceId;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The owner of one open, close-on-exec descriptor of a network namespace, as a backend opened it.
 * The number is only reachable through a {@link Lease}, taken for one use (a {@code setns}) and
 * closed after it: the descriptor is closed once the owner has closed and every lease is closed, so a
 * concurrent {@link #close()} never lets a switch land on a reused number, and a closed owner never
 * hands a number out. Closing a lease or the owner twice does nothing the second time.
 */
public final class NamespaceFd {

    private final int fd;
    private final NamespaceId id;
    private final IntConsumer closer;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** One reference for the owner plus one per open lease. */
    private final AtomicInteger refs = new AtomicInteger(1);

    private NamespaceFd(int fd, NamespaceId id, IntConsumer closer) {
        this.fd = fd;
        this.id = Objects.requireNonNull(id, "id");
        this.closer = Objects.requireNonNull(closer, "closer");
    }

    /**
     * Takes ownership of an open descriptor.
     *
     * @param fd an open descriptor of a network namespace, O_CLOEXEC
     * @param id its identity
     * @param closer closes the descriptor; called exactly once
     */
    public static NamespaceFd adopt(int fd, NamespaceId id, IntConsumer closer) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new NamespaceFd(fd, id, closer);
    }

    /** The identity (st_dev, st_ino) of the namespace. */
    public NamespaceId id() {
        return id;
    }

    /** Whether the owner has closed it (leases may still be open). */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * A lease on the descriptor for one use.
     *
     * @param label the namespace's name or path, for the error
     * @throws ClosedNamespaceException if the owner has closed it
     */
    public Lease lease(String label) {
        for (;;) {
            int r = refs.get();
            if (r == 0 || closed.get()) {
                throw new ClosedNamespaceException(label);
            }
            if (refs.compareAndSet(r, r + 1)) {
                return new Lease();
            }
        }
    }

    /** The owner's close: the descriptor is closed once no lease is open. Idempotent. */
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    private void release() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            closer.accept(fd);
        } else if (left < 0) {
            throw new IllegalStateException("namespace descriptor released more often than taken");
        }
    }

    @Override
    public String toString() {
        return "NamespaceFd[" + id + (closed.get() ? ", closed" : "") + "]";
    }

    /** One use of the descriptor; {@link #fd()} is valid until {@link #close()}. Used by one thread. */
    public final class Lease implements AutoCloseable {
        private boolean released;

        private Lease() {
        }

        /** The descriptor number, valid until this lease is closed. */
        public int fd() {
            if (released) {
                throw new IllegalStateException("lease of " + id + " used after close");
            }
            return fd;
        }

        /** Releases the lease; the second and later calls do nothing. */
        @Override
        public void close() {
            if (!released) {
                released = true;
                release();
            }
        }
    }
}

package dev.netnstoolkit.api.spi;

import java.util.List;

/**
 * A watch of the entries of one directory (inotify): a non-blocking, close-on-exec descriptor that
 * becomes readable when entries are created, deleted or moved. The owner registers {@link #fd()} with
 * its event loop, calls {@link #read()} when it is readable, and closes the watch once it has removed
 * the descriptor from the loop.
 */
public interface DirectoryWatch extends AutoCloseable {

    /** What happened to an entry. */
    enum Kind {
        /** An entry was created or moved in. */
        CREATED,
        /** An entry was deleted or moved out. */
        DELETED,
        /** The kernel's queue overflowed: events were lost; look at the directory again. */
        OVERFLOW,
        /** The directory itself is gone (deleted, moved, or its file system unmounted). */
        DIRECTORY_GONE
    }

    /**
     * One event.
     *
     * @param kind what happened
     * @param name the entry's name ({@code null} for OVERFLOW and DIRECTORY_GONE)
     */
    record Event(Kind kind, String name) {
    }

    /** The descriptor, for an event loop; valid until {@link #close()}. */
    int fd();

    /** The events ready now, without blocking; empty when there are none. */
    List<Event> read();

    /** Closes the descriptor; idempotent. */
    @Override
    void close();
}

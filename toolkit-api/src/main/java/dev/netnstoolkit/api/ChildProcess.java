package dev.netnstoolkit.api;

import dev.netnstoolkit.api.spi.NamespaceBackend;

/**
 * A process started inside a namespace by {@link NamespaceRegistry#start}. It is this process's child:
 * {@link #waitFor()} reaps it, and {@link #signal} never reaches another process, even one that got
 * its pid after it ended (a child is only reaped under the same lock that signals it).
 */
public final class ChildProcess {

    private final long pid;
    private final NamespaceBackend backend;
    private final Object lock = new Object();
    private boolean reaped;
    private int status;

    ChildProcess(long pid, NamespaceBackend backend) {
        this.pid = pid;
        this.backend = backend;
    }

    /** Its process id. */
    public long pid() {
        return pid;
    }

    /**
     * Waits for it to end and returns its exit status, or 128 + the signal that ended it, as a shell
     * reports it. Later calls return the same status.
     */
    public int waitFor() {
        synchronized (lock) {
            if (reaped) {
                return status;
            }
        }
        backend.awaitExit(pid);
        synchronized (lock) {
            if (!reaped) {
                status = backend.reap(pid);
                reaped = true;
            }
            return status;
        }
    }

    /** Sends {@code signal} (e.g. 15 for SIGTERM) unless it has been reaped already; true if sent. */
    public boolean signal(int signal) {
        synchronized (lock) {
            if (reaped) {
                return false;
            }
            backend.kill(pid, signal);
            return true;
        }
    }

    @Override
    public String toString() {
        return "ChildProcess[" + pid + "]";
    }
}

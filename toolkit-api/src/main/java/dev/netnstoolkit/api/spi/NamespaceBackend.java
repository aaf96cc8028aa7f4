package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NetNamespace;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The native side of the toolkit, implemented by {@code toolkit-jna} and found through
 * {@link ServiceLoader}. Users call {@link dev.netnstoolkit.api.Namespaces}; schedulers call
 * {@link #setns(int, String)}. Names reaching a backend are already validated.
 *
 * <p>Every method reports failures as a typed {@link dev.netnstoolkit.api.NamespaceException} carrying
 * the system call and errno.
 */
public interface NamespaceBackend {

    /** Loads the first backend on the class path. */
    static NamespaceBackend load() {
        Iterator<NamespaceBackend> it = ServiceLoader.load(NamespaceBackend.class,
                NamespaceBackend.class.getClassLoader()).iterator();
        if (!it.hasNext()) {
            throw new IllegalStateException("no NamespaceBackend on the class path: add dev.netnstoolkit:toolkit-jna");
        }
        return it.next();
    }

    /**
     * Opens {@code path} (O_RDONLY|O_CLOEXEC) and checks that it is a network namespace.
     *
     * @param name the name under /run/netns it stands for, or {@code null}
     */
    NetNamespace open(String path, String name);

    /** Creates the named namespace as {@code ip netns add} does and returns a handle to it. */
    NetNamespace create(String name, CreateOptions options);

    /** Deletes the named namespace as {@code ip netns delete} does (umount2 MNT_DETACH, unlink). */
    void delete(String name);

    /** The identity of the namespace at {@code path} (stat, following the bind mount). */
    NamespaceId idOf(String path);

    /** The process's home namespace: that of the thread group leader, {@code /proc/self/ns/net}. */
    NamespaceId homeId();

    /** The calling thread's namespace identity, from {@code /proc/thread-self/ns/net}. */
    NamespaceId threadId();

    /**
     * Switches the calling thread into the namespace {@code fd} refers to ({@code setns(fd,
     * CLONE_NEWNET)}). Only for platform threads the caller owns.
     *
     * @param target name or path, for the error message
     * @throws dev.netnstoolkit.api.NamespaceSwitchException on failure
     */
    void setns(int fd, String target);

    /**
     * Sets FD_CLOEXEC on a descriptor someone else opened without it (Netty's epoll sockets), so that no
     * process started later inherits it.
     */
    void setCloseOnExec(int fd);

    /**
     * Starts {@code argv} with {@code env} inside {@code ns}, with stdin, stdout and stderr inherited
     * and every other descriptor closed in the child; returns its pid. The caller must {@link #waitFor}.
     */
    long spawn(NetNamespace ns, List<String> argv, Map<String, String> env);

    /** Waits for a child started by {@link #spawn}; exit status, or 128 + signal. */
    int waitFor(long pid);
}

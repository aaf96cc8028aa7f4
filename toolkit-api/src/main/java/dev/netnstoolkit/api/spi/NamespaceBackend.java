package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.NamespaceId;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The native side of the toolkit: system calls only, no threads and no policy. Implemented by
 * {@code toolkit-jna} and found through {@link ServiceLoader}. Users call
 * {@link dev.netnstoolkit.api.NamespaceRegistry}; the calls that act on the calling thread's namespace
 * are made only by {@link dev.netnstoolkit.api.NamespaceSwitch}, on threads it owns. Names and paths
 * reaching a backend are already validated.
 *
 * <p>Every method reports failures as a typed {@link dev.netnstoolkit.api.NamespaceException} naming
 * the system call, the errno and the path or namespace, and leaves nothing open behind it.
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

    // ---------------------------------------------------------------- descriptors and identity

    /**
     * Opens {@code path} (O_RDONLY|O_CLOEXEC) and checks that it is a network namespace.
     *
     * @param followLinks false for names under /run/netns: a symbolic link there is refused
     * @throws dev.netnstoolkit.api.NamespaceNotFoundException if there is nothing at the path
     * @throws dev.netnstoolkit.api.NotANetworkNamespaceException if it is something else
     */
    NamespaceFd open(String path, boolean followLinks);

    /**
     * The identity of the namespace at {@code path} (stat through an O_PATH descriptor).
     *
     * @param followLinks false for names under /run/netns; true for magic links such as /proc/PID/ns/net
     */
    NamespaceId idOf(String path, boolean followLinks);

    /** The process's home namespace: that of the thread group leader, {@code /proc/self/ns/net}. */
    NamespaceId homeId();

    /** The calling thread's namespace identity, from {@code /proc/thread-self/ns/net}. */
    NamespaceId threadId();

    // ---------------------------------------------------------------- the calling thread

    /**
     * Switches the calling thread into the namespace ({@code setns(fd, CLONE_NEWNET)}); on failure it
     * has not moved.
     *
     * @param target name or path, for the error message
     * @throws dev.netnstoolkit.api.NamespaceSwitchException on failure
     * @throws dev.netnstoolkit.api.NamespacePermissionException without CAP_SYS_ADMIN
     */
    void setns(NamespaceFd.Lease ns, String target);

    /** Moves the calling thread into a new, empty network namespace ({@code unshare(CLONE_NEWNET)}). */
    void unshareNetwork(String target);

    /** Brings {@code lo} up in the calling thread's namespace (ioctl SIOCSIFFLAGS). */
    void loopbackUp(String target);

    /**
     * Starts {@code argv} with {@code env} in the calling thread's namespace, with stdin, stdout and
     * stderr inherited, every other descriptor closed and signals at their defaults in the child;
     * returns its pid. The caller must {@link #awaitExit} and then {@link #reap} it.
     *
     * @throws dev.netnstoolkit.api.CommandNotRunException if the command cannot be started
     */
    long spawn(List<String> argv, Map<String, String> env);

    // ---------------------------------------------------------------- named namespaces (no thread moves)

    /** As iproute2: the directory exists (0755) and is a shared mount, bound onto itself the first time. */
    void prepareRunDir(String dir);

    /** Creates the empty name file {@code path} (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0). */
    void createNameFile(String path);

    /** Bind-mounts the calling thread's namespace ({@code /proc/thread-self/ns/net}) onto {@code path}. */
    void bindThreadNamespace(String path);

    /**
     * Removes a name as {@code ip netns delete} does, but only what is a namespace: a symbolic link,
     * a directory, a non-empty file or any other mount is refused, nothing is followed, and a name that
     * could not be unlinked afterwards is not unmounted first.
     *
     * @throws dev.netnstoolkit.api.NamespaceNotFoundException if there is no such name
     * @throws dev.netnstoolkit.api.NotANetworkNamespaceException if it is not a namespace name
     */
    void removeName(String path);

    /**
     * Watches the entries of {@code dir} (created, deleted, moved in or out).
     *
     * @throws dev.netnstoolkit.api.NamespaceNotFoundException if the directory does not exist
     * @throws dev.netnstoolkit.api.NamespacePermissionException if it cannot be read
     */
    DirectoryWatch watchDirectory(String dir);

    /**
     * Creates a socket of {@code family}, {@code type} and {@code protocol} in the calling thread's
     * namespace (switch first), non-blocking and close-on-exec.
     *
     * @param target the namespace, for messages
     * @throws dev.netnstoolkit.api.SocketUnsupportedException if the kernel does not offer that socket
     * @throws dev.netnstoolkit.api.NamespacePermissionException without the privilege for it (raw sockets:
     *         CAP_NET_RAW; ICMP datagram sockets: a group in the namespace's net.ipv4.ping_group_range)
     */
    SocketFd socket(int family, int type, int protocol, String target);

    // ---------------------------------------------------------------- other descriptors, processes

    /**
     * Sets FD_CLOEXEC on a descriptor someone else opened without it (Netty's epoll sockets), so that no
     * process started later inherits it.
     */
    void setCloseOnExec(int fd);

    /** Waits until a child started by {@link #spawn} has exited, without reaping it (its pid stays taken). */
    void awaitExit(long pid);

    /** Reaps a child that has exited; its exit status, or 128 + signal. */
    int reap(long pid);

    /** Sends {@code signal} to a child not yet reaped. */
    void kill(long pid, int signal);
}

package dev.netnstoolkit.api;

import dev.netnstoolkit.api.spi.NamespaceBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The namespace registry: open, create, delete, list and identify network namespaces, compatible with
 * iproute2 ({@code ip netns}) both ways.
 *
 * <pre>{@code
 * Namespaces netns = Namespaces.system();
 * try (NetNamespace blue = netns.create("blue")) {   // like `ip netns add blue`, lo up
 *     netns.identify(blue);                           // ["blue"]
 * } finally {
 *     netns.delete("blue");
 * }
 * }</pre>
 *
 * Thread-safe. None of its methods changes the namespace of the calling thread.
 */
public final class Namespaces {

    private static final class Holder {
        static final Namespaces SYSTEM = new Namespaces(NamespaceBackend.load());
    }

    private final NamespaceBackend backend;

    private Namespaces(NamespaceBackend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** The registry backed by the native backend found on the class path (toolkit-jna). */
    public static Namespaces system() {
        return Holder.SYSTEM;
    }

    /** A registry over a given backend, e.g. one that injects faults in tests. */
    public static Namespaces using(NamespaceBackend backend) {
        return new Namespaces(backend);
    }

    /** The backend this registry calls, for schedulers. */
    public NamespaceBackend backend() {
        return backend;
    }

    /** A handle to the calling thread's namespace ({@code /proc/thread-self/ns/net}). */
    public NetNamespace current() {
        return backend.open("/proc/thread-self/ns/net", null);
    }

    /** A handle to the process's home namespace (that of its main thread, {@code /proc/self/ns/net}). */
    public NetNamespace home() {
        return backend.open("/proc/self/ns/net", null);
    }

    /**
     * Opens the named namespace {@code /run/netns/NAME}.
     *
     * @throws InvalidNamespaceNameException before any system call if the name is not valid
     * @throws NamespaceNotFoundException if there is no such name
     */
    public NetNamespace open(String name) {
        return backend.open(NamespaceNames.pathOf(name), name);
    }

    /**
     * Opens the namespace at a path, e.g. {@code /proc/42/ns/net} or a bind mount anywhere.
     *
     * @throws NotANetworkNamespaceException if the path is not a network namespace
     */
    public NetNamespace openPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            throw new NamespaceNotFoundException("no such namespace path '" + path.replace("\0", "\\0") + "'",
                    null, 0, path, null);
        }
        return backend.open(path, null);
    }

    /**
     * Opens the namespace of process {@code pid} ({@code /proc/PID/ns/net}).
     *
     * @throws NamespaceNotFoundException if there is no such process
     */
    public NetNamespace ofPid(long pid) {
        if (pid <= 0) {
            throw new NamespaceNotFoundException("no process with pid " + pid, null, 0, "pid " + pid, null);
        }
        return backend.open("/proc/" + pid + "/ns/net", null);
    }

    /** Creates a named namespace with {@code lo} up, as {@code ip netns add NAME} (plus {@code ip link set lo up}). */
    public NetNamespace create(String name) {
        return create(name, CreateOptions.defaults());
    }

    /**
     * Creates a named namespace as {@code ip netns add} does: the name file under {@code /run/netns}
     * bind-mounted to a new namespace. A failed create leaves nothing behind.
     *
     * @throws NamespaceAlreadyExistsException if the name is taken
     * @throws NamespacePermissionException without CAP_SYS_ADMIN
     */
    public NetNamespace create(String name, CreateOptions options) {
        NamespaceNames.pathOf(name);
        return backend.create(name, Objects.requireNonNull(options, "options"));
    }

    /**
     * Deletes a named namespace as {@code ip netns delete} does. The namespace itself lives on while
     * any handle, socket or process still refers to it.
     *
     * @throws NamespaceNotFoundException if there is no such name
     */
    public void delete(String name) {
        NamespaceNames.pathOf(name);
        backend.delete(name);
    }

    /** The names under {@code /run/netns}, sorted; empty if the directory does not exist. */
    public List<String> list() {
        try (Stream<Path> s = Files.list(Path.of(NamespaceNames.RUN_DIR))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + NamespaceNames.RUN_DIR, e);
        }
    }

    /** The names under {@code /run/netns} that refer to the same namespace as {@code ns}, like {@code ip netns identify}. */
    public List<String> identify(NetNamespace ns) {
        return namesOf(ns.id());
    }

    /** The names that refer to the namespace of process {@code pid}. */
    public List<String> identify(long pid) {
        try (NetNamespace ns = ofPid(pid)) {
            return identify(ns);
        }
    }

    /**
     * Runs a command inside {@code ns} as {@code ip netns exec} does for the network namespace: stdin,
     * stdout and stderr inherited, no other descriptor passed on, no shell. Returns its exit status
     * (128 + signal if killed). The calling thread is never switched.
     */
    public int exec(NetNamespace ns, List<String> command, Map<String, String> env) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        long pid = backend.spawn(ns, command, env);
        return backend.waitFor(pid);
    }

    private List<String> namesOf(NamespaceId id) {
        List<String> names = new ArrayList<>();
        for (String name : list()) {
            try {
                if (backend.idOf(NamespaceNames.RUN_DIR + "/" + name).equals(id)) {
                    names.add(name);
                }
            } catch (NamespaceException e) {
                // a name removed while we looked, or an unmounted stale file: not this namespace
            }
        }
        return names;
    }
}

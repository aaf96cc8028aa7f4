package dev.netnstoolkit.api;

import dev.netnstoolkit.api.spi.NamespaceBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Open, create, delete, list and identify network namespaces, compatible with iproute2
 * ({@code ip netns}) both ways, and run commands inside them.
 *
 * <pre>{@code
 * NamespaceRegistry registry = NamespaceRegistry.system();
 * try (NetNamespace blue = registry.create("blue")) {   // like `ip netns add blue`, lo up
 *     registry.identify(blue);                         // ["blue"]
 * } finally {
 *     registry.delete("blue");
 * }
 * }</pre>
 *
 * Thread-safe. None of its methods changes the namespace of the calling thread: creation and
 * {@code exec} run on a short-lived thread of {@link NamespaceSwitch} that ends right after.
 *
 * <p>(Over 300 lines because it is the public face of every iproute2 operation on named namespaces,
 * each a few lines over the backend, plus the all-or-none batch {@link #createAll}; the system calls are
 * in the backend, the switching in {@link NamespaceSwitch}.)
 */
public final class NamespaceRegistry {

    private static final class Holder {
        static final NamespaceRegistry SYSTEM = new NamespaceRegistry(NamespaceSwitch.system());
    }

    private final NamespaceSwitch sw;
    private final NamespaceBackend backend;

    private NamespaceRegistry(NamespaceSwitch sw) {
        this.sw = sw;
        this.backend = sw.backend();
    }

    /** The registry over the native backend on the class path (toolkit-jna). */
    public static NamespaceRegistry system() {
        return Holder.SYSTEM;
    }

    /** The directory of named namespaces, {@code /run/netns}. */
    public static String runDir() {
        return Names.RUN_DIR;
    }

    /**
     * Checks a namespace name without any system call: non-empty, not {@code .} or {@code ..}, no
     * {@code /}, no control characters, at most 255 bytes.
     *
     * @throws InvalidNamespaceNameException saying what is wrong with it
     */
    public static void checkName(String name) {
        Names.pathOf(name);
    }

    /** A handle to the calling thread's namespace ({@code /proc/thread-self/ns/net}). */
    public NetNamespace current() {
        return openAt("/proc/thread-self/ns/net", null, true);
    }

    /** A handle to the process's home namespace (that of its main thread, {@code /proc/self/ns/net}). */
    public NetNamespace home() {
        return openAt("/proc/self/ns/net", null, true);
    }

    /**
     * Opens the named namespace {@code /run/netns/NAME}. A symbolic link there is refused.
     *
     * @throws InvalidNamespaceNameException before any system call if the name is not valid
     * @throws NamespaceNotFoundException if there is no such name
     */
    public NetNamespace open(String name) {
        return openAt(Names.pathOf(name), name, false);
    }

    /**
     * Opens the namespace at a path, e.g. {@code /proc/42/ns/net} or a bind mount anywhere.
     *
     * @throws NotANetworkNamespaceException if the path is not a network namespace
     */
    public NetNamespace openPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            throw new NamespaceNotFoundException("no such namespace path " + Names.shown(path), null, 0, path, null);
        }
        return openAt(path, null, true);
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
        return openAt("/proc/" + pid + "/ns/net", null, true);
    }

    private NetNamespace openAt(String path, String name, boolean followLinks) {
        return new NetNamespace(backend.open(path, followLinks), name, path);
    }

    /** Creates a named namespace with {@code lo} up, as {@code ip netns add NAME} (plus {@code ip link set lo up}). */
    public NetNamespace create(String name) {
        return create(name, CreateOptions.defaults());
    }

    /**
     * Creates a named namespace as {@code ip netns add} does: the name file under {@code /run/netns}
     * bind-mounted to a new namespace. A failed create leaves nothing behind, whatever failed (an error
     * starting the thread included). A process killed in the middle of it can leave an empty, unmounted
     * name file, as {@code ip netns add} can: {@link #delete} removes it.
     *
     * @throws NamespaceAlreadyExistsException if the name is taken
     * @throws NamespacePermissionException without CAP_SYS_ADMIN
     */
    public NetNamespace create(String name, CreateOptions options) {
        String path = Names.pathOf(name);
        Objects.requireNonNull(options, "options");
        backend.prepareRunDir(Names.RUN_DIR);
        backend.createNameFile(path);
        try {
            sw.onNewThread("ntk-create", () -> mountNewNamespace(name, path, options));
            return openAt(path, name, false);
        } catch (Throwable e) {
            try {
                backend.removeName(path);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** On a thread of the switch, once the name file exists: a new namespace, lo up if asked, bound to {@code path}. */
    private Void mountNewNamespace(String name, String path, CreateOptions options) throws Exception {
        return sw.runInNewNamespace(name, () -> {
            if (options.loopbackUp()) {
                backend.loopbackUp(name);
            }
            backend.bindThreadNamespace(path);
            return null;
        });
    }

    /**
     * Creates every name of {@code names} as {@link #create(String, CreateOptions)} does, side by side on
     * as many threads of the switch as there are cores (never one thread per namespace: each thread
     * creates one after another, switching back home in between). All or nothing: if one cannot be
     * created, every namespace this call made is deleted and the first failure is thrown, the others
     * suppressed in it. The handles come back in the order of {@code names}.
     *
     * @throws InvalidNamespaceNameException if a name is invalid (before anything is made)
     * @throws IllegalArgumentException if a name appears twice (before anything is made)
     * @throws NamespaceAlreadyExistsException if a name is taken (nothing of this call is left)
     */
    public List<NetNamespace> createAll(List<String> names, CreateOptions options) {
        Objects.requireNonNull(options, "options");
        List<String> paths = names.stream().map(Names::pathOf).toList();
        if (new HashSet<>(paths).size() != paths.size()) {
            throw new IllegalArgumentException("createAll: a name appears more than once in " + names.size() + " names");
        }
        if (names.isEmpty()) {
            return List.of();
        }
        backend.prepareRunDir(Names.RUN_DIR);
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        boolean[] made = new boolean[names.size()];
        int threads = Math.min(names.size(), Math.max(1, Runtime.getRuntime().availableProcessors()));
        List<NetNamespace> handles = new ArrayList<>(names.size());
        try {
            sw.onNewThreads("ntk-create", threads, () -> {
                for (int i = next.getAndIncrement(); i < names.size() && !failed.get(); i = next.getAndIncrement()) {
                    String name = names.get(i);
                    String path = paths.get(i);
                    try {
                        backend.createNameFile(path);
                        made[i] = true; // from here on, the clean-up removes it whatever happens next
                        mountNewNamespace(name, path, options);
                    } catch (Throwable e) {
                        failed.set(true);
                        throw e;
                    }
                }
                return null;
            });
            for (int i = 0; i < names.size(); i++) {
                handles.add(openAt(paths.get(i), names.get(i), false));
            }
            return handles;
        } catch (Throwable e) {
            handles.forEach(NetNamespace::close);
            for (int i = 0; i < names.size(); i++) {
                if (made[i]) {
                    try {
                        backend.removeName(paths.get(i));
                    } catch (RuntimeException cleanup) {
                        e.addSuppressed(cleanup);
                    }
                }
            }
            throw e;
        }
    }

    /**
     * Deletes a named namespace as {@code ip netns delete} does: unmounts and unlinks its name. The
     * namespace itself lives on while any handle, socket or process still refers to it. Only a
     * namespace or an empty, unmounted name file (a creation that was killed) is removed: a symbolic
     * link, a directory or a file with data is refused, and nothing outside {@code /run/netns} is
     * reached.
     *
     * @throws NamespaceNotFoundException if there is no such name
     * @throws NotANetworkNamespaceException if the name is not a namespace
     */
    public void delete(String name) {
        backend.removeName(Names.pathOf(name));
    }

    /** The names under {@code /run/netns}, sorted; empty if the directory does not exist. */
    public List<String> list() {
        try (Stream<Path> s = Files.list(Path.of(Names.RUN_DIR))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + Names.RUN_DIR, e);
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
     * Runs a command inside {@code ns} as {@code ip netns exec} does for the network namespace and
     * waits for it: stdin, stdout and stderr inherited, no other descriptor passed on, no shell.
     *
     * @return its exit status, 128 + signal if a signal ended it
     * @throws CommandNotRunException if it could not be started (not found: 127, not executable: 126)
     */
    public int exec(NetNamespace ns, List<String> command, Map<String, String> env) {
        return start(ns, command, env).waitFor();
    }

    /** Starts a command inside {@code ns} as {@link #exec} does, without waiting: the caller waits for it. */
    public ChildProcess start(NetNamespace ns, List<String> command, Map<String, String> env) {
        Objects.requireNonNull(ns, "ns");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> argv = List.copyOf(command);
        Map<String, String> environment = Map.copyOf(env);
        long pid = sw.onNewThread("ntk-exec", () -> sw.run(ns, () -> backend.spawn(argv, environment)));
        return new ChildProcess(pid, backend);
    }

    /**
     * The identity of the namespace at {@code path} if it is a network namespace now, without keeping
     * anything open; a symbolic link is not followed.
     *
     * @throws NamespaceNotFoundException if there is nothing at the path
     * @throws NotANetworkNamespaceException if it is something else (e.g. a name file not mounted yet)
     */
    public NamespaceId idOfNamespaceAt(String path) {
        dev.netnstoolkit.api.spi.NamespaceFd fd = backend.open(path, false);
        try {
            return fd.id();
        } finally {
            fd.close();
        }
    }

    /**
     * The distinct network namespaces of running processes, as {@code lsns -t net} lists them: the
     * processes whose namespace this process may read (all of them as root).
     */
    public List<ProcessNamespace> processNamespaces() {
        java.util.Map<NamespaceId, List<Long>> byId = new java.util.LinkedHashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    NamespaceId id = backend.idOf("/proc/" + f + "/ns/net", true);
                    byId.computeIfAbsent(id, k -> new ArrayList<>()).add(Long.parseLong(f));
                } catch (NamespaceException e) {
                    // ended while we looked, or not ours to read
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc", e);
        }
        List<ProcessNamespace> out = new ArrayList<>();
        byId.forEach((id, pids) -> {
            pids.sort(null);
            out.add(new ProcessNamespace(id, List.copyOf(pids), "/proc/" + pids.get(0) + "/ns/net"));
        });
        return out;
    }

    private List<String> namesOf(NamespaceId id) {
        List<String> names = new ArrayList<>();
        for (String name : list()) {
            if (Names.problem(name) != null) {
                continue; // a name the toolkit would not make (a newline in it): not ours to report
            }
            try {
                if (backend.idOf(Names.RUN_DIR + "/" + name, false).equals(id)) {
                    names.add(name);
                }
            } catch (NamespaceException e) {
                // a name removed while we looked, or an unmounted stale file: not this namespace
            }
        }
        return names;
    }
}

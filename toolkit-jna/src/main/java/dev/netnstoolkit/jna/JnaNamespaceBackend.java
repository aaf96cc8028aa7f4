package dev.netnstoolkit.jna;

import com.sun.jna.Pointer;
import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NamespaceNames;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.spi.NamespaceBackend;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/**
 * The Linux backend over JNA. Namespace creation and process spawning run on a fresh platform thread
 * that is switched and then ends (the thread is retired, never reused), as containernetworking's
 * {@code ns.Do} does; the caller's thread is never switched. Public only for {@link java.util.ServiceLoader}.
 */
public final class JnaNamespaceBackend implements NamespaceBackend {

    private static final int OPEN_NS = LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK | LibC.O_NOCTTY;
    /** O_PATH: stat without opening for read (never blocks on a FIFO). */
    private static final int OPEN_PATH = 010000000 | LibC.O_CLOEXEC;
    private static final int UNLINK_BUSY_RETRIES = 50;

    /**
     * The process's home namespace, held for the backend's life: retired threads switch back to it
     * before they end, so that not even a thread on its way out is seen outside home.
     */
    private final int homeFd;

    /** For ServiceLoader. */
    public JnaNamespaceBackend() {
        homeFd = LibC.open("/proc/self/ns/net", OPEN_NS, 0);
        if (homeFd < 0) {
            throw Errors.of("open", LibC.errno(), "/proc/self/ns/net", "read access to /proc/self/ns/net");
        }
    }

    @Override
    public NetNamespace open(String path, String name) {
        int fd = LibC.open(path, OPEN_NS, 0);
        if (fd < 0) {
            int errno = LibC.errno();
            String cap = path.startsWith("/proc/") ? "CAP_SYS_PTRACE or the same user as the process" : "read access to " + path;
            throw Errors.of("open", errno, path, cap);
        }
        try {
            checkNetworkNamespace(fd, path);
            return NetNamespace.adopt(fd, fstatId(fd, path), name, path, LibC::close);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    @Override
    public NetNamespace create(String name, CreateOptions options) {
        String path = NamespaceNames.pathOf(name);
        ensureRunDir();
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0);
        if (fd < 0) {
            throw Errors.of("open", LibC.errno(), path, Errors.RUN_DIR_WRITE);
        }
        LibC.close(fd);
        try {
            onRetiredThread("create", () -> {
                if (LibC.unshare(LibC.CLONE_NEWNET) != 0) {
                    throw Errors.of("unshare", LibC.errno(), "CLONE_NEWNET for " + name, Errors.CAP_SYS_ADMIN);
                }
                if (options.loopbackUp()) {
                    loopbackUp(name);
                }
                if (LibC.mount("/proc/thread-self/ns/net", path, "none", LibC.MS_BIND, null) != 0) {
                    throw Errors.of("mount", LibC.errno(), path, Errors.CAP_SYS_ADMIN);
                }
                return null;
            });
            return open(path, name);
        } catch (RuntimeException e) {
            // No stray file, whatever failed (the unmount fails harmlessly if nothing was mounted).
            LibC.umount2(path, LibC.MNT_DETACH);
            LibC.unlink(path);
            throw e;
        }
    }

    @Override
    public void delete(String name) {
        String path = NamespaceNames.pathOf(name);
        if (LibC.umount2(path, LibC.MNT_DETACH) != 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINVAL) { // EINVAL: not a mount point (a stale file); unlink it as ip does
                throw Errors.of("umount2", errno, path, Errors.CAP_SYS_ADMIN);
            }
        }
        for (int attempt = 0; ; attempt++) {
            if (LibC.unlink(path) == 0) {
                return;
            }
            int errno = LibC.errno();
            if (errno != LibC.EBUSY || attempt == UNLINK_BUSY_RETRIES) {
                throw Errors.of("unlink", errno, path, Errors.RUN_DIR_WRITE);
            }
            LockSupport.parkNanos(1_000_000L);
        }
    }

    @Override
    public NamespaceId idOf(String path) {
        int fd = LibC.open(path, OPEN_PATH, 0);
        if (fd < 0) {
            throw Errors.of("open", LibC.errno(), path, "read access to " + path);
        }
        try {
            return fstatId(fd, path);
        } finally {
            LibC.close(fd);
        }
    }

    @Override
    public NamespaceId homeId() {
        return idOf("/proc/self/ns/net");
    }

    @Override
    public NamespaceId threadId() {
        return idOf("/proc/thread-self/ns/net");
    }

    @Override
    public void setns(int fd, String target) {
        if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0) {
            throw Errors.switchFailed(LibC.errno(), target);
        }
    }

    @Override
    public void setCloseOnExec(int fd) {
        if (LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC) != 0) {
            throw Errors.of("fcntl(F_SETFD, FD_CLOEXEC)", LibC.errno(), "fd " + fd, "ownership of the descriptor");
        }
    }

    @Override
    public long spawn(NetNamespace ns, List<String> argv, Map<String, String> env) {
        List<String> envp = new ArrayList<>(env.size());
        env.forEach((k, v) -> envp.add(k + "=" + v));
        try (CBuffers buffers = new CBuffers()) {
            Pointer argvp = buffers.stringArray(argv);
            Pointer envpp = buffers.stringArray(envp);
            Pointer actions = buffers.alloc(LibC.SPAWN_FILE_ACTIONS_SIZE);
            Pointer attr = buffers.alloc(LibC.SPAWNATTR_SIZE);
            Pointer emptySet = buffers.alloc(LibC.SIGSET_SIZE);
            Pointer fullSet = buffers.alloc(LibC.SIGSET_SIZE);
            LibC.sigemptyset(emptySet);
            LibC.sigfillset(fullSet);
            LibC.posix_spawn_file_actions_init(actions);
            LibC.posix_spawnattr_init(attr);
            try {
                // Only 0, 1, 2 reach the child; signals back to defaults and unblocked, as a shell would leave them.
                LibC.posix_spawn_file_actions_addclosefrom_np(actions, 3);
                LibC.posix_spawnattr_setflags(attr, (short) (LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK));
                LibC.posix_spawnattr_setsigmask(attr, emptySet);
                LibC.posix_spawnattr_setsigdefault(attr, fullSet);
                int fd = ns.acquireFd();
                try {
                    return onRetiredThread("spawn", () -> {
                        setns(fd, ns.label());
                        int[] pid = new int[1];
                        int rc = LibC.posix_spawnp(pid, argv.get(0), actions, attr, argvp, envpp);
                        if (rc != 0) {
                            throw new NamespaceException("cannot run " + argv.get(0) + ": " + Errors.strerror(rc)
                                    + " (errno " + rc + ")", "posix_spawnp", rc, argv.get(0), null);
                        }
                        return (long) pid[0];
                    });
                } finally {
                    ns.releaseFd();
                }
            } finally {
                LibC.posix_spawnattr_destroy(attr);
                LibC.posix_spawn_file_actions_destroy(actions);
            }
        }
    }

    @Override
    public int waitFor(long pid) {
        int[] status = new int[1];
        while (LibC.waitpid((int) pid, status, 0) < 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINTR) {
                throw Errors.of("waitpid", errno, "pid " + pid, "a child of this process");
            }
        }
        int s = status[0];
        int termsig = s & 0x7f;
        return termsig == 0 ? (s >> 8) & 0xff : 128 + termsig;
    }

    /** As iproute2: /run/netns exists (0755) and is a shared mount, bound onto itself the first time. */
    private static void ensureRunDir() {
        String dir = NamespaceNames.RUN_DIR;
        if (LibC.mkdir(dir, 0755) != 0 && LibC.errno() != LibC.EEXIST) {
            throw Errors.of("mkdir", LibC.errno(), dir, Errors.RUN_DIR_WRITE);
        }
        boolean bound = false;
        while (LibC.mount("", dir, "none", LibC.MS_SHARED | LibC.MS_REC, null) != 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINVAL || bound) {
                throw Errors.of("mount", errno, dir + " (make-shared)", Errors.CAP_SYS_ADMIN);
            }
            if (LibC.mount(dir, dir, "none", LibC.MS_BIND | LibC.MS_REC, null) != 0) {
                throw Errors.of("mount", LibC.errno(), dir + " (bind)", Errors.CAP_SYS_ADMIN);
            }
            bound = true;
        }
    }

    /** On the calling thread, which must be inside the namespace: ioctl SIOCSIFFLAGS lo IFF_UP. */
    private static void loopbackUp(String name) {
        int s = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (s < 0) {
            throw Errors.of("socket", LibC.errno(), "lo in " + name, Errors.CAP_NET_ADMIN);
        }
        try {
            byte[] ifr = new byte[LibC.IFREQ_SIZE];
            ifr[0] = 'l';
            ifr[1] = 'o';
            if (LibC.ioctl(s, LibC.SIOCGIFFLAGS, ifr) != 0) {
                throw Errors.of("ioctl(SIOCGIFFLAGS)", LibC.errno(), "lo in " + name, Errors.CAP_NET_ADMIN);
            }
            ByteBuffer b = ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder());
            b.putShort(16, (short) (b.getShort(16) | LibC.IFF_UP));
            if (LibC.ioctl(s, LibC.SIOCSIFFLAGS, ifr) != 0) {
                throw Errors.of("ioctl(SIOCSIFFLAGS)", LibC.errno(), "lo in " + name, Errors.CAP_NET_ADMIN);
            }
        } finally {
            LibC.close(s);
        }
    }

    private static void checkNetworkNamespace(int fd, String path) {
        byte[] statfs = new byte[LibC.STATFS_SIZE];
        if (LibC.fstatfs(fd, statfs) != 0) {
            throw Errors.of("fstatfs", LibC.errno(), path, "read access to " + path);
        }
        long type = ByteBuffer.wrap(statfs).order(ByteOrder.nativeOrder()).getLong(0);
        if (type != LibC.NSFS_MAGIC) {
            throw Errors.notANetworkNamespace(path, "not a namespace file (filesystem type 0x" + Long.toHexString(type) + ")");
        }
        int nstype = LibC.ioctl(fd, LibC.NS_GET_NSTYPE, null);
        if (nstype != LibC.CLONE_NEWNET) {
            throw Errors.notANetworkNamespace(path, nstype < 0
                    ? "ioctl(NS_GET_NSTYPE) failed: " + Errors.strerror(LibC.errno())
                    : "a namespace of another type (0x" + Integer.toHexString(nstype) + ")");
        }
    }

    private static NamespaceId fstatId(int fd, String path) {
        byte[] st = new byte[LibC.STAT_SIZE];
        if (LibC.fstat(fd, st) != 0) {
            throw Errors.of("fstat", LibC.errno(), path, "read access to " + path);
        }
        ByteBuffer b = ByteBuffer.wrap(st).order(ByteOrder.nativeOrder());
        return new NamespaceId(b.getLong(0), b.getLong(8));
    }

    /**
     * Runs {@code body} on a new platform thread that switches back home and ends right after; if it
     * cannot switch back, it still ends (retired), never to run anything else. The body must only make
     * system calls (no logging, no thread pools, no JNA Memory), since anything lazily started from it
     * would inherit its namespace.
     */
    private <T> T onRetiredThread(String what, Callable<T> body) {
        Object[] outcome = new Object[2];
        Thread t = new Thread(() -> {
            try {
                outcome[0] = body.call();
            } catch (Throwable e) {
                outcome[1] = e;
            } finally {
                LibC.setns(homeFd, LibC.CLONE_NEWNET);
            }
        }, "ntk-netns-" + what);
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the body is a handful of syscalls: finish it, keep the flag
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (outcome[1] instanceof RuntimeException e) {
            throw e;
        }
        if (outcome[1] instanceof Error e) {
            throw e;
        }
        if (outcome[1] != null) {
            throw new IllegalStateException((Throwable) outcome[1]);
        }
        @SuppressWarnings("unchecked")
        T result = (T) outcome[0];
        return result;
    }

    /** malloc'd C buffers freed together; no JNA Memory (see {@link LibC}). */
    private static final class CBuffers implements AutoCloseable {
        private final List<Long> blocks = new ArrayList<>();

        Pointer alloc(long size) {
            long p = LibC.malloc(size);
            if (p == 0) {
                throw new OutOfMemoryError("malloc(" + size + ")");
            }
            blocks.add(p);
            Pointer ptr = new Pointer(p);
            ptr.clear(size);
            return ptr;
        }

        /** A NULL-terminated char*[] of UTF-8 strings. */
        Pointer stringArray(List<String> strings) {
            Pointer array = alloc((long) (strings.size() + 1) * Long.BYTES);
            for (int i = 0; i < strings.size(); i++) {
                byte[] bytes = strings.get(i).getBytes(StandardCharsets.UTF_8);
                Pointer s = alloc(bytes.length + 1L);
                s.write(0, bytes, 0, bytes.length);
                array.setPointer((long) i * Long.BYTES, s);
            }
            return array;
        }

        @Override
        public void close() {
            blocks.forEach(LibC::free);
        }
    }
}

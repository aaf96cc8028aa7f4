package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.spi.DirectoryWatch;
import dev.netnstoolkit.api.spi.SocketFd;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The Linux backend over JNA: system calls only. It starts no thread and switches none by itself; the
 * calls that act on the calling thread's namespace are made by the toolkit's namespace switch, on
 * threads it owns. Public only for {@link java.util.ServiceLoader}.
 */
public final class JnaNamespaceBackend implements NamespaceBackend {

    private static final int OPEN_NS = LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK | LibC.O_NOCTTY;
    /** O_PATH: stat without opening for read (never blocks on a FIFO). */
    private static final int OPEN_PATH = LibC.O_PATH | LibC.O_CLOEXEC;
    private static final int UNLINK_BUSY_RETRIES = 50;

    /** For ServiceLoader. */
    public JnaNamespaceBackend() {
    }

    @Override
    public NamespaceFd open(String path, boolean followLinks) {
        int fd = LibC.open(path, OPEN_NS | (followLinks ? 0 : LibC.O_NOFOLLOW), 0);
        if (fd < 0) {
            int errno = LibC.errno();
            if (errno == LibC.ELOOP && !followLinks) {
                throw Errors.notANetworkNamespace(path, "a symbolic link (never followed under /run/netns)");
            }
            String cap = path.startsWith("/proc/") ? "CAP_SYS_PTRACE or the same user as the process" : "read access to " + path;
            throw Errors.lookup("open", errno, path, cap);
        }
        try {
            checkNetworkNamespace(fd, path);
            return NamespaceFd.adopt(fd, fstatId(fd, path), LibC::close);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    @Override
    public NamespaceId idOf(String path, boolean followLinks) {
        int fd = LibC.open(path, OPEN_PATH | (followLinks ? 0 : LibC.O_NOFOLLOW), 0);
        if (fd < 0) {
            throw Errors.lookup("open", LibC.errno(), path, "read access to " + path);
        }
        try {
            return fstatId(fd, path);
        } finally {
            LibC.close(fd);
        }
    }

    @Override
    public NamespaceId homeId() {
        return idOf("/proc/self/ns/net", true);
    }

    @Override
    public NamespaceId threadId() {
        return idOf("/proc/thread-self/ns/net", true);
    }

    // ---------------------------------------------------------------- the calling thread

    @Override
    public void setns(NamespaceFd.Lease ns, String target) {
        if (LibC.setns(ns.fd(), LibC.CLONE_NEWNET) != 0) {
            throw Errors.switchFailed(LibC.errno(), target);
        }
    }

    @Override
    public void unshareNetwork(String target) {
        if (LibC.unshare(LibC.CLONE_NEWNET) != 0) {
            throw Errors.of("unshare", LibC.errno(), "CLONE_NEWNET for " + target, Errors.CAP_SYS_ADMIN);
        }
    }

    /** ioctl SIOCSIFFLAGS lo IFF_UP in the calling thread's namespace. */
    @Override
    public void loopbackUp(String target) {
        int s = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (s < 0) {
            throw Errors.of("socket", LibC.errno(), "lo in " + target, Errors.CAP_NET_ADMIN);
        }
        try {
            byte[] ifr = new byte[LibC.IFREQ_SIZE];
            ifr[0] = 'l';
            ifr[1] = 'o';
            if (LibC.ioctl(s, LibC.SIOCGIFFLAGS, ifr) != 0) {
                throw Errors.of("ioctl(SIOCGIFFLAGS)", LibC.errno(), "lo in " + target, Errors.CAP_NET_ADMIN);
            }
            ByteBuffer b = ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder());
            b.putShort(16, (short) (b.getShort(16) | LibC.IFF_UP));
            if (LibC.ioctl(s, LibC.SIOCSIFFLAGS, ifr) != 0) {
                throw Errors.of("ioctl(SIOCSIFFLAGS)", LibC.errno(), "lo in " + target, Errors.CAP_NET_ADMIN);
            }
        } finally {
            LibC.close(s);
        }
    }

    @Override
    public long spawn(List<String> argv, Map<String, String> env) {
        return ProcessCalls.spawn(argv, env);
    }

    // ---------------------------------------------------------------- named namespaces

    @Override
    public void createNameFile(String path) {
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        if (fd < 0) {
            throw Errors.of("open(O_CREAT|O_EXCL)", LibC.errno(), path, Errors.RUN_DIR_WRITE);
        }
        LibC.close(fd);
    }

    @Override
    public void bindThreadNamespace(String path) {
        if (LibC.mount("/proc/thread-self/ns/net", path, "none", LibC.MS_BIND, null) != 0) {
            throw Errors.of("mount", LibC.errno(), path, Errors.CAP_SYS_ADMIN);
        }
    }

    @Override
    public void removeName(String path) {
        boolean mounted = checkRemovable(path);
        String dir = path.substring(0, path.lastIndexOf('/'));
        // Unmount only what can then be unlinked: a read-only directory would leave a stale name behind.
        if (LibC.faccessat(LibC.AT_FDCWD, dir, LibC.W_OK, LibC.AT_EACCESS) != 0) {
            throw Errors.of("faccessat(W_OK)", LibC.errno(), dir, Errors.RUN_DIR_WRITE);
        }
        if (mounted && LibC.umount2(path, LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW) != 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINVAL) { // EINVAL: unmounted meanwhile
                throw Errors.of("umount2", errno, path, Errors.CAP_SYS_ADMIN);
            }
        }
        for (int attempt = 0; ; attempt++) {
            if (LibC.unlink(path) == 0) {
                return;
            }
            int errno = LibC.errno();
            if (errno != LibC.EBUSY || attempt == UNLINK_BUSY_RETRIES) {
                throw Errors.lookup("unlink", errno, path, Errors.RUN_DIR_WRITE);
            }
            LockSupport.parkNanos(1_000_000L);
        }
    }

    /**
     * What is at {@code path}, without following it: true for a mounted network namespace, false for
     * an empty regular file (a creation that was killed before its mount); anything else is refused.
     */
    private static boolean checkRemovable(String path) {
        int fd = LibC.open(path, OPEN_PATH | LibC.O_NOFOLLOW, 0);
        if (fd < 0) {
            throw Errors.lookup("open", LibC.errno(), path, "read access to " + path);
        }
        try {
            byte[] st = new byte[LibC.STAT_SIZE];
            if (LibC.fstat(fd, st) != 0) {
                throw Errors.of("fstat", LibC.errno(), path, "read access to " + path);
            }
            ByteBuffer b = ByteBuffer.wrap(st).order(ByteOrder.nativeOrder());
            int type = b.getInt(LibC.STAT_MODE) & LibC.S_IFMT;
            if (type == LibC.S_IFLNK) {
                throw Errors.notANetworkNamespace(path, "a symbolic link; refused, nothing outside /run/netns is removed");
            }
            if (fsType(fd, path) == LibC.NSFS_MAGIC) {
                int ns = LibC.open(path, OPEN_NS | LibC.O_NOFOLLOW, 0);
                if (ns < 0) {
                    throw Errors.lookup("open", LibC.errno(), path, "read access to " + path);
                }
                try {
                    checkNetworkNamespace(ns, path);
                } finally {
                    LibC.close(ns);
                }
                return true;
            }
            if (type == LibC.S_IFREG && b.getLong(LibC.STAT_SIZE_OFFSET) == 0) {
                return false;
            }
            throw Errors.notANetworkNamespace(path, type == LibC.S_IFREG
                    ? "a regular file with data; refused" : "not a namespace mount (mode 0" + Integer.toOctalString(type) + "); refused");
        } finally {
            LibC.close(fd);
        }
    }

    @Override
    public DirectoryWatch watchDirectory(String dir) {
        return InotifyWatch.of(dir);
    }

    @Override
    public SocketFd socket(int family, int type, int protocol, String target) {
        return JnaSocket.open(family, type, protocol, target);
    }

    // ---------------------------------------------------------------- other descriptors, processes

    @Override
    public void setCloseOnExec(int fd) {
        if (LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC) != 0) {
            throw Errors.of("fcntl(F_SETFD, FD_CLOEXEC)", LibC.errno(), "fd " + fd, "ownership of the descriptor");
        }
    }

    @Override
    public void awaitExit(long pid) {
        ProcessCalls.awaitExit(pid);
    }

    @Override
    public int reap(long pid) {
        return ProcessCalls.reap(pid);
    }

    @Override
    public void kill(long pid, int signal) {
        ProcessCalls.kill(pid, signal);
    }

    /** As iproute2: the directory exists (0755) and is a shared mount, bound onto itself the first time. */
    @Override
    public void prepareRunDir(String dir) {
        if (LibC.mkdir(dir, 0755) != 0) {
            int errno = LibC.errno();
            if (errno != LibC.EEXIST) {
                throw Errors.of("mkdir", errno, dir, Errors.RUN_DIR_WRITE);
            }
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

    private static long fsType(int fd, String path) {
        byte[] statfs = new byte[LibC.STATFS_SIZE];
        if (LibC.fstatfs(fd, statfs) != 0) {
            throw Errors.of("fstatfs", LibC.errno(), path, "read access to " + path);
        }
        return ByteBuffer.wrap(statfs).order(ByteOrder.nativeOrder()).getLong(0);
    }

    private static void checkNetworkNamespace(int fd, String path) {
        long type = fsType(fd, path);
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
}

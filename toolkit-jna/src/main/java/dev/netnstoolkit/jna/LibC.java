package dev.netnstoolkit.jna;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc calls of the toolkit, JNA direct mapping: the one place where the process talks to the
 * kernel. Callers read errno with {@link #errno()} right after a call that failed.
 *
 * <p>Only primitive arrays and Strings cross here (no {@code Memory}): JNA's Memory registers with a
 * lazily started "JNA Cleaner" thread, which must never be started from a switched thread.
 * Buffers that must outlive a call are {@link #malloc}ed and freed explicitly.
 */
final class LibC {

    static final int O_RDONLY = 0;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int O_NOFOLLOW = 0400000;
    static final int O_PATH = 010000000;

    static final int CLONE_NEWNET = 0x40000000;
    static final long NSFS_MAGIC = 0x6e736673L;
    /** _IO(0xb7, 0x3). */
    static final long NS_GET_NSTYPE = 0xb703L;

    static final long MS_BIND = 4096;
    static final long MS_REC = 16384;
    static final long MS_SHARED = 1 << 20;
    static final int MNT_DETACH = 2;
    static final int UMOUNT_NOFOLLOW = 8;

    static final int AT_FDCWD = -100;
    static final int W_OK = 2;
    static final int AT_EACCESS = 0x200;

    static final int P_PID = 1;
    static final int WEXITED = 4;
    static final int WNOWAIT = 0x01000000;
    /** sizeof(siginfo_t). */
    static final int SIGINFO_SIZE = 128;

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 02000000;
    static final int SOCK_NONBLOCK = 04000;
    static final int MSG_DONTWAIT = 0x40;
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCSIFFLAGS = 0x8914;
    static final short IFF_UP = 0x1;
    /** struct ifreq: 16 bytes name, then the union (flags is a short at offset 16). */
    static final int IFREQ_SIZE = 40;

    static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, ENOEXEC = 8, EBADF = 9, EACCES = 13, EBUSY = 16,
            EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ELOOP = 40,
            EAGAIN = 11, EINPROGRESS = 115, EPROTOTYPE = 91, EPROTONOSUPPORT = 93, ESOCKTNOSUPPORT = 94, EAFNOSUPPORT = 97;

    /** sizeof(struct stat) on x86_64 / aarch64 is 144 / 128; st_dev and st_ino are the first two u64 on both. */
    static final int STAT_SIZE = 256;
    /** Offsets of st_mode (u32) and st_size (i64) in struct stat: x86_64 and aarch64 differ. */
    static final int STAT_MODE = Platform.isARM() ? 16 : 24;
    static final int STAT_SIZE_OFFSET = 48;
    static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFLNK = 0120000;
    /** sizeof(struct statfs): f_type is the first word. */
    static final int STATFS_SIZE = 256;

    /** posix_spawn flags and struct sizes (glibc). */
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    static final int SPAWN_FILE_ACTIONS_SIZE = 80;
    static final int SPAWNATTR_SIZE = 336;
    static final int SIGSET_SIZE = 128;

    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    static int errno() {
        return Native.getLastError();
    }

    static native int setns(int fd, int nstype);

    static native int unshare(int flags);

    static native int open(String path, int flags, int mode);

    static native int close(int fd);

    static final int F_SETFD = 2;
    static final int FD_CLOEXEC = 1;

    static native int fcntl(int fd, int cmd, int arg);

    static native int fstat(int fd, byte[] statbuf);

    static native int fstatfs(int fd, byte[] statfsbuf);

    static native int ioctl(int fd, long request, byte[] arg);

    static native int mount(String source, String target, String fstype, long flags, Pointer data);

    static native int umount2(String target, int flags);

    static native int mkdir(String path, int mode);

    static native int unlink(String path);

    static native int faccessat(int dirfd, String path, int mode, int flags);

    static native int socket(int domain, int type, int protocol);

    static native int setsockopt(int fd, int level, int name, int[] value, int length);

    static native int bind(int fd, byte[] sockaddr, int length);

    static native int listen(int fd, int backlog);

    static native int connect(int fd, byte[] sockaddr, int length);

    static native int getsockopt(int fd, int level, int name, int[] value, int[] length);

    static native long sendto(int fd, byte[] buf, long length, int flags, byte[] sockaddr, int addrlen);

    static native long recvfrom(int fd, byte[] buf, long length, int flags, byte[] sockaddr, int[] addrlen);

    static native String strerror(int errnum);

    static native long malloc(long size);

    static native void free(long ptr);

    static native int posix_spawnp(int[] pid, String file, Pointer fileActions, Pointer attr, Pointer argv, Pointer envp);

    static native int posix_spawn_file_actions_init(Pointer fileActions);

    static native int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

    static native int posix_spawn_file_actions_destroy(Pointer fileActions);

    static native int posix_spawnattr_init(Pointer attr);

    static native int posix_spawnattr_setflags(Pointer attr, short flags);

    static native int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

    static native int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);

    static native int posix_spawnattr_destroy(Pointer attr);

    static native int sigemptyset(Pointer set);

    static native int sigfillset(Pointer set);

    static native int waitpid(int pid, int[] status, int options);

    static native int waitid(int idtype, int id, byte[] infop, int options);

    static native int kill(int pid, int sig);

    static native int inotify_init1(int flags);

    static native int inotify_add_watch(int fd, String path, int mask);

    static native int read(int fd, byte[] buf, long count);
}

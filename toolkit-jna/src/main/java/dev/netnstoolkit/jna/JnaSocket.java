package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.SocketUnsupportedException;
import dev.netnstoolkit.api.spi.SocketFd;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@link SocketFd} over socket(2), setsockopt(2), bind(2), sendto(2) and recvfrom(2), never blocking. */
final class JnaSocket implements SocketFd {

    /** Room for any struct sockaddr (sockaddr_storage). */
    private static final int SOCKADDR_MAX = 128;

    private final int fd;
    private final String target;
    private final AtomicBoolean closed = new AtomicBoolean();

    private JnaSocket(int fd, String target) {
        this.fd = fd;
        this.target = target;
    }

    static JnaSocket open(int family, int type, int protocol, String target) {
        int fd = LibC.socket(family, type | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            int errno = LibC.errno();
            String call = "socket(" + family + ", " + type + ", " + protocol + ")";
            switch (errno) {
                case LibC.EAFNOSUPPORT, LibC.EPROTONOSUPPORT, LibC.ESOCKTNOSUPPORT, LibC.EPROTOTYPE, LibC.EINVAL ->
                        throw new SocketUnsupportedException("the kernel does not offer this socket: "
                                + Errors.message(call, errno, target), "socket", errno, target);
                default -> throw Errors.of(call, errno, target,
                        "CAP_NET_RAW for raw sockets, a group in net.ipv4.ping_group_range for ICMP datagram sockets");
            }
        }
        return new JnaSocket(fd, target);
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void setOption(int level, int name, int value) {
        if (LibC.setsockopt(fd, level, name, new int[] {value}, 4) != 0) {
            throw Errors.of("setsockopt(" + level + ", " + name + ")", LibC.errno(), target, "CAP_NET_ADMIN");
        }
    }

    @Override
    public void bind(byte[] sockaddr) {
        if (LibC.bind(fd, sockaddr, sockaddr.length) != 0) {
            throw Errors.of("bind", LibC.errno(), target, "CAP_NET_ADMIN");
        }
    }

    @Override
    public void listen(int backlog) {
        if (LibC.listen(fd, backlog) != 0) {
            throw Errors.of("listen", LibC.errno(), target, "CAP_NET_ADMIN");
        }
    }

    @Override
    public boolean connect(byte[] sockaddr) {
        while (true) {
            if (LibC.connect(fd, sockaddr, sockaddr.length) == 0) {
                return true;
            }
            int errno = LibC.errno();
            if (errno == LibC.EINPROGRESS) {
                return false;
            }
            if (errno != LibC.EINTR) {
                throw failure("connect", errno);
            }
        }
    }

    @Override
    public int pendingError() {
        int[] value = {0};
        int[] length = {4};
        if (LibC.getsockopt(fd, 1 /* SOL_SOCKET */, 4 /* SO_ERROR */, value, length) != 0) {
            return LibC.errno();
        }
        return value[0];
    }

    @Override
    public int release() {
        closed.set(true);
        return fd;
    }

    @Override
    public int sendTo(byte[] data, int offset, int length, byte[] sockaddr) {
        byte[] bytes = offset == 0 ? data : Arrays.copyOfRange(data, offset, offset + length);
        while (true) {
            long n = LibC.sendto(fd, bytes, length, LibC.MSG_DONTWAIT, sockaddr, sockaddr == null ? 0 : sockaddr.length);
            if (n >= 0) {
                return (int) n;
            }
            int errno = LibC.errno();
            if (errno == LibC.EAGAIN) {
                return -1;
            }
            if (errno != LibC.EINTR) {
                throw failure("sendto", errno);
            }
        }
    }

    @Override
    public Received receive(byte[] buffer) {
        byte[] from = new byte[SOCKADDR_MAX];
        int[] fromLength = {SOCKADDR_MAX};
        while (true) {
            long n = LibC.recvfrom(fd, buffer, buffer.length, LibC.MSG_DONTWAIT, from, fromLength);
            if (n >= 0) {
                return new Received((int) n, Arrays.copyOf(from, Math.min(fromLength[0], SOCKADDR_MAX)));
            }
            int errno = LibC.errno();
            if (errno == LibC.EAGAIN) {
                return null;
            }
            if (errno != LibC.EINTR) {
                throw failure("recvfrom", errno);
            }
        }
    }

    private NamespaceException failure(String call, int errno) {
        return new NamespaceException(Errors.message(call, errno, target), call, errno, target, null);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            LibC.close(fd);
        }
    }
}

package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.spi.DirectoryWatch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@link DirectoryWatch} over inotify: IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO and the directory's own end. */
final class InotifyWatch implements DirectoryWatch {

    private static final int IN_NONBLOCK = 04000, IN_CLOEXEC = 02000000;
    private static final int IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200;
    private static final int IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_UNMOUNT = 0x2000;
    private static final int IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000, IN_ONLYDIR = 0x1000000;
    /** Room for many events: struct inotify_event is 16 bytes plus the name, padded. */
    private static final int BUFFER = 64 * 1024;

    private final int fd;
    private final byte[] buffer = new byte[BUFFER];
    private final AtomicBoolean closed = new AtomicBoolean();

    private InotifyWatch(int fd) {
        this.fd = fd;
    }

    static InotifyWatch of(String dir) {
        int fd = LibC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) {
            throw Errors.of("inotify_init1", LibC.errno(), dir, "a free inotify instance (fs.inotify.max_user_instances)");
        }
        int mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
        if (LibC.inotify_add_watch(fd, dir, mask) < 0) {
            int errno = LibC.errno();
            LibC.close(fd);
            throw Errors.lookup("inotify_add_watch", errno, dir, "read access to " + dir);
        }
        return new InotifyWatch(fd);
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public List<Event> read() {
        List<Event> events = new ArrayList<>();
        while (!closed.get()) {
            int n = LibC.read(fd, buffer, buffer.length);
            if (n <= 0) {
                if (n < 0 && LibC.errno() != LibC.EAGAIN && LibC.errno() != LibC.EINTR) {
                    events.add(new Event(Kind.DIRECTORY_GONE, null));
                }
                break;
            }
            ByteBuffer b = ByteBuffer.wrap(buffer, 0, n).order(ByteOrder.nativeOrder());
            while (b.remaining() >= 16) {
                b.getInt(); // wd
                int mask = b.getInt();
                b.getInt(); // cookie
                int len = b.getInt();
                String name = null;
                if (len > 0) {
                    int end = b.position();
                    while (end < b.position() + len && buffer[end] != 0) {
                        end++;
                    }
                    name = new String(buffer, b.position(), end - b.position(), StandardCharsets.UTF_8);
                    b.position(b.position() + len);
                }
                if ((mask & IN_Q_OVERFLOW) != 0) {
                    events.add(new Event(Kind.OVERFLOW, null));
                } else if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) != 0) {
                    events.add(new Event(Kind.DIRECTORY_GONE, null));
                } else if ((mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
                    events.add(new Event(Kind.CREATED, name));
                } else if ((mask & (IN_DELETE | IN_MOVED_FROM)) != 0) {
                    events.add(new Event(Kind.DELETED, name));
                }
            }
        }
        return events;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            LibC.close(fd);
        }
    }
}

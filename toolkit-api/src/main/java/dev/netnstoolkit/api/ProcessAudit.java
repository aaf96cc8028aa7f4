package dev.netnstoolkit.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads the toolkit's invariants off {@code /proc/self}: which threads are outside the home namespace,
 * how many descriptors and threads the process has. For self-checks in applications and samples, and
 * the basis of the test-support assertions.
 */
public final class ProcessAudit {

    private ProcessAudit() {
    }

    /** {@code net:[inode]} of the process's main thread: home. */
    public static String homeNamespace() {
        return link(Path.of("/proc/self/ns/net"));
    }

    /** The threads, as {@code "tid name net:[inode]"}, whose network namespace is not home. */
    public static List<String> threadsAwayFromHome() {
        return threadsAwayFromHome(Path.of("/proc/self"));
    }

    /**
     * The threads of process {@code pid}, as {@code "tid name net:[inode]"}, whose network namespace is
     * not that of its main thread; empty once the process is gone. For watching another JVM.
     */
    public static List<String> threadsAwayFromHome(long pid) {
        try {
            return threadsAwayFromHome(Path.of("/proc", Long.toString(pid)));
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return List.of(); // the process ended while we looked
            }
            throw e;
        }
    }

    private static List<String> threadsAwayFromHome(Path proc) {
        String home = link(proc.resolve("ns/net"));
        List<String> away = new ArrayList<>();
        for (Path task : list(proc.resolve("task"))) {
            String ns;
            try {
                ns = Files.readSymbolicLink(task.resolve("ns/net")).toString();
            } catch (NoSuchFileException e) {
                continue; // the thread ended while we looked
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (!ns.equals(home)) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                } catch (IOException e) {
                    comm = "?";
                }
                away.add(task.getFileName() + " " + comm + " " + ns);
            }
        }
        return away;
    }

    /** The number of threads of the process (entries in /proc/self/task). */
    public static int threadCount() {
        return list(Path.of("/proc/self/task")).size();
    }

    /** The number of open descriptors (entries in /proc/self/fd, the listing's own excluded). */
    public static int openFdCount() {
        return list(Path.of("/proc/self/fd")).size() - 1;
    }

    /** {@code fd->target} for every open descriptor, for error messages. */
    public static List<String> describeOpenFds() {
        List<String> out = new ArrayList<>();
        for (Path fd : list(Path.of("/proc/self/fd"))) {
            try {
                out.add(fd.getFileName() + "->" + Files.readSymbolicLink(fd));
            } catch (IOException e) {
                // the listing's own descriptor, closed by now
            }
        }
        return out;
    }

    /**
     * What changed since {@code before} (an earlier {@link #describeOpenFds()}), for error messages:
     * {@code "opened since: [...], closed since: [...]"}.
     */
    public static String describeFdChangesSince(List<String> before) {
        List<String> now = describeOpenFds();
        List<String> opened = new ArrayList<>(now);
        opened.removeAll(before);
        List<String> closed = new ArrayList<>(before);
        closed.removeAll(now);
        return "opened since: " + opened + ", closed since: " + closed;
    }

    /**
     * The socket descriptors, as {@code "fd->socket:[inode]"}, that the home namespace's socket tables
     * (/proc/self/net/{tcp,udp,raw}{,6}, unix, netlink, packet) do not list: sockets of another
     * namespace, which keep that namespace alive after its name is deleted. A socket that was never
     * bound or connected is not in any table and is listed too; call this when the work is done.
     */
    public static List<String> socketsOutsideHome() {
        Set<String> home = new HashSet<>();
        for (String table : List.of("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "netlink")) {
            inodes(table, 9, home);
        }
        inodes("unix", 6, home);
        inodes("packet", 8, home);
        List<String> outside = new ArrayList<>();
        String socket = "->socket:[";
        for (String fd : describeOpenFds()) {
            int at = fd.indexOf(socket);
            if (at > 0 && !home.contains(fd.substring(at + socket.length(), fd.length() - 1))) {
                outside.add(fd);
            }
        }
        return outside;
    }

    private static void inodes(String table, int column, Set<String> into) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/net", table));
        } catch (NoSuchFileException e) {
            return; // protocol not built into this kernel
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length > column) {
                into.add(cols[column]);
            }
        }
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

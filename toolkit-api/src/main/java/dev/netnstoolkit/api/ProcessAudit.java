package dev.netnstoolkit.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        String home = homeNamespace();
        List<String> away = new ArrayList<>();
        for (Path task : list(Path.of("/proc/self/task"))) {
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

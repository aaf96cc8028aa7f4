package dev.netnstoolkit.test;

import org.junit.jupiter.api.Assertions;

import dev.netnstoolkit.api.Namespaces;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The toolkit's invariants, checked from /proc rather than trusted from the code: every JVM thread in
 * the home namespace, no descriptor leaked, nothing left in /run/netns. Used by every test.
 *
 * <pre>{@code
 * Invariants.Snapshot before = Invariants.snapshot();
 * ... work ...
 * before.assertClean("ntk-test-abc-");   // threads at home, fd count back, no name with the prefix
 * }</pre>
 */
public final class Invariants {

    private static boolean warm;

    private Invariants() {
    }

    /** The state to compare with after the work. */
    public record Snapshot(String homeNamespace, int openFds) {

        /** All threads at home and the fd count back to the snapshot's. */
        public void assertClean() {
            assertAllThreadsAtHome();
            assertFdCount(openFds);
        }

        /** {@link #assertClean()} and no {@code /run/netns} entry starting with {@code prefix}. */
        public void assertClean(String prefix) {
            assertClean();
            assertNoNamespacesLeft(prefix);
        }
    }

    /**
     * Records the home namespace and the number of open descriptors now, after a one-time warm-up of
     * what the JVM and JNA open lazily and keep for life (/dev/random and /dev/urandom for SecureRandom,
     * libffi's trampoline file, the first temp file's socket), so that only real leaks show.
     */
    public static Snapshot snapshot() {
        warmUp();
        return new Snapshot(homeNamespace(), openFdCount());
    }

    private static synchronized void warmUp() {
        if (warm) {
            return;
        }
        try {
            Namespaces.system().home().close();
            Files.delete(Files.createTempFile("ntk-warm", ".tmp"));
            Process p = new ProcessBuilder("true").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        warm = true;
    }

    /** {@code net:[inode]} of the process's main thread: home. */
    public static String homeNamespace() {
        return link(Path.of("/proc/self/ns/net"));
    }

    /** The number of entries in /proc/self/fd (the listing's own descriptor excluded). */
    public static int openFdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count() - 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails listing every thread (tid, name, namespace) whose /proc/self/task/TID/ns/net is not home. */
    public static void assertAllThreadsAtHome() {
        String home = homeNamespace();
        List<String> away = threadsAwayFrom(home);
        Assertions.assertTrue(away.isEmpty(), () -> "threads outside the home namespace " + home + ": " + away);
    }

    /** The threads (as "tid name ns") whose namespace is not {@code home}. */
    public static List<String> threadsAwayFrom(String home) {
        List<String> away = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String ns;
                try {
                    ns = link(task.resolve("ns/net"));
                } catch (UncheckedIOException e) {
                    if (e.getCause() instanceof NoSuchFileException) {
                        continue; // the thread ended while we looked
                    }
                    throw e;
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
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return away;
    }

    /** Fails unless exactly {@code expected} descriptors are open; lists them when not. */
    public static void assertFdCount(int expected) {
        int now = openFdCount();
        if (now != expected) {
            Assertions.fail("open descriptors: " + now + ", expected " + expected + "; now open: " + describeFds());
        }
    }

    /** Fails if any name in /run/netns starts with {@code prefix}. */
    public static void assertNoNamespacesLeft(String prefix) {
        List<String> left = namesWithPrefix(prefix);
        Assertions.assertTrue(left.isEmpty(), () -> "namespaces left in /run/netns: " + left);
    }

    /** The names in /run/netns that start with {@code prefix}. */
    public static List<String> namesWithPrefix(String prefix) {
        try (Stream<Path> s = Files.list(Path.of("/run/netns"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String describeFds() {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) s::iterator) {
                try {
                    out.add(fd.getFileName() + "->" + Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // closed while listing (the listing's own descriptor)
                }
            }
        } catch (IOException e) {
            return "?";
        }
        return out.toString();
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

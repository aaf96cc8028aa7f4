package dev.netnstoolkit.test;

import org.junit.jupiter.api.Assertions;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.ProcessAudit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;

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

    /**
     * The state to compare with after the work: the home namespace, the number of open descriptors, and
     * what they were ({@code /proc/self/fd} entries, to name what was opened or closed when counts differ).
     */
    public record Snapshot(String homeNamespace, int openFds, List<String> fds) {

        /** All threads at home, the fd count back to the snapshot's, no socket of another namespace held. */
        public void assertClean() {
            assertAllThreadsAtHome();
            int now = settle(Invariants::openFdCount, n -> n == openFds);
            if (now != openFds) {
                Assertions.fail("open descriptors: " + now + ", expected " + openFds + "; "
                        + ProcessAudit.describeFdChangesSince(fds) + " (the snapshot)");
            }
            assertNoSocketsOutsideHome();
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
        // A steady count: closes still under way from earlier work, or a descriptor some background
        // thread holds for a moment, must not become the baseline (seen once in CI: one more than at the end).
        int fds = openFdCount();
        for (int i = 0, steady = 0; i < 100 && steady < 3 && sleepQuietly(20); i++) {
            int now = openFdCount();
            steady = now == fds ? steady + 1 : 0;
            fds = now;
        }
        return new Snapshot(homeNamespace(), fds, ProcessAudit.describeOpenFds());
    }

    private static synchronized void warmUp() {
        if (warm) {
            return;
        }
        try {
            NamespaceRegistry.system().home().close();
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
        return ProcessAudit.homeNamespace();
    }

    /** The number of open descriptors. */
    public static int openFdCount() {
        return ProcessAudit.openFdCount();
    }

    /**
     * Fails listing every thread (tid, name, namespace) whose /proc/self/task/TID/ns/net is not home.
     * Waits up to 2 s for threads on their way out (a joined Java thread can linger in /proc for a
     * moment) or in the middle of one socket creation; a thread left outside home stays there.
     */
    public static void assertAllThreadsAtHome() {
        List<String> stillAway = settle(ProcessAudit::threadsAwayFromHome, List::isEmpty);
        Assertions.assertTrue(stillAway.isEmpty(), () -> "threads outside the home namespace " + homeNamespace() + ": " + stillAway);
    }

    /**
     * Fails listing every socket descriptor that the home namespace's tables do not list: it belongs to
     * another namespace and keeps it alive after its name is gone. Call when the work is done (an unbound
     * socket is in no table and fails this too). Waits up to 2 s for closes under way.
     */
    public static void assertNoSocketsOutsideHome() {
        List<String> left = settle(ProcessAudit::socketsOutsideHome, List::isEmpty);
        Assertions.assertTrue(left.isEmpty(), () -> "sockets held outside the home namespace " + homeNamespace() + ": " + left);
    }

    /** Probes every 20 ms for up to 2 s until {@code done}; returns the last value. */
    private static <T> T settle(java.util.function.Supplier<T> probe, java.util.function.Predicate<T> done) {
        T value = probe.get();
        for (int i = 0; i < 100 && !done.test(value) && sleepQuietly(20); i++) {
            value = probe.get();
        }
        return value;
    }

    /** False if interrupted (the interrupt is kept). */
    private static boolean sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Fails if any name in /run/netns starts with {@code prefix}. */
    public static void assertNoNamespacesLeft(String prefix) {
        List<String> left = namesWithPrefix(prefix);
        Assertions.assertTrue(left.isEmpty(), () -> "namespaces left in /run/netns: " + left);
    }

    /** The names in /run/netns that start with {@code prefix}. */
    public static List<String> namesWithPrefix(String prefix) {
        return NamespaceRegistry.system().list().stream().filter(n -> n.startsWith(prefix)).toList();
    }
}

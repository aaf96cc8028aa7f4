package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** `ntk monitor` and `ntk serve --watch` in child JVMs, while iproute2 adds and deletes namespaces. */
@ExtendWith(Privilege.class)
class WatchCliTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    @Test
    void monitorPrintsAddAndDeleteWithTheIdentityAsIpNetnsMonitorDoes() throws Exception {
        String p = netns.prefix() + "m-";
        Commands.ok("ip", "netns", "add", p + "0"); // there at the start: printed first, so we know it watches
        String ino0 = inode(p + "0");
        Path log = Files.createTempFile("ntk-monitor", ".log");
        Process monitor = NtkCliTest.javaNtk(log, "monitor", "--prefix", p, "--duration", "60");
        try {
            awaitLines(log, l -> l.equals("add " + p + "0 net:[" + ino0 + "]"), 1);
            Commands.ok("ip", "netns", "add", p + "1");
            String ino1 = inode(p + "1");
            // seen before it goes: a name added and deleted before the watch could look at it is not reported (seen in
            // CI, with the child JVM slow to read: by then m-1 was gone, and its identity with it)
            awaitLines(log, l -> l.equals("add " + p + "1 net:[" + ino1 + "]"), 1);
            Commands.ok("ip", "netns", "add", netns.prefix() + "other"); // not under the prefix: not printed
            Commands.ok("ip", "netns", "delete", p + "0");
            Commands.ok("ip", "netns", "delete", p + "1");
            List<String> lines = awaitLines(log, l -> l.startsWith("delete " + p + "1 "), 1);
            // one name's lines are in order; another name's add may come later while it waits for its mount
            assertThat(lines).containsExactlyInAnyOrder(
                    "add " + p + "0 net:[" + ino0 + "]",
                    "add " + p + "1 net:[" + ino1 + "]",
                    "delete " + p + "0 net:[" + ino0 + "]",
                    "delete " + p + "1 net:[" + ino1 + "]");
            assertThat(lines.get(0)).isEqualTo("add " + p + "0 net:[" + ino0 + "]");
            assertThat(lines.indexOf("add " + p + "1 net:[" + ino1 + "]"))
                    .isLessThan(lines.indexOf("delete " + p + "1 net:[" + ino1 + "]"));
        } finally {
            monitor.destroy();
            monitor.waitFor(30, TimeUnit.SECONDS);
            monitor.destroyForcibly().waitFor();
            Files.deleteIfExists(log);
        }
    }

    @Test
    void linksPrintsTheLinksOfEachNamespaceThenEveryChangeInIt() throws Exception {
        String p = netns.prefix() + "l-";
        Commands.ok("ip", "netns", "add", p + "0");
        Commands.ok("ip", "netns", "add", p + "1");
        Path log = Files.createTempFile("ntk-links", ".log");
        Process links = NtkCliTest.javaNtk(log, "links", "--ns-prefix", p, "--count", "2", "--duration", "60");
        try {
            awaitLines(log, l -> l.endsWith(" lo present down"), 2);
            Commands.ok("ip", "-n", p + "1", "link", "add", "ntkl0", "type", "veth", "peer", "name", "ntkl1");
            Commands.ok("ip", "-n", p + "1", "link", "set", "lo", "up");
            Commands.ok("ip", "-n", p + "1", "link", "del", "ntkl0");
            List<String> lines = awaitLines(log, l -> l.equals(p + "1 ntkl0 removed"), 1);
            assertThat(lines).contains(p + "0 lo present down", p + "1 lo present down", p + "1 ntkl0 added", p + "1 ntkl1 added",
                    p + "1 lo up", p + "1 lo address added ::1/128", p + "1 lo address added 127.0.0.1/8");
            assertThat(lines).noneMatch(l -> l.startsWith(p + "0 ") && !l.equals(p + "0 lo present down"));
        } finally {
            links.destroy();
            links.waitFor(30, TimeUnit.SECONDS);
            links.destroyForcibly().waitFor();
            Files.deleteIfExists(log);
        }
    }

    @Test
    void serveWatchServesEveryNamespaceOfThePrefixAsItComesAndHoldsNothingOfItOnceItGoes() throws Exception {
        Invariants.Snapshot before = Invariants.snapshot();
        String p = netns.prefix() + "w-";
        Path log = Files.createTempFile("ntk-serve-watch", ".log");
        Process serve = NtkCliTest.javaNtk(log, "serve", "--watch", p, "--tcp", "7130", "--http", "8230", "--duration", "120");
        try {
            awaitLines(log, l -> l.equals("ready 0 listeners"), 1);
            String a = p + "a";
            Commands.ok("ip", "netns", "add", a);
            Commands.ok("ip", "-n", a, "link", "set", "lo", "up");
            awaitLines(log, l -> l.equals("serving " + a), 1);
            // the same answers as `serve`: TCP greets with the name and echoes, HTTP answers the name
            NtkCliTest.Run connect = NtkCliTest.ntk("hello\n", "connect", "--ns", a, "127.0.0.1:7130");
            assertThat(connect.out()).as(connect.err()).isEqualTo(a + "\nhello\n");
            assertThat(NtkCliTest.ntk(null, "get", "--ns", a, "http://127.0.0.1:8230/").out()).isEqualTo(a + "\n");

            // fifty at once with `ip -batch`, and one name added, deleted and added again in quick succession
            Commands.ipBatch(IntStream.range(0, 50).mapToObj(i -> "netns add " + p + "b" + i).toList());
            String again = p + "again";
            Commands.ok("sh", "-c", "ip netns add " + again + " && ip netns delete " + again + " && ip netns add " + again
                    + " && ip -n " + again + " link set lo up");
            String againIno = inode(again);
            awaitLines(log, l -> l.startsWith("serving " + p + "b"), 50);
            awaitUntil(() -> greeting(again).equals(again)); // the namespace there now is the one served
            List<String> inodes = new ArrayList<>(List.of(inode(a), againIno));
            IntStream.range(0, 50).forEach(i -> inodes.add(inode(p + "b" + i)));

            Commands.ipBatch(IntStream.range(0, 50).mapToObj(i -> "netns delete " + p + "b" + i).toList());
            Commands.ok("ip", "netns", "delete", a);
            Commands.ok("ip", "netns", "delete", again);
            awaitLines(log, l -> l.startsWith("stopped " + p + "b"), 50);
            awaitLines(log, l -> l.equals("stopped " + a), 1);
            List<String> lines = Files.readAllLines(log);
            assertThat(lines.stream().filter(l -> l.equals("serving " + again)).count()
                    - lines.stream().filter(l -> l.equals("stopped " + again)).count())
                    .as("the name added twice is served once at the end: %s", lines).isBetween(0L, 1L);
            awaitUntil(() -> lines(log).contains("stopped " + again) || !lines(log).contains("serving " + again));
            // nothing of the serving process keeps a deleted namespace alive: no descriptor of any of them
            awaitUntil(() -> namespaceFdsOf(serve.pid(), inodes).isEmpty());
            assertThat(namespaceFdsOf(serve.pid(), inodes)).isEmpty();

            serve.destroy(); // SIGTERM: releases everything and prints the summary
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String summary = Files.readAllLines(log).stream().filter(l -> l.startsWith("served: ")).findFirst().orElseThrow();
            // ntk connect's and the greetings' connections (one per namespace at least), the one HTTP request
            assertThat(summary).containsPattern("served: ([2-9]|\\d\\d+) tcp connections").contains(", 1 http requests")
                    .contains("namespaces served at the end 0").contains("threads outside home 0");
        } finally {
            serve.destroyForcibly().waitFor();
            Files.deleteIfExists(log);
        }
        netns.cleanUp();
        before.assertClean(netns.prefix());
    }

    /** What the TCP server in {@code ns} greets with, through bash's /dev/tcp from inside; "" if none yet. */
    private static String greeting(String ns) {
        Commands.Result r = Commands.run("timeout", "5", "ip", "netns", "exec", ns, "bash", "-c",
                "exec 3<>/dev/tcp/127.0.0.1/7130 && head -1 <&3");
        return r.exit() == 0 ? r.out().trim() : "";
    }

    private static String inode(String name) {
        return Commands.run("stat", "-L", "-c", "%i", "/run/netns/" + name).out().trim();
    }

    /** The descriptors of process {@code pid} that refer to one of the namespaces {@code inodes}. */
    private static List<String> namespaceFdsOf(long pid, List<String> inodes) {
        List<String> held = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (inodes.stream().anyMatch(ino -> target.equals("net:[" + ino + "]"))) {
                        held.add(fd + " -> " + target);
                    }
                } catch (IOException closedMeanwhile) {
                    // gone between the listing and the read
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the descriptors of " + pid + ": " + e, e);
        }
        return held;
    }

    private static List<String> lines(Path log) {
        try {
            return Files.readAllLines(log);
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Waits (at most 30 s) until {@code n} lines of the log match; returns all its lines. */
    private static List<String> awaitLines(Path log, Predicate<String> match, int n) throws InterruptedException {
        for (int i = 0; i < 300 && lines(log).stream().filter(match).count() < n; i++) {
            Thread.sleep(100);
        }
        List<String> lines = lines(log);
        assertThat(lines.stream().filter(match).count()).as("matching lines in %s", lines).isGreaterThanOrEqualTo(n);
        return lines;
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 100 && !condition.getAsBoolean(); i++) {
            Thread.sleep(100);
        }
    }
}

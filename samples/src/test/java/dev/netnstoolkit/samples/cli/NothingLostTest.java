package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.samples.owned.Owners;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.netnstoolkit.samples.cli.NtkCliTest.javaNtk;
import static dev.netnstoolkit.samples.cli.NtkCliTest.ntk;
import static dev.netnstoolkit.samples.cli.NtkCliTest.ntkCommand;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing lost, nothing leaked, whatever the signal: runs delete only what they made, exec takes its
 * child with it, serve echoes every byte, gc reclaims what killed runs left, bad input gets one line.
 */
@ExtendWith(Privilege.class)
class NothingLostTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    @Test
    void runsDeleteOnlyWhatTheyCreated() throws Exception {
        String prefix = netns.prefix() + "own-";
        Commands.ok("ip", "netns", "add", prefix + "1"); // someone else's, before the run
        NtkCliTest.Run soak = ntk(null, "soak", "--prefix", prefix, "--count", "3", "--duration", "1");
        assertThat(soak.exit()).isEqualTo(1);
        assertThat(soak.err()).contains("exists already").contains(prefix + "1");
        assertThat(NamespaceRegistry.system().list()).contains(prefix + "1").doesNotContain(prefix + "0", prefix + "2");
        String taken = netns.prefix() + "taken";
        Commands.ok("ip", "netns", "add", taken);
        NtkCliTest.Run named = ntk(null, "scenario", "named", "--name", taken);
        assertThat(named.exit()).isEqualTo(1);
        assertThat(NamespaceRegistry.system().list()).contains(taken);
    }

    @Test
    void execPassesSignalsToItsChildWaitsForItAndExitsWithItsStatus() throws Exception {
        String ns = netns.create().name().orElseThrow();
        for (String[] signal : List.of(new String[]{"TERM", "143"}, new String[]{"INT", "130"}, new String[]{"HUP", "129"})) {
            String marker = "91" + signal[0].length() + "7"; // a sleep only this test runs
            Process exec = javaNtk(null, "exec", ns, "sleep", marker);
            for (int i = 0; i < 200 && Commands.run("pgrep", "-f", "^sleep " + marker + "$").exit() != 0; i++) {
                Thread.sleep(50);
            }
            Commands.ok("kill", "-" + signal[0], Long.toString(exec.pid()));
            assertThat(exec.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(exec.exitValue()).as("ntk exec after SIG" + signal[0]).isEqualTo(Integer.parseInt(signal[1]));
            assertThat(Commands.run("pgrep", "-f", "^sleep " + marker + "$").exit()).as("no sleep left behind").isNotZero();
        }
        NtkCliTest.Run missing = ntk(null, "exec", ns, "ntk-no-such-command");
        assertThat(missing.exit()).isEqualTo(127);
        assertThat(missing.err()).contains("cannot run ntk-no-such-command");
        Path notExecutable = Files.createTempFile("ntk-noexec", ".sh");
        try {
            assertThat(ntk(null, "exec", ns, notExecutable.toString()).exit()).isEqualTo(126);
        } finally {
            Files.delete(notExecutable);
        }
    }

    @Test
    void serveEchoesEveryByteASeeingClientSentBeforeItsHalfClose() throws Exception {
        String ns = netns.create().name().orElseThrow();
        Path log = Files.createTempFile("ntk-serve", ".log");
        Path in = Files.createTempFile("ntk-in", ".txt");
        Path out = Files.createTempFile("ntk-out", ".txt");
        Process serve = javaNtk(log, "serve", "--ns", ns, "--tcp", "0", "--duration", "120");
        try {
            for (int i = 0; i < 300 && !Files.readString(log).contains("ready"); i++) {
                Thread.sleep(100);
            }
            String listening = Files.readAllLines(log).stream().filter(l -> l.startsWith("listening tcp " + ns + " ")).findFirst().orElseThrow();
            int port = Integer.parseInt(listening.substring(listening.lastIndexOf(' ') + 1));
            assertThat(port).isPositive();
            StringBuilder lines = new StringBuilder();
            for (int i = 1; i <= 200_000; i++) {
                lines.append(i).append('\n');
            }
            lines.append("a last line without a newline");
            Files.writeString(in, lines);
            assertThat(connect(ns, port, in, out)).isZero();
            assertThat(Files.readString(out)).isEqualTo(ns + "\n" + lines);
            byte[] binary = new byte[3_000_000];
            new Random(7).nextBytes(binary);
            Files.write(in, binary);
            assertThat(connect(ns, port, in, out)).isZero();
            byte[] echoed = Files.readAllBytes(out);
            byte[] greeting = (ns + "\n").getBytes(StandardCharsets.UTF_8);
            assertThat(echoed.length).isEqualTo(greeting.length + binary.length);
            assertThat(sha256(echoed, greeting.length)).isEqualTo(sha256(binary, 0));
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
            serve.destroyForcibly().waitFor();
            Files.deleteIfExists(log);
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
        }
    }

    private static int connect(String ns, int port, Path in, Path out) throws Exception {
        Process p = new ProcessBuilder(ntkCommand("connect", "--ns", ns, "127.0.0.1:" + port))
                .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    private static String sha256(byte[] data, int from) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(data, from, data.length - from);
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void gcReclaimsWhatKilledRunsLeftAndEmptyStaleNameFilesOnly() throws Exception {
        String dead = netns.prefix() + "dead";
        String live = netns.prefix() + "live";
        String stale = netns.prefix() + "stale";
        Commands.ok("ip", "netns", "add", dead);
        Commands.ok("ip", "netns", "add", live);
        Files.createDirectories(Owners.DIR);
        Files.writeString(Owners.DIR.resolve(dead), "pid=999999999 start=1 by=ntk-tour\n"); // an owner that has ended
        long me = ProcessHandle.current().pid();
        String myStart = Files.readString(Path.of("/proc/self/stat"));
        myStart = myStart.substring(myStart.lastIndexOf(')') + 2).split(" ")[19];
        Files.writeString(Owners.DIR.resolve(live), "pid=" + me + " start=" + myStart + " by=ntk-tour\n");
        Files.createFile(Path.of(NamespaceRegistry.runDir(), stale)); // an interrupted creation
        try {
            NtkCliTest.Run add = ntk(null, "add", stale);
            assertThat(add.exit()).isEqualTo(1);
            assertThat(add.err()).contains("empty, unmounted name file").contains("ntk gc");
            NtkCliTest.Run dry = ntk(null, "gc", "--dry-run");
            assertThat(dry.out()).contains("would remove " + dead).contains("would remove empty unmounted name file " + stale)
                    .doesNotContain(live);
            assertThat(NamespaceRegistry.system().list()).contains(dead, live, stale);
            NtkCliTest.Run gc = ntk(null, "gc");
            assertThat(gc.exit()).as(gc.out() + gc.err()).isZero();
            assertThat(gc.out()).contains("removed " + dead).contains("removed empty unmounted name file " + stale);
            assertThat(NamespaceRegistry.system().list()).contains(live).doesNotContain(dead, stale);
            assertThat(Owners.DIR.resolve(dead)).doesNotExist();
            assertThat(Owners.DIR.resolve(live)).exists();
        } finally {
            Files.deleteIfExists(Owners.DIR.resolve(live));
            Files.deleteIfExists(Owners.DIR.resolve(dead));
            Files.deleteIfExists(Path.of(NamespaceRegistry.runDir(), stale));
        }
    }

    @Test
    void loadCountsAnswersThatAreNot2xxAsErrors() throws Exception {
        String ns = netns.create().name().orElseThrow();
        Path log = Files.createTempFile("ntk-serve", ".log");
        Process serve = javaNtk(log, "serve", "--ns", ns, "--http", "8181", "--duration", "60");
        try {
            for (int i = 0; i < 300 && !Files.readString(log).contains("ready"); i++) {
                Thread.sleep(100);
            }
            NtkCliTest.Run load = ntk(null, "load", "--ns", ns, "--connect", "127.0.0.1:8181", "--http", "/nope", "--count", "20");
            assertThat(load.exit()).isEqualTo(1);
            assertThat(load.out()).contains("0 requests").contains("20 errors").contains("HTTP 404=20");
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
            serve.destroyForcibly().waitFor();
            Files.deleteIfExists(log);
        }
    }

    @Test
    void badNumbersAndNamesGetOneLine() throws Exception {
        String ns = netns.create().name().orElseThrow();
        assertOneLine(ntk(null, "tour", "--count", "0"), "--count must be between 1 and 100000, not 0");
        assertOneLine(ntk(null, "serve", "--ns", ns, "--tcp", "70000"), "port must be 0..65535, not 70000");
        assertOneLine(ntk(null, "connect", "--ns", ns, "127.0.0.1:abc"), "expects a port number after ':', not 'abc'");
        assertOneLine(ntk(null, "get", "--ns", ns, "--timeout", "0", "http://127.0.0.1:1/"), "--timeout must be 1..86400, not 0");
        assertOneLine(ntk(null, "add", "tab\there"), "contains a control character");
        NtkCliTest.Run dash = ntk(null, "add", "-x");
        assertThat(dash.err()).contains("goes after --");
        NtkCliTest.Run refused = ntk(null, "connect", "--ns", ns, "127.0.0.1:1");
        assertOneLine(refused, "connect to 127.0.0.1:1 in " + ns + " failed: Connection refused");
    }

    private static void assertOneLine(NtkCliTest.Run r, String expected) {
        assertThat(r.exit()).as(r.err()).isNotZero();
        assertThat(r.err().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(expected).doesNotContain("\tat ");
    }

    static File devNull() {
        return new File("/dev/null");
    }
}

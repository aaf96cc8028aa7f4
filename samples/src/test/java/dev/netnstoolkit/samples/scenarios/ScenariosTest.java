package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.samples.cli.Ntk;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Each scenario runs as a user runs it (`ntk scenario NAME`, a child JVM), says what it should, and leaves nothing behind. */
@ExtendWith(Privilege.class)
class ScenariosTest {

    static Commands.Result scenario(String... args) {
        String[] cmd = new String[4 + args.length];
        cmd[0] = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        cmd[1] = "-cp";
        cmd[2] = System.getProperty("java.class.path");
        cmd[3] = Ntk.class.getName();
        System.arraycopy(args, 0, cmd, 4, args.length);
        return Commands.run(cmd);
    }

    @Test
    void httpClientInANamespaceAndTheThreadCheck() {
        Commands.Result r = scenario("scenario", "http-client", "--requests", "300");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).containsPattern("300 requests from inside ntk-http-\\d+-0 to its own 127.0.0.1:8080; 300 answered by the server in that namespace");
        assertThat(r.out()).containsPattern("thread check: \\d+ JVM threads, 0 outside the home namespace");
        Invariants.assertNoNamespacesLeft("ntk-http-");
    }

    @Test
    void listenersInManyNamespacesWithAHandfulOfThreads() {
        Commands.Result r = scenario("scenario", "listeners", "--count", "50");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("50 namespaces, 100 listeners").contains("threads outside home: 0");
        assertThat(r.out()).containsPattern("\\d+ fds, ([1-3]\\d) OS threads"); // tens of threads, not hundreds
        Invariants.assertNoNamespacesLeft("ntk-listen-");
    }

    @Test
    void theInheritanceTrapIsShownAndAvoided() {
        Commands.Result r = scenario("scenario", "inheritance");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).containsPattern("trap: a thread switched into (ntk-inherit-\\d+-0) is in (net:\\[\\d+\\]); the thread it started is in \\2 too");
        assertThat(r.out()).containsPattern("inside (ntk-inherit-\\d+-1) says: hello from \\1");
        assertThat(r.out()).containsPattern("toolkit: \\d+ JVM threads, 0 outside home");
        Invariants.assertNoNamespacesLeft("ntk-inherit-");
    }

    @Test
    void aNamedNamespaceWorksWithIproute2AndRunsACommand() {
        String name = "ntk-test-named-" + ProcessHandle.current().pid();
        Commands.Result r = scenario("scenario", "named", "--name", name);
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("$ ntk exec " + name + " ip link").contains("lo: <LOOPBACK,UP").contains("[" + name + "]")
                .contains("deleted " + name);
        Commands.Result kept = scenario("scenario", "named", "--name", name, "--keep");
        try {
            assertThat(kept.exit()).isZero();
            assertThat(Commands.ok("ip", "netns", "exec", name, "ip", "-o", "link")).contains("lo");
        } finally {
            Commands.ok("ip", "netns", "delete", name);
        }
        Invariants.assertNoNamespacesLeft(name);
    }
}

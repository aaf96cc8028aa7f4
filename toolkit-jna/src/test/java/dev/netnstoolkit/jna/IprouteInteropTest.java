package dev.netnstoolkit.jna;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What we create, iproute2 sees and uses; what iproute2 creates, we open, list, identify and delete. */
@ExtendWith(Privilege.class)
class IprouteInteropTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final NamespaceRegistry registry = NamespaceRegistry.system();

    @Test
    void ipSeesAndUsesWhatWeCreate() throws Exception {
        Invariants.Snapshot before = Invariants.snapshot();
        String name = netns.newName();
        try (NetNamespace ns = registry.create(name)) {
            assertThat(lines(Commands.ok("ip", "netns", "list"))).anyMatch(l -> l.equals(name) || l.startsWith(name + " "));
            // lo is up, and ip netns exec runs inside it
            assertThat(Commands.ok("ip", "netns", "exec", name, "ip", "-o", "link", "show", "lo")).contains("UP");
            assertThat(Commands.ok("ip", "netns", "exec", name, "ip", "netns", "identify").trim()).isEqualTo(name);
            assertThat(Commands.ok("ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").trim())
                    .isEqualTo("net:[" + ns.id().ino() + "]");
            // the same modes as iproute2's: /run/netns 0755, name file mode 0 under its mount
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of("/run/netns")))).isEqualTo("rwxr-xr-x");
            assertThat(Commands.ok("findmnt", "-n", "-o", "PROPAGATION", "/run/netns")).contains("shared");
        }
        Commands.ok("ip", "netns", "delete", name);
        assertThat(registry.list()).doesNotContain(name);
        assertThat(Files.exists(Path.of("/run/netns", name))).isFalse();
        before.assertClean(netns.prefix());
    }

    @Test
    void weUseWhatIpCreates() {
        Invariants.Snapshot before = Invariants.snapshot();
        String name = netns.newName();
        Commands.ok("ip", "netns", "add", name);
        String ino = Commands.ok("ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").trim();
        assertThat(registry.list()).contains(name);
        try (NetNamespace ns = registry.open(name)) {
            assertThat("net:[" + ns.id().ino() + "]").isEqualTo(ino);
            assertThat(ns.name()).contains(name);
            assertThat(registry.identify(ns)).containsExactly(name);
        }
        registry.delete(name);
        assertThat(lines(Commands.ok("ip", "netns", "list"))).noneMatch(l -> l.startsWith(name));
        assertThat(registry.list()).doesNotContain(name);
        before.assertClean(netns.prefix());
    }

    @Test
    void identifyByPidMatchesIp() throws Exception {
        String name = netns.newName();
        Commands.ok("ip", "netns", "add", name);
        Process sleeper = Commands.background("ip", "netns", "exec", name, "sleep", "30");
        try {
            long pid = sleeper.pid();
            waitUntilInNamespace(pid, registry.open(name));
            assertThat(registry.identify(pid)).containsExactly(name);
            assertThat(Commands.ok("ip", "netns", "identify", Long.toString(pid)).trim()).isEqualTo(name);
            assertThat(registry.identify(ProcessHandle.current().pid())).doesNotContain(name);
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    private void waitUntilInNamespace(long pid, NetNamespace ns) throws InterruptedException {
        try (ns) {
            for (int i = 0; i < 500; i++) {
                try (NetNamespace p = registry.ofPid(pid)) {
                    if (p.equals(ns)) {
                        return;
                    }
                } catch (RuntimeException e) {
                    // not started yet
                }
                Thread.sleep(10);
            }
        }
        throw new AssertionError("process " + pid + " never entered " + ns);
    }

    private static List<String> lines(String s) {
        return Arrays.stream(s.split("\n")).map(String::trim).toList();
    }
}

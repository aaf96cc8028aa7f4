package dev.netnstoolkit.jna;

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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** No descriptor leaks and no thread left outside home, across many cycles. */
@ExtendWith(Privilege.class)
class LeakTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final NamespaceRegistry registry = NamespaceRegistry.system();

    @Test
    void thousandOpenCloseCyclesLeakNothing() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        registry.open(name).close(); // warm up class loading
        Invariants.Snapshot before = Invariants.snapshot();
        for (int i = 0; i < 1000; i++) {
            try (NetNamespace a = registry.open(name); NetNamespace b = registry.openPath("/proc/self/ns/net");
                 NetNamespace c = registry.current()) {
                assertThat(a).isEqualTo(ns);
                assertThat(b).isEqualTo(c);
            }
            try {
                registry.open(name + "-missing");
            } catch (RuntimeException expected) {
                // the failure path must close too
            }
            try {
                registry.openPath("/proc/self/ns/uts").close();
            } catch (RuntimeException expected) {
                // opened, found wrong, closed
            }
        }
        before.assertClean();
    }

    @Test
    void thousandCreateDeleteCyclesLeakNothing() {
        String warm = netns.newName();
        registry.create(warm).close();
        registry.delete(warm);
        Invariants.Snapshot before = Invariants.snapshot();
        for (int i = 0; i < 1000; i++) {
            String name = netns.newName();
            try (NetNamespace ns = registry.create(name, i % 2 == 0
                    ? dev.netnstoolkit.api.CreateOptions.defaults()
                    : dev.netnstoolkit.api.CreateOptions.defaults().withLoopbackUp(false))) {
                assertThat(ns.name()).contains(name);
            } finally {
                registry.delete(name);
            }
        }
        assertThat(Files.exists(Path.of("/run/netns", netns.prefix() + "1"))).isFalse();
        before.assertClean(netns.prefix());
    }

    @Test
    void execChildSeesOnlyStdioAndRunsInTheNamespace() throws Exception {
        NetNamespace ns = netns.create();
        Path out = Files.createTempFile("ntk-exec", ".txt");
        try {
            Invariants.Snapshot before = Invariants.snapshot();
            int exit = registry.exec(ns, List.of("sh", "-c",
                    "readlink /proc/self/ns/net > \"$0\"; ls /proc/self/fd >> \"$0\"; exit 7", out.toString()),
                    System.getenv());
            assertThat(exit).isEqualTo(7);
            List<String> lines = Files.readAllLines(out);
            assertThat(lines.get(0)).isEqualTo("net:[" + ns.id().ino() + "]");
            // sh's own fds: 0, 1, 2, the redirect (1 again) and ls's directory fd (3); nothing of the JVM's.
            assertThat(lines.subList(1, lines.size())).containsExactly("0", "1", "2", "3");
            before.assertClean();
        } finally {
            Files.deleteIfExists(out);
        }
    }
}

package dev.netnstoolkit.jna;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(Privilege.class)
class IdentityTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final NamespaceRegistry registry = NamespaceRegistry.system();

    @Test
    void sameNamespaceByNamePathAndPidIsEqualOthersAreNot() throws Exception {
        Invariants.Snapshot before = Invariants.snapshot();
        NetNamespace a = netns.create();
        NetNamespace b = netns.create();
        String nameA = a.name().orElseThrow();
        Process sleeper = Commands.background("ip", "netns", "exec", nameA, "sleep", "30");
        try (NetNamespace byName = registry.open(nameA);
             NetNamespace byPath = registry.openPath("/run/netns/" + nameA);
             NetNamespace home = registry.home();
             NetNamespace current = registry.current()) {
            NetNamespace byPid = null;
            for (int i = 0; i < 500 && (byPid == null || !byPid.equals(a)); i++) {
                if (byPid != null) {
                    byPid.close();
                }
                Thread.sleep(10);
                byPid = registry.ofPid(sleeper.pid());
            }
            try (NetNamespace p = byPid) {
                assertThat(byName).isEqualTo(a).isEqualTo(byPath).isEqualTo(p).hasSameHashCodeAs(a);
                assertThat(byPath.name()).isEmpty();
                assertThat(byName.name()).contains(nameA);
                assertThat(p.path()).isEqualTo("/proc/" + sleeper.pid() + "/ns/net");
            }
            assertThat(a).isNotEqualTo(b).isNotEqualTo(home);
            assertThat(current).isEqualTo(home);
            assertThat(registry.identify(home)).doesNotContain(nameA, b.name().orElseThrow());
            assertThat(registry.identify(b)).containsExactly(b.name().orElseThrow());
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
        netns.cleanUp();
        before.assertClean(netns.prefix());
    }

    @Test
    void aClosedHandleRejectsUseButKeepsItsIdentity() {
        NetNamespace ns = netns.create();
        ns.close();
        ns.close(); // idempotent
        assertThat(ns.isClosed()).isTrue();
        assertThat(ns.toString()).contains("closed");
        assertThatThrownBy(() -> registry.exec(ns, java.util.List.of("true"), System.getenv()))
                .isInstanceOf(ClosedNamespaceException.class)
                .hasMessageContaining(ns.label()).hasMessageContaining("closed");
    }

    @Test
    void aDeletedNamespaceLivesOnWhileAHandleIsOpen() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        registry.delete(name);
        assertThat(registry.list()).doesNotContain(name);
        // the handle still refers to a live namespace: a process can still be run inside it
        assertThat(registry.exec(ns, java.util.List.of("true"), System.getenv())).isZero();
    }
}

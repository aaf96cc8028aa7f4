package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No thread the toolkit does not own ever waits for it, and its own loops never block: checked with
 * Reactor's BlockHound in a child JVM (BlockHound instruments the whole JVM, and on JDK 17 needs
 * {@code -XX:+AllowRedefinitionToAddDeleteMethods}). See {@link BlockHoundProbe}.
 */
@ExtendWith(Privilege.class)
class BlockHoundTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    @Test
    void toolkitClientsFromReactorNettyLoopsTheParallelSchedulerAndTheToolkitsLoopsNeverBlock() {
        NetNamespace ns = netns.create();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String out = Commands.ok(java, "-XX:+AllowRedefinitionToAddDeleteMethods", "-cp", System.getProperty("java.class.path"),
                BlockHoundProbe.class.getName(), ns.name().orElseThrow(), "18500", "200");
        assertThat(out).contains("sanity: sleep on a toolkit loop seen");
        assertThat(out).contains("ok from Reactor Netty's loops: 200/200", "ok from the parallel scheduler: 200/200",
                "ok from the toolkit's loops: 200/200", "tcp ok from the parallel scheduler: 200/200",
                "pooled tcp ok from the parallel scheduler: 200/200", "pings answered from the parallel scheduler: 20/20",
                "generic stream ok from the parallel scheduler: 200/200",
                "veth bh0 seen added and removed: true");
        assertThat(out).as(out).contains("blocking calls: 0");
        Invariants.assertNoNamespacesLeft(netns.prefix() + "x");
    }
}

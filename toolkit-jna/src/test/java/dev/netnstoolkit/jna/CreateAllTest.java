package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link NamespaceRegistry#createAll}: the contract of one create, for many at once, all or none. */
@ExtendWith(Privilege.class)
class CreateAllTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final NamespaceRegistry registry = NamespaceRegistry.system();

    @Test
    void createsEveryNameWithLoUpInOrderAndIproute2SeesThem() {
        Invariants.Snapshot before = Invariants.snapshot();
        List<String> names = IntStream.range(0, 200).mapToObj(i -> netns.prefix() + "all-" + i).toList();
        List<NetNamespace> made = registry.createAll(names, CreateOptions.defaults());
        try {
            assertThat(made).extracting(ns -> ns.name().orElseThrow()).containsExactlyElementsOf(names);
            assertThat(made.stream().map(ns -> ns.id().ino()).distinct()).hasSize(names.size());
            List<String> listed = Arrays.stream(Commands.ok("ip", "netns", "list").split("\n")).map(l -> l.split(" ")[0]).toList();
            assertThat(listed).containsAll(names);
            for (int i : new int[] {0, 99, 199}) {
                assertThat(Commands.ok("ip", "-n", names.get(i), "-o", "link", "show", "lo")).contains("UP");
                assertThat(Commands.ok("ip", "netns", "exec", names.get(i), "readlink", "/proc/self/ns/net").trim())
                        .isEqualTo("net:[" + made.get(i).id().ino() + "]");
            }
            // the creating threads have ended: no thread per namespace, none left behind
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("ntk-create"));
        } finally {
            made.forEach(NetNamespace::close);
            names.forEach(registry::delete);
        }
        before.assertClean(netns.prefix());
    }

    @Test
    void oneNameTakenLeavesNothingOfTheCallAndTheTakenOneUntouched() {
        Invariants.Snapshot before = Invariants.snapshot();
        List<String> names = IntStream.range(0, 60).mapToObj(i -> netns.prefix() + "some-" + i).toList();
        String taken = names.get(37);
        Commands.ok("ip", "netns", "add", taken);
        String takenIno = Commands.ok("ip", "netns", "exec", taken, "readlink", "/proc/self/ns/net").trim();

        assertThatThrownBy(() -> registry.createAll(names, CreateOptions.defaults()))
                .isInstanceOf(NamespaceAlreadyExistsException.class)
                .hasMessageContaining(taken);

        assertThat(Invariants.namesWithPrefix(netns.prefix())).containsExactly(taken);
        assertThat(Commands.ok("ip", "netns", "exec", taken, "readlink", "/proc/self/ns/net").trim()).isEqualTo(takenIno);
        Commands.ok("ip", "netns", "delete", taken);
        before.assertClean(netns.prefix());
    }

    @Test
    void anInvalidOrRepeatedNameIsRefusedBeforeAnythingIsMade() {
        String a = netns.prefix() + "x";
        assertThatThrownBy(() -> registry.createAll(List.of(a, a), CreateOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than once");
        assertThatThrownBy(() -> registry.createAll(List.of(a, "../etc"), CreateOptions.defaults()))
                .isInstanceOf(dev.netnstoolkit.api.InvalidNamespaceNameException.class).hasMessageContaining("../etc");
        assertThat(registry.createAll(List.of(), CreateOptions.defaults())).isEmpty();
        assertThat(Invariants.namesWithPrefix(netns.prefix())).isEmpty();
    }
}

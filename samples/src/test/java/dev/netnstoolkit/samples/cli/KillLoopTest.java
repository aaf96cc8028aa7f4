package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.samples.owned.Owners;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.netnstoolkit.samples.cli.NtkCliTest.javaNtk;
import static dev.netnstoolkit.samples.cli.NtkCliTest.ntk;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signals at random moments, from outside the JVM, bounded in count and time: afterwards nothing a run
 * made is left in /run/netns, among the mounts or as an owner marker (SIGTERM/SIGINT at once; SIGKILL
 * after {@code ntk gc}).
 */
@ExtendWith(Privilege.class)
class KillLoopTest {

    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(90);

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final Random random = new Random(12);

    @Test
    void sigtermAndSigintAtAnyMomentOfATourLeaveNothing() throws Exception {
        long deadline = System.nanoTime() + BUDGET_NANOS / 3;
        int runs = 0;
        for (int i = 0; i < 12 && System.nanoTime() < deadline; i++) {
            Process tour = javaNtk(null, "tour", "--count", "30");
            Thread.sleep(300 + random.nextInt(2500)); // JVM start, creation, binding or checking
            Commands.run("kill", i % 2 == 0 ? "-TERM" : "-INT", Long.toString(tour.pid()));
            assertThat(tour.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertLeftNothing("ntk-tour-" + tour.pid() + "-");
            runs++;
        }
        assertThat(runs).isGreaterThanOrEqualTo(4);
    }

    @Test
    void aSigkilledTourIsReclaimedByGc() throws Exception {
        List<Long> killed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Process tour = javaNtk(null, "tour", "--count", "30");
            Thread.sleep(1200 + random.nextInt(1500));
            tour.destroyForcibly();
            assertThat(tour.waitFor(30, TimeUnit.SECONDS)).isTrue();
            killed.add(tour.pid());
        }
        NtkCliTest.Run gc = ntk(null, "gc");
        assertThat(gc.exit()).as(gc.out() + gc.err()).isZero();
        for (long pid : killed) {
            assertLeftNothing("ntk-tour-" + pid + "-");
        }
    }

    @Test
    void aSigkilledAddLeavesAtMostAStaleNameFileThatGcRemoves() throws Exception {
        String prefix = netns.prefix() + "kill-";
        long deadline = System.nanoTime() + BUDGET_NANOS / 3;
        int runs = 0;
        for (int i = 0; i < 40 && System.nanoTime() < deadline; i++) {
            Process add = javaNtk(null, "add", prefix + i);
            Thread.sleep(250 + random.nextInt(500));
            add.destroyForcibly();
            add.waitFor(30, TimeUnit.SECONDS);
            runs++;
        }
        assertThat(runs).isGreaterThanOrEqualTo(10);
        NtkCliTest.Run gc = ntk(null, "gc");
        assertThat(gc.exit()).as(gc.out() + gc.err()).isZero();
        assertThat(GcCommand.staleNameFiles()).noneMatch(n -> n.startsWith(prefix));
        NamespaceRegistry registry = NamespaceRegistry.system();
        for (String name : registry.list()) {
            if (name.startsWith(prefix)) {
                registry.open(name).close(); // what is left is a whole namespace: the add got to finish
                registry.delete(name);
            }
        }
        assertLeftNothing(prefix);
    }

    private static void assertLeftNothing(String prefix) throws Exception {
        for (int i = 0; i < 100 && !namesAndMarkers(prefix).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertThat(namesAndMarkers(prefix)).as("left by " + prefix).isEmpty();
        assertThat(Commands.ok("findmnt", "-rn", "-o", "TARGET")).doesNotContain("/run/netns/" + prefix);
    }

    private static List<String> namesAndMarkers(String prefix) {
        List<String> left = new ArrayList<>(NamespaceRegistry.system().list().stream().filter(n -> n.startsWith(prefix)).toList());
        Owners.all().stream().map(Owners.Marker::name).filter(n -> n.startsWith(prefix)).forEach(n -> left.add("marker " + n));
        return left;
    }
}

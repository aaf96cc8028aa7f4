package dev.netnstoolkit.jna;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A child JVM run as nobody with every capability dropped gets permission errors naming the capability, not a crash. */
@ExtendWith(Privilege.class)
class UnprivilegedTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    @Test
    void unprivilegedCallersGetPermissionErrors(@TempDir Path dir) throws IOException {
        String existing = netns.create().name().orElseThrow();
        String fresh = netns.newName();
        List<String> before = NamespaceRegistry.system().list();

        String out = Commands.ok(command(dir, fresh, existing).toArray(String[]::new));

        assertThat(out).doesNotContain("CRASH");
        assertThat(out).containsPattern("(?m)^create NamespacePermissionException CAP_SYS_ADMIN");
        assertThat(out).containsPattern("(?m)^delete NamespacePermissionException CAP_SYS_ADMIN");
        assertThat(out).containsPattern("(?m)^exec NamespacePermissionException CAP_SYS_ADMIN");
        assertThat(out).containsPattern("(?m)^list ok ok");
        assertThat(NamespaceRegistry.system().list()).isEqualTo(before);
    }

    /** setpriv as nobody with no capabilities, on a copy of the class path nobody can read. */
    private static List<String> command(Path dir, String fresh, String existing) throws IOException {
        String cp = Commands.readableClassPath(dir);
        Path jnaTmp = Commands.worldWritable(dir, "jna");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", java, "-Djna.tmpdir=" + jnaTmp, "-Duser.home=" + jnaTmp,
                "-cp", cp, UnprivilegedProbe.class.getName(), fresh, existing);
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Building the toolkit without CAP_SYS_ADMIN fails at the door with a typed error naming the
 * capability: no thread started, nothing logged, no stack trace (a child JVM as nobody, every
 * capability dropped).
 */
@ExtendWith(Privilege.class)
class UnprivilegedNetnsTest {

    @Test
    void withoutCapSysAdminTheToolkitRefusesToBuildWithATypedError(@TempDir Path dir) throws IOException {
        String cp = Commands.readableClassPath(dir);
        Path tmp = Commands.worldWritable(dir, "tmp");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String out = Commands.ok("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", java, "-Djna.tmpdir=" + tmp, "-Duser.home=" + tmp,
                "-cp", cp, UnprivilegedProbe.class.getName());
        assertThat(out).containsPattern("(?m)^netns NamespacePermissionException CAP_SYS_ADMIN \\| permission denied, needs CAP_SYS_ADMIN: setns\\(home");
        assertThat(out).containsPattern("(?m)^scheduler NamespacePermissionException CAP_SYS_ADMIN$");
        assertThat(out).contains("threads 0");
        assertThat(out).doesNotContain("SEVERE").doesNotContain("ERROR").doesNotContain("\tat ");
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What works without root, as documented in the README: run as nobody, `ntk tour` refuses with a message
 * saying what to do; inside a private user + mount namespace (`unshare -Urnm`, tmpfs over /run) it runs.
 * Root is needed only to drop to nobody here.
 */
@ExtendWith(Privilege.class)
class RootlessTourTest {

    @Test
    void asNobodyTheTourRefusesAndSaysWhatToDoAndUnderUnshareItRuns(@TempDir Path dir) throws Exception {
        String cp = Commands.readableClassPath(dir);
        Path jna = Commands.worldWritable(dir, "jna");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jvm = java + " -Djna.tmpdir=" + jna + " -Duser.home=" + jna + " -cp " + cp + " " + Ntk.class.getName();

        Commands.Result refused = Commands.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "sh", "-c", jvm + " tour --count 2");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.out()).contains("needs CAP_SYS_ADMIN").contains("Run it as root").contains("unshare -Urnm");

        Commands.Result rootless = Commands.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "unshare", "-Urnm", "sh", "-c", "mount -t tmpfs tmpfs /run && " + jvm + " tour --count 3");
        assertThat(rootless.exit()).as(rootless.out()).isZero();
        assertThat(rootless.out()).contains("tour: OK").contains("TCP connections, right namespace             | 3 / 3");
    }
}

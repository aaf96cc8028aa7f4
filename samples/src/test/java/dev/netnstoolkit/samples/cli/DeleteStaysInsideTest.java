package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ntk delete} never reaches outside /run/netns and removes only a namespace or an empty stale
 * name file. Each case runs in a private mount namespace ({@code unshare -m}) with its own tmpfs on
 * /run/netns, so the host's mounts are never touched.
 */
@ExtendWith(Privilege.class)
class DeleteStaysInsideTest {

    @Test
    void deleteRefusesSymlinksFilesWithDataAndANameItCouldNotUnlink(@TempDir Path dir) {
        String ntk = String.join(" ", NtkCliTest.ntkCommand()).replace(" " + Ntk.class.getName(), " " + Ntk.class.getName());
        Path victim = dir.resolve("victim");
        String script = String.join("\n",
                "set -u",
                "mount -t tmpfs ntk-test /run/netns",
                "mkdir -p " + victim + " && mount -t tmpfs ntk-victim " + victim,
                "ln -s " + victim + " /run/netns/link",
                ntk + " delete link; echo \"link exit=$?\"",
                "findmnt -n " + victim + " >/dev/null && echo 'victim still mounted'",
                "test -L /run/netns/link && echo 'link kept'",
                "printf data > /run/netns/data",
                ntk + " delete data; echo \"data exit=$?\"",
                "test -s /run/netns/data && echo 'data kept'",
                ": > /run/netns/stale",
                ntk + " delete stale; echo \"stale exit=$?\"",
                "test -e /run/netns/stale || echo 'stale removed'",
                "ip netns add ro",
                "mount -o remount,bind,ro /run/netns",
                ntk + " delete ro; echo \"ro exit=$?\"",
                "findmnt -n /run/netns/ro >/dev/null && echo 'ro still mounted'",
                "exit 0");
        String out = Commands.ok("unshare", "-m", "--propagation", "private", "sh", "-c", script);
        assertThat(out).contains("ntk: /run/netns/link is not a network namespace: a symbolic link").contains("link exit=1")
                .contains("victim still mounted").contains("link kept");
        assertThat(out).contains("/run/netns/data is not a network namespace: a regular file with data").contains("data exit=1")
                .contains("data kept");
        assertThat(out).contains("stale exit=0").contains("stale removed");
        assertThat(out).contains("ntk: faccessat(W_OK)(/run/netns) failed: Read-only file system").contains("ro exit=1")
                .contains("ro still mounted");
    }
}

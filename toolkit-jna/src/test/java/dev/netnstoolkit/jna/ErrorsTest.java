package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespacePermissionException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What an errno means depends on the call: ENOENT is "no such namespace" only where a namespace is looked up. */
class ErrorsTest {

    @Test
    void enoentIsNotFoundOnlyForLookups() {
        NamespaceException mkdir = Errors.of("mkdir", LibC.ENOENT, "/run/netns", Errors.RUN_DIR_WRITE);
        assertThat(mkdir).isNotInstanceOf(NamespaceNotFoundException.class)
                .hasMessage("mkdir(/run/netns) failed: No such file or directory (errno 2)");
        assertThat(Errors.lookup("open", LibC.ENOENT, "/run/netns/x", "read access"))
                .isInstanceOf(NamespaceNotFoundException.class).hasMessageContaining("no such namespace");
        assertThat(Errors.of("open(O_CREAT|O_EXCL)", LibC.EEXIST, "/run/netns/x", Errors.RUN_DIR_WRITE))
                .isInstanceOf(NamespaceAlreadyExistsException.class);
        assertThat(Errors.of("mount", LibC.EPERM, "/run/netns/x", Errors.CAP_SYS_ADMIN))
                .isInstanceOfSatisfying(NamespacePermissionException.class,
                        p -> assertThat(p.missingCapability()).isEqualTo("CAP_SYS_ADMIN"));
    }
}

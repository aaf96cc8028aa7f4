package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.InvalidNamespaceNameException;
import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.NotANetworkNamespaceException;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

@ExtendWith(Privilege.class)
class BadInputTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final NamespaceRegistry registry = NamespaceRegistry.system();

    static Stream<String> badNames() {
        return Stream.of("", ".", "..", "a/b", "../../etc", "/etc/passwd", "x\0y", "ntk-test-" + "n".repeat(247));
    }

    @ParameterizedTest
    @MethodSource("badNames")
    void badNamesAreRejectedBeforeAnySyscall(String name) throws IOException {
        List<String> runBefore = registry.list();
        long etcEntries;
        try (Stream<Path> s = Files.list(Path.of("/etc"))) {
            etcEntries = s.count();
        }
        Invariants.Snapshot before = Invariants.snapshot();
        for (Runnable op : List.<Runnable>of(() -> registry.create(name), () -> registry.open(name),
                () -> registry.delete(name))) {
            InvalidNamespaceNameException e = catchThrowableOfType(InvalidNamespaceNameException.class, op::run);
            assertThat(e).as("name '%s'", name).isNotNull();
            assertThat(e.getMessage()).startsWith("invalid namespace name");
            assertThat(e.syscall()).isNull();
            assertThat(e.errno()).isZero();
        }
        assertThat(registry.list()).isEqualTo(runBefore);
        try (Stream<Path> s = Files.list(Path.of("/etc"))) {
            assertThat(s.count()).isEqualTo(etcEntries);
        }
        before.assertClean();
    }

    @Test
    void aNameOf255BytesIsValid() {
        String name = netns.prefix() + "n".repeat(255 - netns.prefix().length());
        try (NetNamespace ns = registry.create(name)) {
            assertThat(registry.identify(ns)).containsExactly(name);
        }
        registry.delete(name);
    }

    @Test
    void nonNamespacePathsAreRejected(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Invariants.Snapshot before = Invariants.snapshot();
        for (String p : List.of(file.toString(), dir.toString(), "/proc/self/ns/uts", "/proc/self/ns/mnt", "/dev/null")) {
            NotANetworkNamespaceException e = catchThrowableOfType(NotANetworkNamespaceException.class, () -> registry.openPath(p));
            assertThat(e).as(p).isNotNull();
            assertThat(e.target()).isEqualTo(p);
            assertThat(e.getMessage()).contains(p).contains("not a network namespace");
        }
        before.assertClean();
    }

    @Test
    void missingThingsAreNotFound() {
        Invariants.Snapshot before = Invariants.snapshot();
        String name = netns.newName();
        NamespaceNotFoundException e = catchThrowableOfType(NamespaceNotFoundException.class, () -> registry.open(name));
        assertThat(e.errno()).isEqualTo(2);
        assertThat(e.syscall()).isEqualTo("open");
        assertThat(e.target()).isEqualTo("/run/netns/" + name);
        assertThatThrownBy(() -> registry.delete(name)).isInstanceOf(NamespaceNotFoundException.class).hasMessageContaining(name);
        assertThatThrownBy(() -> registry.openPath("/no/such/path")).isInstanceOf(NamespaceNotFoundException.class);
        assertThatThrownBy(() -> registry.ofPid(Integer.MAX_VALUE)).isInstanceOf(NamespaceNotFoundException.class)
                .hasMessageContaining("/proc/" + Integer.MAX_VALUE);
        assertThatThrownBy(() -> registry.ofPid(-1)).isInstanceOf(NamespaceNotFoundException.class);
        assertThatThrownBy(() -> registry.identify(Integer.MAX_VALUE)).isInstanceOf(NamespaceNotFoundException.class);
        assertThat(registry.list()).doesNotContain(name);
        before.assertClean(netns.prefix());
    }

    @Test
    void createOverAnExistingNameFailsAndLeavesItAlone() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        NamespaceAlreadyExistsException e = catchThrowableOfType(NamespaceAlreadyExistsException.class, () -> registry.create(name));
        assertThat(e.errno()).isEqualTo(17);
        try (NetNamespace again = registry.open(name)) {
            assertThat(again).isEqualTo(ns);
        }
    }

    @Test
    void aStaleNameFileIsNotANamespaceAndDeleteRemovesIt() throws IOException {
        String name = netns.newName();
        registry.create(name).close(); // ensures /run/netns exists and is set up
        registry.delete(name);
        Path stale = Files.createFile(Path.of("/run/netns", name));
        assertThatThrownBy(() -> registry.open(name)).isInstanceOf(NotANetworkNamespaceException.class);
        registry.delete(name);
        assertThat(Files.exists(stale)).isFalse();
    }

    @Test
    void everyErrorIsANamespaceException() {
        assertThat(NotANetworkNamespaceException.class).isAssignableTo(NamespaceException.class);
        NetNamespace home = registry.home();
        assertThatThrownBy(() -> registry.exec(home, List.of("/no/such/program"), System.getenv()))
                .isInstanceOf(NamespaceException.class).hasMessageContaining("/no/such/program");
        home.close();
    }
}

package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.InvalidNamespaceNameException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Property-based bad input for names and paths: any string either names a namespace the toolkit and
 * iproute2 agree on, or is refused with {@link InvalidNamespaceNameException} before anything on disk
 * changes; any path opens as a network namespace or fails with a typed {@link NamespaceException}.
 */
class NameAndPathPropertyTest {

    private static final int MAX_BYTES = 255;

    private static TempNamespaces netns;
    private static Invariants.Snapshot before;
    private final NamespaceRegistry registry = NamespaceRegistry.system();

    @BeforeContainer
    static void privileged() {
        Privilege.require();
        netns = new TempNamespaces();
        before = Invariants.snapshot();
    }

    @AfterContainer
    static void cleanUp() {
        if (netns != null) {
            netns.cleanUp();
            before.assertClean(netns.prefix());
        }
    }

    @Provide
    Arbitrary<String> invalidNames() {
        Arbitrary<String> any = Arbitraries.strings().ofMaxLength(20);
        return Arbitraries.oneOf(
                Arbitraries.of("", ".", ".."),
                Arbitraries.strings().ofMaxLength(10).map(s -> "../" + s),
                any.flatMap(a -> any.map(b -> a + "/" + b)),
                any.flatMap(a -> any.map(b -> a + "\0" + b)),
                // control characters: iproute2 takes them, the toolkit refuses them (they make listings ambiguous)
                any.flatMap(a -> Arbitraries.chars().range('\u0001', '\u001f').map(c -> a + c)),
                Arbitraries.of("a\nb", "tab\there", "del\u007f"),
                // more than 255 bytes in UTF-8, even when fewer than 255 chars
                Arbitraries.strings().withChars('a', 'é', '€', '\uD83D').ofMinLength(86).ofMaxLength(300)
                        .filter(s -> s.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES));
    }

    @Property(tries = 300)
    void invalidNamesAreRefusedBeforeAnythingOnDiskChanges(@ForAll("invalidNames") String name) throws IOException {
        Set<String> run = entries("/run");
        Set<String> runNetns = entries(NamespaceRegistry.runDir());
        for (Runnable op : List.<Runnable>of(() -> registry.create(name), () -> registry.open(name), () -> registry.delete(name))) {
            Throwable e = catchThrowable(op::run);
            assertThat(e).isInstanceOf(InvalidNamespaceNameException.class);
            assertThat(e.getMessage()).startsWith("invalid namespace name ").contains(": it ").doesNotContain("\0")
                    .doesNotContain("\n");
        }
        assertThat(entries("/run")).isEqualTo(run);
        assertThat(entries(NamespaceRegistry.runDir())).isEqualTo(runNetns);
    }

    /** Anything after our prefix: refused as invalid, or created where iproute2 keeps it and deleted again. */
    @Property(tries = 150)
    void anyNameIsCreatedAndDeletedOrRefused(@ForAll String suffix) throws IOException {
        String name = netns.prefix() + "p-" + suffix;
        Set<String> runNetns = entries(NamespaceRegistry.runDir());
        NetNamespace ns;
        try {
            ns = registry.create(name);
        } catch (InvalidNamespaceNameException e) {
            assertThat(suffix).matches(s -> s.contains("/") || s.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                    || name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES);
            assertThat(entries(NamespaceRegistry.runDir())).isEqualTo(runNetns);
            return;
        }
        try (ns) {
            Path file = Path.of(NamespaceRegistry.runDir()).resolve(name);
            assertThat(file.getParent()).isEqualTo(Path.of(NamespaceRegistry.runDir()));
            assertThat(registry.identify(ns)).containsExactly(name);
            try (NetNamespace again = registry.open(name)) {
                assertThat(again.id()).isEqualTo(ns.id());
            }
        } finally {
            registry.delete(name);
        }
        assertThat(entries(NamespaceRegistry.runDir())).isEqualTo(runNetns);
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> base = Arbitraries.of("/proc/self/ns/net", "/proc/thread-self/ns/net", "/proc/self/ns/mnt",
                "/proc/self/ns/uts", "/proc/1/ns/net", "/dev/null", "/etc/hostname", "/etc", "/run/netns", "/nonexistent",
                "", ".", "relative", "/proc/self/fd/0");
        Arbitrary<String> tail = Arbitraries.oneOf(Arbitraries.of("", "/", "/.", "/..", "//", "/../net", "\0"),
                Arbitraries.strings().ofMaxLength(8).map(s -> "/" + s), Arbitraries.strings().ofMaxLength(8));
        return Arbitraries.oneOf(base.flatMap(b -> tail.map(t -> b + t)), Arbitraries.strings().ofMaxLength(30));
    }

    @Property(tries = 300)
    void anyPathOpensAsANetworkNamespaceOrFailsTyped(@ForAll("paths") String path) throws IOException {
        Set<String> runNetns = entries(NamespaceRegistry.runDir());
        Object outcome;
        try (NetNamespace ns = registry.openPath(path)) {
            outcome = ns;
            assertThat(ns.id()).isNotNull();
        } catch (NamespaceException e) {
            outcome = e;
            assertThat(e.getMessage()).isNotBlank();
        }
        assertThat(outcome).isNotNull();
        assertThat(entries(NamespaceRegistry.runDir())).isEqualTo(runNetns);
    }

    private static Set<String> entries(String dir) throws IOException {
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            return s.map(p -> p.getFileName().toString()).collect(TreeSet::new, Set::add, Set::addAll);
        }
    }
}

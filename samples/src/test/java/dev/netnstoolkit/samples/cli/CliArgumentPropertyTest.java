package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property-based bad input for the CLI, run in-process: every bad command line ends with a non-zero
 * status and a clear message (one {@code ntk: } line for a bad value, picocli's usage error for a bad
 * option), never a stack trace, and nothing under /run/netns or /etc/netns changes.
 */
class CliArgumentPropertyTest {

    private static final Set<String> COMMANDS = Set.of("add", "delete", "list", "identify", "exec", "tour", "serve", "get",
            "connect", "load", "soak", "scenario", "help");

    private static Invariants.Snapshot before;

    @BeforeContainer
    static void privileged() {
        Privilege.require(); // the commands would fail for want of privilege, not for the input
        before = Invariants.snapshot();
    }

    @AfterContainer
    static void clean() {
        if (before != null) {
            before.assertClean(); // no thread left away from home, no descriptor left open by a failed command
        }
    }

    @Provide
    Arbitrary<String> badNames() {
        Arbitrary<String> any = Arbitraries.strings().ofMaxLength(12);
        return Arbitraries.oneOf(Arbitraries.of("", ".", ".."), any.map(s -> s + "/" + s), any.map(s -> "../" + s),
                any.map(s -> "x\0" + s), Arbitraries.strings().withChars('n', '€').ofMinLength(256).ofMaxLength(300));
    }

    @Provide
    Arbitrary<List<String>> badCommandLines() {
        Arbitrary<String> garbage = Arbitraries.strings().ofMinLength(1).ofMaxLength(12).filter(s -> !COMMANDS.contains(s));
        Arbitrary<String> notANumber = Arbitraries.oneOf(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6),
                Arbitraries.of("1.5", "0x10", "", "99999999999999999999"));
        Arbitrary<String> outOfRange = Arbitraries.oneOf(Arbitraries.integers().lessOrEqual(0),
                Arbitraries.integers().between(2001, Integer.MAX_VALUE)).map(String::valueOf);
        return Arbitraries.oneOf(
                badNames().map(n -> List.of("add", n)),
                badNames().map(n -> List.of("delete", n)),
                badNames().map(n -> List.of("exec", n, "true")),
                badNames().map(n -> List.of("serve", "--ns", n, "--tcp", "7000")),
                Combinators.combine(Arbitraries.of(COMMANDS.stream().filter(c -> !c.equals("help")).toList()), garbage)
                        .as((c, g) -> List.of(c, "--" + g.replace("=", ""))),
                garbage.list().ofMinSize(1).ofMaxSize(4),
                notANumber.map(n -> List.of("soak", "--count", n)),
                outOfRange.map(n -> List.of("soak", "--count", n, "--duration", "1")),
                notANumber.map(n -> List.of("load", "--ns", "x", "--connect", "127.0.0.1:1", "--count", n)),
                outOfRange.map(n -> List.of("load", "--ns", "x", "--connect", "127.0.0.1:1", "--count", "1", "--concurrency", n + "0000")));
    }

    @Property(tries = 300)
    void aBadCommandLineGivesAClearErrorAndChangesNothing(@ForAll("badCommandLines") List<String> args) throws IOException {
        Set<String> run = entries("/run/netns");
        Set<String> etc = entries("/etc/netns");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            exit = Ntk.run(args.toArray(String[]::new));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(exit).as("exit status for %s; stderr %s", args, message).isIn(1, 2);
        assertThat(message).as("for %s", args).isNotBlank().doesNotContain("\tat ").doesNotContain("Exception:");
        if (exit == 1) { // a bad value: one line naming it
            assertThat(message.lines().toList()).as("for %s", args).hasSize(1);
            assertThat(message).startsWith("ntk: ");
        }
        assertThat(entries("/run/netns")).isEqualTo(run);
        assertThat(entries("/etc/netns")).isEqualTo(etc);
    }

    private static Set<String> entries(String dir) throws IOException {
        if (!Files.isDirectory(Path.of(dir))) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            return s.map(p -> p.getFileName().toString()).collect(TreeSet::new, Set::add, Set::addAll);
        }
    }
}

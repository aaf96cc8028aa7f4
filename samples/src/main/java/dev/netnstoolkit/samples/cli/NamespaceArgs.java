package dev.netnstoolkit.samples.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Which existing namespaces a command works in: {@code --ns A,B} or {@code --ns-prefix P --count N}. */
final class NamespaceArgs {

    @Option(names = "--ns", split = ",", paramLabel = "NAME", description = "Namespaces, comma-separated.")
    List<String> names;

    @ArgGroup(exclusive = false)
    Prefix prefix;

    static final class Prefix {
        @Option(names = "--ns-prefix", required = true, paramLabel = "P", description = "Namespaces P0 .. P(N-1)...")
        String prefix;

        @Option(names = "--count", required = true, paramLabel = "N", description = "... with --ns-prefix.")
        int count;
    }

    /** The names given, or P0 .. P(N-1) (N checked). */
    List<String> names() {
        return names(names, prefix);
    }

    static List<String> names(List<String> given, Prefix prefix) {
        if (given != null) {
            return List.copyOf(given);
        }
        Args.range("--count", prefix.count, 1, 100_000);
        List<String> names = new ArrayList<>(prefix.count);
        for (int i = 0; i < prefix.count; i++) {
            names.add(prefix.prefix + i);
        }
        return names;
    }
}

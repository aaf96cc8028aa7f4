package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "delete", description = {"Delete a named namespace (like `ip netns delete NAME`);",
        "or --prefix P: every name that starts with P (P must be given and not empty), and print the time."})
final class DeleteCommand implements Callable<Integer> {

    @ArgGroup(multiplicity = "1")
    Which which;

    static final class Which {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--prefix", paramLabel = "P")
        String prefix;
    }

    @Override
    public Integer call() {
        NamespaceRegistry registry = NamespaceRegistry.system();
        if (which.name != null) {
            registry.delete(which.name);
            return 0;
        }
        String prefix = which.prefix;
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("delete --prefix: an empty prefix would delete every namespace; name one");
        }
        NamespaceRegistry.checkName(prefix + "0");
        List<String> names = registry.list().stream().filter(n -> n.startsWith(prefix)).toList();
        long start = System.nanoTime();
        int deleted = 0;
        for (String name : names) {
            try {
                registry.delete(name);
                deleted++;
            } catch (NamespaceNotFoundException goneMeanwhile) {
                // deleted by someone else between the listing and here
            }
        }
        double ms = (System.nanoTime() - start) / 1e6;
        System.out.printf(Locale.ROOT, "deleted %d namespaces %s* in %.0f ms%n", deleted, prefix, ms);
        return 0;
    }
}

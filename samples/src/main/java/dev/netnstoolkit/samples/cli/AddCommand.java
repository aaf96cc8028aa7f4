package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "add", description = {"Create a named namespace (like `ip netns add NAME`), with lo up;",
        "or --prefix P --count N: P0 .. P(N-1) side by side on the cores, all or none, and print the time."})
final class AddCommand implements Callable<Integer> {

    @ArgGroup(multiplicity = "1")
    Which which;

    static final class Which {
        @Parameters(paramLabel = "NAME")
        String name;

        @ArgGroup(exclusive = false)
        Many many;
    }

    static final class Many {
        @Option(names = "--prefix", required = true, paramLabel = "P")
        String prefix;

        @Option(names = "--count", required = true, paramLabel = "N")
        int count;
    }

    @Option(names = "--no-lo", description = "Leave lo down.")
    boolean noLo;

    @Override
    public Integer call() {
        CreateOptions options = CreateOptions.defaults().withLoopbackUp(!noLo);
        if (which.many != null) {
            return addMany(which.many.prefix, which.many.count, options);
        }
        String name = which.name;
        try {
            NamespaceRegistry.system().create(name, options).close();
        } catch (NamespaceAlreadyExistsException e) {
            throw explained(name, e);
        }
        return 0;
    }

    private static int addMany(String prefix, int count, CreateOptions options) {
        Args.range("--count", count, 1, 100_000);
        Limits.requireDescriptors("add --count " + count, count + 64L, "each namespace is held open until all are made");
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(prefix + i);
        }
        long start = System.nanoTime();
        List<NetNamespace> made;
        try {
            made = NamespaceRegistry.system().createAll(names, options);
        } catch (NamespaceAlreadyExistsException e) {
            String target = e.target() != null ? java.nio.file.Path.of(e.target()).getFileName().toString() : "";
            throw explained(target, e);
        }
        double ms = (System.nanoTime() - start) / 1e6;
        made.forEach(NetNamespace::close);
        System.out.printf(Locale.ROOT, "added %d namespaces %s0..%s%d in %.0f ms (%.0f µs each)%n",
                count, prefix, prefix, count - 1, ms, ms * 1000 / count);
        return 0;
    }

    private static RuntimeException explained(String name, NamespaceAlreadyExistsException e) {
        if (GcCommand.staleNameFiles().contains(name)) {
            return new IllegalStateException("add " + name + ": the name is taken by an empty, unmounted name file (a creation "
                    + "that was interrupted, or one in progress); remove it with `ntk delete " + name + "` or `ntk gc`", e);
        }
        return e;
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "add", description = "Create a named namespace (like `ip netns add NAME`), with lo up.")
final class AddCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--no-lo", description = "Leave lo down.")
    boolean noLo;

    @Override
    public Integer call() {
        try {
            NamespaceRegistry.system().create(name, CreateOptions.defaults().withLoopbackUp(!noLo)).close();
        } catch (NamespaceAlreadyExistsException e) {
            if (GcCommand.staleNameFiles().contains(name)) {
                throw new IllegalStateException("add " + name + ": the name is taken by an empty, unmounted name file (a creation "
                        + "that was interrupted, or one in progress); remove it with `ntk delete " + name + "` or `ntk gc`", e);
            }
            throw e;
        }
        return 0;
    }
}

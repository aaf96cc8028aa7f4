package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "delete", description = "Delete a named namespace (like `ip netns delete NAME`).")
final class DeleteCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        NamespaceRegistry.system().delete(name);
        return 0;
    }
}

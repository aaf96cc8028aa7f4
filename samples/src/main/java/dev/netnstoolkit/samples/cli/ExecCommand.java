package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "exec", description = "Run CMD inside the named namespace (like `ip netns exec NAME CMD`); exits with its status.")
final class ExecCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
    List<String> command;

    @Override
    public Integer call() {
        NamespaceRegistry registry = NamespaceRegistry.system();
        try (NetNamespace ns = registry.open(name)) {
            return registry.exec(ns, command, System.getenv());
        }
    }
}

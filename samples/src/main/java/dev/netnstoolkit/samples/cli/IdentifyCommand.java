package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "identify", description = "Print the names of the namespace of PID (default: this process), like `ip netns identify`.")
final class IdentifyCommand implements Callable<Integer> {

    @Parameters(paramLabel = "PID", arity = "0..1")
    Long pid;

    @Override
    public Integer call() {
        long p = pid != null ? pid : ProcessHandle.current().pid();
        NamespaceRegistry.system().identify(p).forEach(System.out::println);
        return 0;
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.ChildProcess;
import dev.netnstoolkit.api.CommandNotRunException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ntk exec NAME CMD...}: runs CMD inside the namespace and exits with its status. SIGTERM, SIGINT
 * and SIGHUP are passed on to the child, which decides (a shell would do the same for its foreground
 * job); ntk waits for it and exits with its status, so no child is ever left behind in the namespace. A
 * command that cannot be run exits 127 (not found) or 126 (not executable), as a shell does.
 */
@Command(name = "exec", description = "Run CMD inside the named namespace (like `ip netns exec NAME CMD`); exits with its status.")
final class ExecCommand implements Callable<Integer> {

    private static final Map<String, Integer> FORWARDED = Map.of("TERM", 15, "INT", 2, "HUP", 1);

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
    List<String> command;

    @Override
    public Integer call() {
        NamespaceRegistry registry = NamespaceRegistry.system();
        try (NetNamespace ns = registry.open(name)) {
            ChildProcess child;
            try {
                child = registry.start(ns, command, System.getenv());
            } catch (CommandNotRunException e) {
                System.err.println("ntk exec: " + e.getMessage());
                return e.exitStatus();
            }
            Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
            try {
                FORWARDED.forEach((sig, number) -> {
                    Signal s = new Signal(sig);
                    previous.put(s, Signal.handle(s, received -> child.signal(number)));
                });
                return child.waitFor();
            } finally {
                previous.forEach(Signal::handle);
            }
        }
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import dev.netnstoolkit.api.NetNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * Scenario 4: create a named namespace compatible with iproute2, enter it, and run a command in it, as
 * {@code ip netns add ns0; ip netns exec ns0 ip link} would; then {@code ntk exec NAME ip link} and
 * {@code ip netns exec NAME ...} both work on it until it is deleted.
 */
@Command(name = "named", description = "Create a named namespace (iproute2-compatible), run `ip link` in it, then delete it (--keep to keep it).")
final class NamedNamespaceExec implements Callable<Integer> {

    @Option(names = "--name", defaultValue = "ntk-ns0")
    String name;

    @Option(names = "--keep", description = "Leave it for `ip netns exec NAME ...` / `ntk exec NAME ...`; remove with `ntk delete NAME`.")
    boolean keep;

    @Override
    public Integer call() {
        NamespaceRegistry registry = NamespaceRegistry.system();
        // Deleted afterwards only because this run made it: if the name exists already, create fails and
        // nothing is touched. A signal in the middle removes it too (unless --keep).
        try (OwnedNamespaces owned = OwnedNamespaces.withPrefix("ntk scenario", "")) {
            NetNamespace ns = owned.create(name);
            System.out.println("created " + name + " (" + "net:[" + ns.id().ino() + "]); `ip netns list` shows it:");
            registry.exec(ns, List.of("ip", "netns", "list"), System.getenv());
            System.out.println("$ ntk exec " + name + " ip link");
            int exit = registry.exec(ns, List.of("ip", "link"), System.getenv());
            System.out.println("names of that namespace (like `ip netns identify`): " + registry.identify(ns));
            if (keep) {
                owned.disown(ns);
                ns.close();
            } else {
                owned.close();
                System.out.println("deleted " + name);
            }
            return exit;
        }
    }
}

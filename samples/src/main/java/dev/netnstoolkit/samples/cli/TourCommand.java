package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.Namespaces;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The main demo: creates many namespaces from one process, checks each is its own and that iproute2
 * sees it, shows the process's threads and descriptors, and removes everything it created.
 */
@Command(name = "tour", description = "The main demo: many namespaces from one JVM, checked and cleaned up (needs root).")
final class TourCommand implements Callable<Integer> {

    @Option(names = "--count", defaultValue = "100", description = "Namespaces to create (default ${DEFAULT-VALUE}).")
    int count;

    private final Namespaces registry = Namespaces.system();
    private final String prefix = "ntk-tour-" + ProcessHandle.current().pid() + "-";
    private final List<NetNamespace> created = new ArrayList<>();

    @Override
    public Integer call() {
        if (count < 1 || count > 10_000) {
            throw new IllegalArgumentException("--count must be between 1 and 10000, not " + count);
        }
        Thread cleanup = new Thread(this::removeAll, "ntk-tour-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            return tour();
        } catch (NamespacePermissionException e) {
            System.err.println("ntk tour: " + e.getMessage());
            System.err.println("ntk tour: run it as root (sudo java -jar samples/target/ntk.jar tour): it needs "
                    + e.missingCapability() + " to create network namespaces");
            return 1;
        } finally {
            removeAll();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    private int tour() {
        int threadsBefore = ProcessAudit.threadCount();
        int fdsBefore = ProcessAudit.openFdCount();
        long t0 = System.nanoTime();
        Progress progress = new Progress("creating namespaces", count);
        for (int i = 0; i < count; i++) {
            NetNamespace ns = registry.create(prefix + i);
            synchronized (created) {
                created.add(ns);
            }
            progress.step();
        }
        progress.done();
        long createNanos = System.nanoTime() - t0;

        Set<Object> ids = new HashSet<>();
        int identified = 0;
        for (NetNamespace ns : created) {
            ids.add(ns.id());
            if (registry.identify(ns).equals(List.of(ns.name().orElseThrow()))) {
                identified++;
            }
        }
        NetNamespace first = created.get(0);
        System.out.println("`ip -br addr` inside " + first.label() + ":");
        int ipExit = registry.exec(first, List.of("ip", "-br", "addr"), System.getenv());
        int threads = ProcessAudit.threadCount();
        int fds = ProcessAudit.openFdCount();
        List<String> away = ProcessAudit.threadsAwayFromHome();

        Table table = new Table();
        table.row("namespaces created", Integer.toString(count));
        table.row("distinct namespaces (st_dev, st_ino)", Integer.toString(ids.size()));
        table.row("identified by name (ip netns identify)", Integer.toString(identified));
        table.row("time to create all", String.format("%.1f ms (%.2f ms each)", createNanos / 1e6, createNanos / 1e6 / count));
        table.row("JVM threads before / now", threadsBefore + " / " + threads);
        table.row("open fds before / now", fdsBefore + " / " + fds + " (one handle per namespace)");
        table.row("threads outside home namespace", Integer.toString(away.size()));
        table.row("command in namespace exited", Integer.toString(ipExit));
        table.print(System.out);

        boolean ok = ids.size() == count && identified == count && away.isEmpty() && ipExit == 0;
        System.out.println(ok ? "tour: OK" : "tour: FAILED " + away);
        return ok ? 0 : 1;
    }

    private void removeAll() {
        List<NetNamespace> toRemove;
        synchronized (created) {
            toRemove = new ArrayList<>(created);
            created.clear();
        }
        toRemove.forEach(NetNamespace::close);
        for (String name : registry.list()) {
            if (name.startsWith(prefix)) {
                try {
                    registry.delete(name);
                } catch (NamespaceException e) {
                    System.err.println("ntk tour: could not remove " + name + ": " + e.getMessage());
                }
            }
        }
    }
}

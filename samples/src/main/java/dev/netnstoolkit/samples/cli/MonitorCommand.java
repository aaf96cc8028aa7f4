package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceEvent;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ntk monitor}: one line per namespace added to or deleted from /run/netns, as
 * {@code ip netns monitor} prints them, with the namespace's identity; the ones there at the start too.
 */
@Command(name = "monitor", description = "Print `add NAME net:[INODE]` / `delete NAME net:[INODE]` as namespaces come and go in /run/netns.")
final class MonitorCommand implements Callable<Integer> {

    @Option(names = "--prefix", defaultValue = "", paramLabel = "P", description = "Only names that start with P.")
    String prefix;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long (default: until signalled).")
    Long duration;

    @Override
    public Integer call() throws InterruptedException {
        UntilStopped.checkDuration(duration);
        CountDownLatch done = new CountDownLatch(1);
        Netns netns = Netns.create();
        try {
            reactor.core.Disposable watching = netns.watch(Path.of(NamespaceRegistry.runDir()), prefix).subscribe(e -> {
                if (e instanceof NamespaceEvent.Added a) {
                    System.out.println("add " + a.name() + " net:[" + a.id().ino() + "]");
                } else if (e instanceof NamespaceEvent.Removed r) {
                    System.out.println("delete " + r.name() + " net:[" + r.id().ino() + "]");
                } else if (e instanceof NamespaceEvent.Unusable u) {
                    System.out.println("unusable " + u.name() + ": " + u.reason());
                }
                System.out.flush();
            }, error -> {
                System.err.println("ntk: " + Ntk.Failures.oneLine(error));
                done.countDown();
            });
            UntilStopped.await(done, duration, "ntk-monitor-stop");
            watching.dispose();
        } finally {
            netns.disposeNow();
        }
        return 0;
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.reactor.ServingEvent;
import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import reactor.core.Disposable;
import reactor.netty.tcp.TcpServer;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * {@code soak --churn N}: a thread at home creates and deletes namespaces one after another while
 * {@code serve(watch(...))} binds TCP in each it sees and releases it when it goes. Every other namespace
 * lives until the watch has served it (at most 1 s); the rest are deleted at once, racing the watch. At
 * the end every namespace served must have been stopped.
 */
final class SoakChurn {

    private final Thread thread;
    private final Disposable serving;
    private final AtomicLong servedCount = new AtomicLong();
    private final AtomicLong stoppedCount = new AtomicLong();
    private final AtomicLong failedCount = new AtomicLong();
    private final AtomicLong cycles = new AtomicLong();

    /**
     * @param watchFailed told if the watch itself fails (it must not)
     * @param cycleFailed told of a create or delete that failed
     */
    SoakChurn(Netns netns, OwnedNamespaces owned, Set<String> made, int count, long endNanos, int port,
              Consumer<Throwable> watchFailed, Consumer<RuntimeException> cycleFailed) {
        String prefix = owned.prefix() + "churn-";
        serving = netns.serve(netns.watch(Path.of(NamespaceRegistry.runDir()), prefix),
                        ns -> netns.bind(ns, TcpServer.create().host("127.0.0.1").port(port)))
                .subscribe(e -> {
                    if (e instanceof ServingEvent.Serving) {
                        servedCount.incrementAndGet();
                    } else if (e instanceof ServingEvent.Stopped) {
                        stoppedCount.incrementAndGet();
                    } else {
                        failedCount.incrementAndGet();
                    }
                }, watchFailed::accept);
        thread = new Thread(() -> {
            for (int i = 0; i < count && System.nanoTime() < endNanos; i++) {
                try {
                    long seenBefore = servedCount.get() + failedCount.get();
                    NetNamespace ns = owned.create("churn-" + i);
                    made.add(prefix + i);
                    for (int w = 0; i % 2 == 0 && w < 100 && servedCount.get() + failedCount.get() == seenBefore; w++) {
                        Thread.sleep(10);
                    }
                    owned.delete(ns);
                    ns.close();
                    cycles.incrementAndGet();
                } catch (RuntimeException e) {
                    cycleFailed.accept(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "ntk-soak-churn");
        thread.setDaemon(true);
        thread.start();
    }

    /** Waits for the churn to end and the watch to catch up; prints what happened; true if every namespace served was stopped. */
    boolean finish() throws InterruptedException {
        thread.join();
        for (int i = 0; i < 500 && servedCount.get() != stoppedCount.get(); i++) {
            Thread.sleep(20);
        }
        serving.dispose();
        System.out.println("churn: " + cycles.get() + " namespaces created and deleted; the watch served " + servedCount.get()
                + ", stopped " + stoppedCount.get() + ", could not serve " + failedCount.get() + " (gone before the bind)");
        if (servedCount.get() != stoppedCount.get()) {
            System.out.println("churn: served and stopped differ");
            return false;
        }
        return true;
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Scenario 3: per-thread namespaces. setns(2) switches one thread, and a thread inherits the namespace
 * of the thread that creates it. The trap: anything that starts a thread lazily (an event loop, a pool)
 * while a switched thread happens to trigger it lives in the wrong namespace forever. The scenario shows
 * the trap on a throwaway thread, then the toolkit's way, then a hello server serving several
 * namespaces from one process.
 */
@Command(name = "inheritance", description = "Per-thread namespaces: the inheritance trap, how the toolkit avoids it, a hello server in several namespaces.")
final class ThreadInheritance implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        try (OwnedNamespaces spaces = Scenarios.owned("inherit")) {
            List<NetNamespace> ns = spaces.create(3);
            NetNamespace blue = ns.get(0);
            System.out.println("home namespace: " + ProcessAudit.homeNamespace() + "; " + blue.label() + ": net:[" + blue.id().ino() + "]");

            // 1. The trap, on a platform thread we own and throw away (never a pooled or virtual thread),
            //    switched the toolkit's one way. A task must only make sockets; this one breaks the rule on purpose.
            NamespaceSwitch sw = NamespaceSwitch.system();
            String[] seen = new String[2];
            Thread switched = new Thread(() -> {
                try {
                    sw.adoptCurrentThread();
                    sw.run(blue, () -> {
                        seen[0] = ns();
                        Thread child = new Thread(() -> seen[1] = ns()); // created by a switched thread...
                        child.start();
                        child.join();
                        return null;
                    });
                } catch (Exception e) {
                    seen[0] = String.valueOf(e);
                }
            }, "throwaway");
            switched.start();
            switched.join();
            System.out.println("trap: a thread switched into " + blue.label() + " is in " + seen[0]
                    + "; the thread it started is in " + seen[1] + " too, and would stay there for life");

            // 2. The toolkit: its threads are made from home, switch themselves home at start, and switch
            //    only for the one socket call, back in a finally. Nothing lazy is ever started while switched.
            Netns netns = Netns.create();
            try {
                DisposableServer[] servers = netns.bind(Flux.fromIterable(ns), TcpServer.create().host("127.0.0.1").port(7000)
                                .handle((in, out) -> out.sendString(Mono.just("hello from " + Netns.namespaceOf(in).label() + "\n")))).collectList().block(Duration.ofSeconds(10)).toArray(DisposableServer[]::new);
                for (NetNamespace n : ns) {
                    String hello = netns.connect(n, TcpClient.newConnection().host("127.0.0.1").port(7000))
                            .flatMap(c -> c.inbound().receive().asString().next().doFinally(s -> c.dispose()))
                            .block(Duration.ofSeconds(10));
                    System.out.print("hello server, 127.0.0.1:7000 inside " + n.label() + " says: " + hello);
                }
                for (DisposableServer s : servers) {
                    s.disposeNow();
                }
            } finally {
                netns.disposeNow();
            }
        }
        List<String> away = ProcessAudit.threadsAwayFromHome();
        System.out.println("toolkit: " + ProcessAudit.threadCount() + " JVM threads, " + away.size() + " outside home");
        return away.isEmpty() ? 0 : 1;
    }

    private static String ns() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;
import reactor.netty.udp.UdpServer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Scenario 2: one process listening on TCP and UDP in many namespaces with a handful of threads. Reports
 * the process's descriptors and OS threads, the way one would size it ("1200 fds, 14 OS threads").
 */
@Command(name = "listeners", description = "TCP + UDP listeners in many namespaces from one process; reports fds and OS threads.")
final class ListenersInManyNamespaces implements Callable<Integer> {

    @Option(names = "--count", defaultValue = "200")
    int count;

    @Override
    public Integer call() {
        try (OwnedNamespaces spaces = Scenarios.owned("listen")) {
            int threadsBefore = ProcessAudit.threadCount();
            List<NetNamespace> all = spaces.create(count);
            Netns netns = Netns.create();
            try {
                long t0 = System.nanoTime();
                List<DisposableServer> tcp = netns.bind(Flux.fromIterable(all), TcpServer.create().port(7000)
                        .handle((in, out) -> out.sendString(Mono.just(Netns.namespaceOf(in).label() + "\n"))))
                        .collectList().block(Duration.ofSeconds(120));
                List<Connection> udp = netns.bind(Flux.fromIterable(all), UdpServer.create().port(7000))
                        .collectList().block(Duration.ofSeconds(120));
                double ms = (System.nanoTime() - t0) / 1e6;
                System.out.printf("%d namespaces, %d listeners (TCP and UDP on port 7000 in each) bound in %.0f ms%n",
                        count, tcp.size() + udp.size(), ms);
                System.out.printf("%d fds, %d OS threads (%d before the namespaces and loops existed)%n",
                        ProcessAudit.openFdCount(), ProcessAudit.threadCount(), threadsBefore);
                System.out.println("threads outside home: " + ProcessAudit.threadsAwayFromHome().size());
                tcp.forEach(DisposableServer::disposeNow);
                udp.forEach(Connection::disposeNow);
            } finally {
                netns.disposeNow();
            }
        }
        return ProcessAudit.threadsAwayFromHome().isEmpty() ? 0 : 1;
    }
}

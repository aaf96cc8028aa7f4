package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import reactor.blockhound.BlockHound;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Run by {@link BlockHoundTest} in a JVM of its own with Reactor's BlockHound installed: the toolkit's
 * clients used from Reactor Netty's event loops (a WebFlux-style handler), from Reactor's parallel
 * scheduler and from the toolkit's own loops, a new connection per request. Prints every blocking call
 * BlockHound saw on a non-blocking thread, and a sanity line proving BlockHound watches the toolkit's loops.
 */
public final class BlockHoundProbe {

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int port = Integer.parseInt(args[1]);
        int requests = Integer.parseInt(args[2]);
        List<String> blocked = new CopyOnWriteArrayList<>();
        BlockHound.builder()
                .loadIntegrations() // Reactor's (NonBlocking threads) and Netty's (its event loops, its allowances)
                .blockingMethodCallback(m -> blocked.add(Thread.currentThread().getName() + ": " + m + " at "
                        + Stream.of(new Exception().getStackTrace()).skip(2).limit(12).map(String::valueOf)
                        .collect(Collectors.joining(" < "))))
                .install();
        Netns netns = Netns.builder().loopThreads(2).dedicatedThreads(1).build();
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            // sanity: a known blocking call on a toolkit loop is seen (then forgotten)
            netns.loops().eventLoopGroup().submit(() -> {
                TimeUnit.MILLISECONDS.sleep(1);
                return null;
            }).get(10, TimeUnit.SECONDS);
            System.out.println("sanity: " + (blocked.stream().anyMatch(b -> b.contains("sleep")) ? "sleep on a toolkit loop seen" : "NOT SEEN"));
            blocked.clear();

            String url = "http://127.0.0.1:" + port + "/";
            HttpClient inNs = netns.httpClient(ns).keepAlive(false); // a new connection for every request
            DisposableServer http = netns.bind(ns, HttpServer.create().host("127.0.0.1").port(port)
                    .route(r -> r.get("/", (req, res) -> res.sendString(Mono.just("ok")))
                            // served on the toolkit's loops, and asks the namespace's client again from there
                            .get("/hop", (req, res) -> res.sendString(inNs.get().uri(url).responseContent().aggregate().asString()))))
                    .block(Duration.ofSeconds(10));
            DisposableServer tcp = netns.bind(ns, TcpServer.create().host("127.0.0.1").port(port + 1)
                    .handle((in, out) -> out.sendString(Mono.just("ok")))).block(Duration.ofSeconds(10));
            // a plain Reactor Netty server on the host: its handler runs on Reactor Netty's own loops
            DisposableServer relay = HttpServer.create().host("127.0.0.1").port(0)
                    .handle((req, res) -> res.sendString(inNs.get().uri(url).responseContent().aggregate().asString()))
                    .bindNow();
            HttpClient host = HttpClient.create().keepAlive(false);
            String relayUrl = "http://127.0.0.1:" + relay.port() + "/";

            long fromReactorNettyLoops = count(Flux.range(0, requests)
                    .flatMap(i -> host.get().uri(relayUrl).responseContent().aggregate().asString(), 8));
            long fromParallel = count(Flux.range(0, requests)
                    .flatMap(i -> inNs.get().uri(url).responseContent().aggregate().asString()
                            .subscribeOn(Schedulers.parallel()), 8));
            long fromToolkitLoops = count(Flux.range(0, requests)
                    .flatMap(i -> inNs.get().uri(url + "hop").responseContent().aggregate().asString()
                            .subscribeOn(Schedulers.parallel()), 8));
            TcpClient newTcp = TcpClient.newConnection().host("127.0.0.1").port(port + 1);
            long tcpFromParallel = count(Flux.range(0, requests)
                    .flatMap(i -> netns.connect(ns, newTcp).subscribeOn(Schedulers.parallel())
                            .flatMap(c -> c.inbound().receive().asString().next().doFinally(s -> c.dispose())), 8));
            long pooledTcpFromParallel = count(Flux.range(0, requests)
                    .flatMap(i -> netns.tcpClient(ns).host("127.0.0.1").port(port + 1).connect()
                            .subscribeOn(Schedulers.parallel())
                            .flatMap(c -> c.inbound().receive().asString().next().doFinally(s -> ((Connection) c).dispose())), 8));
            // the generic path: pings, a links watch with a veth pair added and deleted, from the parallel scheduler
            java.net.InetAddress lo = java.net.InetAddress.getLoopbackAddress();
            long pings = Flux.range(0, requests / 10)
                    .flatMap(i -> netns.ping(ns, lo, 1, Duration.ZERO, Duration.ofSeconds(5)).subscribeOn(Schedulers.parallel()), 8)
                    .filter(r -> r.received() == 1).count().block(Duration.ofSeconds(120));
            long linkEvents = netns.links(ns)
                    .concatMap(e -> e.link().equals("lo") && e.kind().name().startsWith("PRESENT")
                            ? netns.addVethPair(ns, "bh0", "bh1").then(netns.deleteLink(ns, "bh0")).thenReturn(e) : Mono.just(e))
                    .takeUntil(e -> e.link().equals("bh0") && e.kind() == dev.netnstoolkit.api.LinkEvent.Kind.REMOVED)
                    .filter(e -> e.link().equals("bh0"))
                    .count().block(Duration.ofSeconds(30));
            // the generic stream path: a listener and connects of a protocol Reactor Netty does not make (TCP by number here)
            dev.netnstoolkit.api.SocketSpec stream = dev.netnstoolkit.api.SocketSpec.of(dev.netnstoolkit.api.SocketSpec.AF_INET,
                    dev.netnstoolkit.api.SocketSpec.SOCK_STREAM, 6);
            DisposableServer generic = netns.bind(ns, stream.withBind(dev.netnstoolkit.api.Sockaddr.inet(new java.net.InetSocketAddress(lo, 0))),
                    (in, out) -> out.sendString(Mono.just("ok"))).block(Duration.ofSeconds(10));
            java.net.InetSocketAddress genericAt = new java.net.InetSocketAddress(lo, generic.port());
            long genericFromParallel = count(Flux.range(0, requests)
                    .flatMap(i -> netns.connect(ns, stream, genericAt).subscribeOn(Schedulers.parallel())
                            .flatMap(c -> c.inbound().receive().asString().next().doFinally(s -> c.dispose())), 8));
            generic.disposeNow();
            System.out.println("generic stream ok from the parallel scheduler: " + genericFromParallel + "/" + requests);
            System.out.println("pings answered from the parallel scheduler: " + pings + "/" + requests / 10);
            System.out.println("veth bh0 seen added and removed: " + (linkEvents >= 2));
            System.out.println("ok from Reactor Netty's loops: " + fromReactorNettyLoops + "/" + requests);
            System.out.println("ok from the parallel scheduler: " + fromParallel + "/" + requests);
            System.out.println("ok from the toolkit's loops: " + fromToolkitLoops + "/" + requests);
            System.out.println("tcp ok from the parallel scheduler: " + tcpFromParallel + "/" + requests);
            System.out.println("pooled tcp ok from the parallel scheduler: " + pooledTcpFromParallel + "/" + requests);
            relay.disposeNow();
            http.disposeNow();
            tcp.disposeNow();
        } finally {
            netns.disposeNow();
        }
        System.out.println("blocking calls: " + blocked.size());
        blocked.stream().limit(20).forEach(b -> System.out.println("  " + b));
        System.exit(0);
    }

    private static long count(Flux<String> answers) {
        return answers.filter("ok"::equals).count().block(Duration.ofSeconds(120));
    }
}

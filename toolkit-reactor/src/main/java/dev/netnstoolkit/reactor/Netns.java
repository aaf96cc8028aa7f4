package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NetNamespace;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import reactor.netty.ChannelBindException;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.netty.transport.ClientTransport;
import reactor.netty.transport.ServerTransport;
import reactor.netty.udp.UdpClient;
import reactor.netty.udp.UdpServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * Reactor Netty in network namespaces: TCP, UDP and HTTP clients and servers whose sockets are created
 * inside a namespace and whose I/O runs on one shared set of epoll event loops.
 *
 * <pre>{@code
 * Netns netns = Netns.create();
 * Mono<Connection> c = netns.connect(blue, TcpClient.newConnection().host("127.0.0.1").port(7));
 * Flux<DisposableServer> servers = netns.bind(TcpServer.create().host("127.0.0.1").port(7)
 *         .handle((in, out) -> out.sendString(Mono.just(Netns.namespaceOf(in).label()))), namespaces);
 * HttpClient http = netns.httpClient(blue);          // own pool, DNS from /etc/netns/blue
 * }</pre>
 *
 * Every connection and server knows its namespace ({@link #namespaceOf}). Each namespace gets its own
 * {@link ConnectionProvider}, never the global pool. Everything is subscribed on the shared loops so the
 * socket is created inline on a loop thread. Dispose the {@code Netns} to close all of it.
 */
public final class Netns implements Disposable {

    private final NamespaceScheduler scheduler;
    private final NamespaceLoopResources loops;
    private final boolean ownsScheduler;
    private final ConcurrentMap<NamespaceId, PerNamespace> perNamespace = new ConcurrentHashMap<>();
    private final int maxConnectionsPerNamespace;

    private Netns(NamespaceScheduler scheduler, boolean ownsScheduler, int loopThreads, int maxConnections) {
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.loops = NamespaceLoopResources.create(scheduler, loopThreads);
        this.maxConnectionsPerNamespace = maxConnections;
    }

    /** Defaults: a scheduler with 2 dedicated workers, as many loops as cores (at least 2). */
    public static Netns create() {
        return builder().build();
    }

    /** A builder. */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- views

    /** The loop resources view of {@code ns}: for {@code runOn(view, true)} on any Reactor Netty transport. */
    public LoopResources loopsIn(NetNamespace ns) {
        return loops.in(ns);
    }

    /**
     * What each namespace has of its own: a pool and a DNS resolver group, made on first use with the
     * handle it was asked for, closed on dispose or once that handle is closed.
     */
    private record PerNamespace(NetNamespace ns, ConnectionProvider provider, DnsAddressResolverGroup resolver) {
        /** Disposes the pool, then closes the resolver. */
        Mono<Void> disposeLater() {
            return provider.disposeLater().doFinally(s -> resolver.close());
        }
    }

    private PerNamespace of(NetNamespace ns) {
        PerNamespace p = perNamespace.get(ns.id());
        if (p != null && !p.ns().isClosed()) {
            return p;
        }
        // First use, or the handle it was made with is closed: the namespace may be gone and the kernel
        // reuses nsfs inode numbers, so a new namespace can have a dead one's identity. Evict every entry
        // whose handle is closed (its pool and resolver would fail or reach the dead namespace).
        perNamespace.forEach((id, old) -> {
            if (old.ns().isClosed() && perNamespace.remove(id, old)) {
                old.disposeLater().subscribe(null, e -> { });
            }
        });
        return perNamespace.computeIfAbsent(ns.id(), id -> new PerNamespace(ns,
                ConnectionProvider.builder("ntk-" + ns.label()).maxConnections(maxConnectionsPerNamespace)
                        .pendingAcquireMaxCount(-1).build(),
                NamespaceDns.resolverGroup(ns, loopsIn(ns))));
    }

    /** The connection pool of {@code ns} (one per namespace, created on first use). */
    public ConnectionProvider connectionProvider(NetNamespace ns) {
        return of(ns).provider();
    }

    /**
     * The DNS resolver group of {@code ns}: sockets created in {@code ns}, name servers and hosts from
     * {@code /etc/netns/NAME/} (falling back to {@code /etc}). Every client this class configures uses
     * it; Reactor Netty's default resolver would run on its global loops, in the home namespace.
     */
    public AddressResolverGroup<?> resolver(NetNamespace ns) {
        return of(ns).resolver();
    }

    /** The namespace of a connection made or accepted through this toolkit, or {@code null}. */
    public static NetNamespace namespaceOf(Connection connection) {
        return NamespaceLoopResources.namespaceOf(connection.channel());
    }

    /**
     * The namespace of the connection behind a handler's inbound side (TCP, UDP, or an HTTP request),
     * or {@code null}: one handler can serve every namespace and still tell them apart.
     */
    public static NetNamespace namespaceOf(NettyInbound inbound) {
        NetNamespace[] ns = new NetNamespace[1];
        inbound.withConnection(c -> ns[0] = namespaceOf(c));
        return ns[0];
    }

    /** The namespace a server was bound in, or {@code null}. */
    public static NetNamespace namespaceOf(DisposableServer server) {
        return NamespaceLoopResources.namespaceOf(server.channel());
    }

    // ---------------------------------------------------------------- TCP

    /** A pooled TcpClient for {@code ns}: its own pool, sockets created in {@code ns}. */
    public TcpClient tcpClient(NetNamespace ns) {
        return inNamespace(TcpClient.create(connectionProvider(ns)), ns);
    }

    /**
     * Connects {@code client} from inside {@code ns}. Give it a non-pooled client
     * ({@code TcpClient.newConnection()}) or {@link #tcpClient(NetNamespace)}; a client on the global
     * pool would share pooled channels across namespaces.
     */
    public Mono<Connection> connect(NetNamespace ns, TcpClient client) {
        return onLoops(inNamespace(client, ns)::connect);
    }

    /** Binds {@code server} once in every namespace of {@code namespaces}; each server knows its namespace. */
    public Flux<DisposableServer> bind(TcpServer server, Flux<NetNamespace> namespaces) {
        return bindAll(server, namespaces);
    }

    /**
     * Binds {@code server} in every namespace and emits every inbound connection (each knows its
     * namespace, {@link #namespaceOf}). Cancelling disposes the servers. Connections are buffered
     * if the subscriber is slower than they arrive.
     */
    public Flux<Connection> accept(TcpServer server, Flux<NetNamespace> namespaces) {
        return Flux.create(sink -> {
            List<DisposableServer> bound = new ArrayList<>();
            Disposable binding = bind(server.doOnConnection(sink::next), namespaces)
                    .subscribe(s -> {
                        synchronized (bound) {
                            bound.add(s);
                        }
                    }, sink::error);
            sink.onDispose(() -> {
                binding.dispose();
                synchronized (bound) {
                    bound.forEach(DisposableServer::disposeNow);
                }
            });
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    // ---------------------------------------------------------------- UDP

    /** A UdpClient whose socket is created in {@code ns} (native transport, forced). */
    public UdpClient udpClient(NetNamespace ns) {
        return inNamespace(UdpClient.create(), ns);
    }

    /** Connects a UDP client in {@code ns}. */
    public Mono<Connection> connect(NetNamespace ns, UdpClient client) {
        return onLoops(inNamespace(client, ns)::connect);
    }

    /** Binds a UDP server in every namespace; each bound connection knows its namespace. */
    public Flux<Connection> bind(UdpServer server, Flux<NetNamespace> namespaces) {
        return namespaces.flatMap(ns -> this.<Connection>onLoops(server.runOn(loopsIn(ns), true)::bind)
                .onErrorMap(Netns::unwrapNamespaceError));
    }

    // ---------------------------------------------------------------- HTTP

    /**
     * An HttpClient for {@code ns}: its own pool; DNS on the namespace's loops (its UDP and TCP sockets
     * are created in {@code ns}) with name servers from {@code /etc/netns/NAME/resolv.conf} and hosts
     * from {@code /etc/netns/NAME/hosts}, each falling back to {@code /etc} as {@code ip netns exec}
     * does. Plugs into Spring's {@code ReactorClientHttpConnector}.
     */
    public HttpClient httpClient(NetNamespace ns) {
        return inNamespace(HttpClient.create(connectionProvider(ns)), ns);
    }

    /** Binds {@code server} once in every namespace; each server knows its namespace. */
    public Flux<DisposableServer> bind(HttpServer server, Flux<NetNamespace> namespaces) {
        return bindAll(server, namespaces);
    }

    private <T extends ServerTransport<T, ?>> Flux<DisposableServer> bindAll(T server, Flux<NetNamespace> namespaces) {
        Objects.requireNonNull(server, "server");
        return namespaces.flatMap(ns -> this.<DisposableServer>onLoops(server.runOn(loopsIn(ns), true)::bind)
                .onErrorMap(Netns::unwrapNamespaceError));
    }

    /** {@code client} with its sockets created in {@code ns} and host names resolved as there. */
    private <T extends ClientTransport<T, ?>> T inNamespace(T client, NetNamespace ns) {
        return client.runOn(loopsIn(ns), true).resolver(resolver(ns));
    }

    /** Subscribed on the shared loops, so that the socket is created inline on a loop thread. */
    private <C> Mono<C> onLoops(Supplier<? extends Mono<? extends C>> open) {
        return Mono.<C>defer(open).subscribeOn(loops.loopScheduler());
    }

    /** Reactor Netty wraps bind failures in ChannelBindException; a namespace error underneath is the real cause. */
    private static Throwable unwrapNamespaceError(Throwable e) {
        return e instanceof ChannelBindException && e.getCause() instanceof NamespaceException ne ? ne : e;
    }

    // ---------------------------------------------------------------- lifecycle

    /** The scheduler that switches. */
    public NamespaceScheduler scheduler() {
        return scheduler;
    }

    /** The shared loops. */
    public NamespaceLoopResources loops() {
        return loops;
    }

    /** Disposes the pools, closes every channel, shuts the loops (and an owned scheduler) down, and waits. */
    @Override
    public void dispose() {
        Flux.fromIterable(perNamespace.values()).flatMap(PerNamespace::disposeLater).then()
                .block(Duration.ofSeconds(10));
        perNamespace.clear();
        loops.dispose();
        if (ownsScheduler) {
            scheduler.dispose();
            try {
                scheduler.awaitTermination(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isDisposed() {
        return loops.isDisposed();
    }

    /** Configuration of a {@link Netns}. */
    public static final class Builder {
        private int loopThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int dedicatedThreads = 2;
        private int maxConnections = 500;
        private MeterRegistry meterRegistry;
        private NamespaceScheduler scheduler;

        private Builder() {
        }

        /** Event loop threads shared by every namespace. */
        public Builder loopThreads(int n) {
            this.loopThreads = n;
            return this;
        }

        /** Dedicated workers of the scheduler created for this Netns. */
        public Builder dedicatedThreads(int n) {
            this.dedicatedThreads = n;
            return this;
        }

        /** Max connections of each namespace's pool. */
        public Builder maxConnectionsPerNamespace(int n) {
            this.maxConnections = n;
            return this;
        }

        /** Where the toolkit's meters go (tagged {@code namespace}). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /** Use an existing scheduler (not disposed with this Netns). */
        public Builder scheduler(NamespaceScheduler scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        /** Creates the loops (and scheduler) now, from the calling thread, which must be at home. */
        public Netns build() {
            if (scheduler != null) {
                return new Netns(scheduler, false, loopThreads, maxConnections);
            }
            NamespaceScheduler s = NamespaceScheduler.builder().dedicatedThreads(dedicatedThreads)
                    .meterRegistry(meterRegistry).build();
            return new Netns(s, true, loopThreads, maxConnections);
        }
    }
}

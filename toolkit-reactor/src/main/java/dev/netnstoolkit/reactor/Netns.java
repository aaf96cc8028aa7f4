package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.LinkEvent;
import dev.netnstoolkit.api.NamespaceEvent;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.resolver.AddressResolverGroup;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import org.reactivestreams.Publisher;
import reactor.netty.Connection;
import reactor.netty.DisposableChannel;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.NettyOutbound;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;
import reactor.netty.transport.ClientTransport;
import reactor.netty.transport.ServerTransport;
import reactor.netty.udp.UdpClient;
import reactor.netty.udp.UdpServer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Reactor Netty in network namespaces: TCP, UDP and HTTP clients and servers whose sockets are created
 * inside a namespace and whose I/O runs on one shared set of epoll event loops.
 *
 * <pre>{@code
 * Netns netns = Netns.create();
 * Mono<Connection> c = netns.connect(blue, TcpClient.newConnection().host("127.0.0.1").port(7));
 * Mono<DisposableServer> s = netns.bind(blue, TcpServer.create().port(7)
 *         .handle((in, out) -> out.sendString(Mono.just(Netns.namespaceOf(in).label()))));
 * HttpClient http = netns.httpClient(blue);          // its own pool, DNS as `ip netns exec blue` sees it
 * }</pre>
 *
 * <p><b>Where sockets are made.</b> Every socket (client, server, DNS) is made on one of the toolkit's
 * event loops, switched into the namespace for that one system call; the toolkit moves every connect
 * and bind there, whatever thread subscribes, so no thread it does not own ever waits for it. Its
 * loop threads are non-blocking as Reactor Netty's are ({@code block()} is refused on them).
 *
 * <p><b>Per namespace.</b> Each namespace handle gets its own bounded connection pool and its own DNS
 * resolver (name servers and hosts from {@code /etc/netns/NAME/}, else {@code /etc}); they are released
 * when the handle is closed. Every connection and server knows its namespace ({@link #namespaceOf}).
 *
 * <p><b>Errors</b> of connects, binds and name resolution are {@link NamespaceIoException}s naming the
 * namespace; every bound is a {@link QueueFullException} naming the bound; after {@link #dispose()}
 * every call fails with the same {@link IllegalStateException}.
 *
 * <p>(This class is longer than most here: it is the toolkit's public surface for Reactor Netty, one
 * documented method per transport and direction plus its immutable builder; the work is in
 * package-private classes.)
 *
 * <p>(Over 300 lines because it is the public facade with its documented, immutable builder; the jobs are
 * elsewhere: loops in {@code NamespaceLoopResources}, clients in {@code NamespaceClients}, watching in
 * {@code NamespaceWatch}, serving what a watch sees in {@code ServeFollowing}.)
 */
public final class Netns implements Disposable {

    private final String name;
    private final NamespaceScheduler scheduler;
    private final NamespaceLoopResources loops;
    private final OnLoops onLoops;
    private final NamespaceClients clients;
    private final int acceptBuffer;
    private final AtomicBoolean disposed = new AtomicBoolean();
    private final Mono<Void> disposal;

    private Netns(Builder b) {
        NamespaceScheduler.Builder sb = NamespaceScheduler.builder().dedicatedThreads(b.dedicatedThreads)
                .queueCapacity(b.queueCapacity).namePrefix(b.namePrefix);
        if (b.meterRegistry != null) {
            sb = sb.meterRegistry(b.meterRegistry);
        }
        if (b.namespaceSwitch != null) {
            sb = sb.namespaceSwitch(b.namespaceSwitch);
        }
        this.name = b.namePrefix;
        this.scheduler = sb.build();
        try {
            this.loops = new NamespaceLoopResources(scheduler, b.loopThreads);
        } catch (RuntimeException | Error e) {
            scheduler.dispose();
            throw e;
        }
        this.onLoops = new OnLoops(loops.loopScheduler(), scheduler.meteredSwitch().namespaceSwitch());
        this.clients = new NamespaceClients(loops, onLoops, b.maxConnections, b.pendingAcquires);
        this.acceptBuffer = b.acceptBuffer;
        this.disposal = clients.disposeLater()
                .then(loops.disposeLater())
                .then(scheduler.disposeLater())
                .cache();
    }

    /**
     * Defaults: as many event loops as cores (at least 2), 2 dedicated workers, 500 connections and 1000
     * pending acquires per namespace pool.
     *
     * @throws NamespacePermissionException without CAP_SYS_ADMIN, before any thread starts
     */
    public static Netns create() {
        return builder().build();
    }

    /** A builder with the defaults of {@link #create()}. */
    public static Builder builder() {
        return new Builder(Math.max(2, Runtime.getRuntime().availableProcessors()), 2, 10_000, 500, 1000, 1024,
                "ntk", null, null);
    }

    // ---------------------------------------------------------------- clients

    /**
     * A pooled TcpClient in {@code ns} (as {@code TcpClient.create()}): its sockets made in {@code ns} on
     * the toolkit's loops whoever subscribes, host names resolved as in {@code ns}, the namespace's pool.
     */
    public TcpClient tcpClient(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        checkOpen("tcpClient", ns);
        return inNamespace(TcpClient.create(clients.of(ns).pooled()), ns);
    }

    /**
     * An HttpClient in {@code ns}: its own pool; sockets, DNS included, made in {@code ns} on the
     * toolkit's loops whoever subscribes; name servers from {@code /etc/netns/NAME/resolv.conf} and hosts
     * from {@code /etc/netns/NAME/hosts}, each falling back to {@code /etc} as {@code ip netns exec} does.
     * Plugs into Spring's {@code ReactorClientHttpConnector}. Configure it further as any HttpClient, but
     * keep its {@code runOn}, {@code resolver} and connection provider.
     */
    public HttpClient httpClient(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        checkOpen("httpClient", ns);
        return inNamespace(HttpClient.create(clients.of(ns).pooled()), ns);
    }

    /**
     * An HttpClient in {@code ns} without a pool (as {@code HttpClient.newConnection()}): every request opens
     * its own connection, made in {@code ns} on the toolkit's loops, and closes it after the response;
     * nothing stays per remote address. For one-off requests into many namespaces (a health check each),
     * where a pool per namespace would hold its per-address state until the namespace is released. Not
     * bounded per namespace: only by your own concurrency.
     */
    public HttpClient unpooledHttpClient(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        checkOpen("unpooledHttpClient", ns);
        return inNamespace(HttpClient.create(clients.of(ns).unpooled()), ns);
    }

    /**
     * A UdpClient in {@code ns}. Connect it with {@link #connect(NetNamespace, UdpClient)}: Reactor Netty's
     * UdpClient takes no connection provider, so its own {@code connect()} cannot be moved onto the
     * toolkit's loops and fails at once (without waiting) on any other thread.
     */
    public UdpClient udpClient(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        checkOpen("udpClient", ns);
        return inNamespace(UdpClient.create(), ns);
    }

    /**
     * Connects {@code client} from inside {@code ns}, on the toolkit's loops: any TcpClient, pooled
     * ({@link #tcpClient}) or not ({@code TcpClient.newConnection()}). Its loops and resolver are set to
     * the namespace's; a client on Reactor Netty's global pool is refused (its pooled channels would
     * outlive the namespace's handle).
     */
    public Mono<Connection> connect(NetNamespace ns, TcpClient client) {
        return connectIn(ns, client, () -> inNamespace(client, ns).connect());
    }

    /** Connects a UDP client from inside {@code ns}, on the toolkit's loops. */
    public Mono<Connection> connect(NetNamespace ns, UdpClient client) {
        return connectIn(ns, client, () -> inNamespace(client, ns).connect());
    }

    private <T extends ClientTransport<T, ?>> Mono<Connection> connectIn(NetNamespace ns, T client,
                                                                         java.util.function.Supplier<Mono<? extends Connection>> connect) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(client, "client");
        return Mono.defer(() -> {
            checkOpen("connect", ns);
            if (client.configuration().connectionProvider() instanceof reactor.netty.tcp.TcpResources) {
                return Mono.error(new IllegalArgumentException("connect in " + ns.label() + ": the client uses Reactor Netty's "
                        + "global connection pool, shared by every namespace; use netns.tcpClient(ns) or TcpClient.newConnection()"));
            }
            return onLoops.<Connection>subscribe(connect)
                    .onErrorMap(e -> OnLoops.named(e, "connect to", client.configuration().remoteAddress(), ns));
        });
    }

    /**
     * {@code client} with its sockets created in {@code ns} and host names resolved as there. The resolver
     * goes first: {@code runOn} on a client without one puts a resolver group for those loops into Reactor
     * Netty's static cache, where it (and the namespace's handle) would stay for ever.
     */
    private <T extends ClientTransport<T, ?>> T inNamespace(T client, NetNamespace ns) {
        return client.resolver(clients.of(ns).resolver()).runOn(loops.in(ns), true);
    }

    /**
     * The DNS resolver group of {@code ns} (sockets made in {@code ns}, name servers and hosts from
     * {@code /etc/netns/NAME/}, else {@code /etc}), for a transport the toolkit does not build itself.
     */
    public AddressResolverGroup<?> resolver(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        checkOpen("resolver", ns);
        return clients.of(ns).resolver();
    }

    /**
     * A socket of any kind ({@code spec}: ICMP, raw, netlink, UDP, SCTP, ...) made in {@code ns} by one of
     * the toolkit's loops, through the one switch, and registered with it: messages received on demand,
     * sends that never block. The kernel's refusal is a typed error naming the namespace and the call:
     * {@link dev.netnstoolkit.api.SocketUnsupportedException} (a family or protocol it does not offer, e.g.
     * SCTP where it is not built in), {@link dev.netnstoolkit.api.NamespacePermissionException} (raw sockets
     * without CAP_NET_RAW). Cancelled before it is ready, nothing is left open.
     */
    public Mono<MessageSocket> openSocket(NetNamespace ns, SocketSpec spec) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(spec, "spec");
        return Mono.defer(() -> {
            checkOpen("openSocket", ns);
            return MessageSocketHandle.open(loops, NamespaceLoopResources.NATIVE, ns, spec);
        });
    }

    /**
     * Connects a stream socket of a protocol Reactor Netty does not make itself ({@code spec}: MPTCP, SCTP
     * one-to-one, ...) from inside {@code ns} to {@code remote}: made on a loop through the one switch,
     * connected without blocking, then an ordinary Reactor Netty {@link Connection} (inbound, outbound,
     * {@code onDispose}) on the toolkit's loops, tracked like every channel of the toolkit. Errors name the
     * namespace, the address and the cause.
     */
    public Mono<Connection> connect(NetNamespace ns, SocketSpec spec, InetSocketAddress remote) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(remote, "remote");
        return Mono.defer(() -> {
            checkOpen("connect", ns);
            return StreamConnect.connect(loops, NamespaceLoopResources.NATIVE, ns, spec, remote);
        });
    }

    /**
     * Sends {@code count} ICMP echo requests to {@code host} from inside {@code ns}, {@code interval}
     * apart, and reports what came back within {@code timeout} of the last one: over an ICMP datagram
     * socket where the namespace's net.ipv4.ping_group_range allows it, else over a raw ICMP socket
     * (CAP_NET_RAW); {@link PingResult#method()} says which. IPv4 and IPv6. The socket is closed at the end,
     * on error and on cancel.
     */
    public Mono<PingResult> ping(NetNamespace ns, InetAddress host, int count, Duration interval, Duration timeout) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(host, "host");
        if (count < 1 || interval.isNegative() || timeout.isNegative()) {
            throw new IllegalArgumentException("ping in " + ns.label() + ": count must be at least 1 and the durations not negative");
        }
        return Pinger.ping(this::openSocket, ns, host, count, interval, timeout);
    }

    /**
     * The links of {@code ns} as rtnetlink reports them from inside: each one there now
     * ({@code PRESENT_UP}/{@code PRESENT_DOWN}), then every change (added, removed, up, down, an address
     * added or removed), each with the namespace. One netlink socket on the loops, read only on demand;
     * cancelling closes it.
     */
    public Flux<LinkEvent> links(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        return LinkWatch.of(this::openSocket, ns);
    }

    /**
     * Creates a veth pair {@code name}/{@code peer} inside {@code ns} with an rtnetlink request made from
     * there (no {@code ip} process); completes on the kernel's acknowledgement. Errors name the namespace
     * and the errno ({@link dev.netnstoolkit.api.NamespacePermissionException} without CAP_NET_ADMIN).
     */
    public Mono<Void> addVethPair(NetNamespace ns, String name, String peer) {
        Objects.requireNonNull(ns, "ns");
        return Mono.defer(() -> LinkRequests.addVethPair(this::openSocket, ns, name, peer));
    }

    /** Deletes the link {@code name} inside {@code ns} (a veth's peer goes with it), as {@link #addVethPair} makes it. */
    public Mono<Void> deleteLink(NetNamespace ns, String name) {
        Objects.requireNonNull(ns, "ns");
        return Mono.defer(() -> LinkRequests.deleteLink(this::openSocket, ns, name));
    }

    // ---------------------------------------------------------------- servers

    /** Binds {@code server} in {@code ns}, on the toolkit's loops; the server knows its namespace. */
    public Mono<DisposableServer> bind(NetNamespace ns, TcpServer server) {
        return bindIn(ns, server);
    }

    /** Binds {@code server} in {@code ns}, on the toolkit's loops; the server knows its namespace. */
    public Mono<DisposableServer> bind(NetNamespace ns, HttpServer server) {
        return bindIn(ns, server);
    }

    /**
     * Listens with a stream socket of a protocol Reactor Netty does not make itself ({@code spec}: MPTCP,
     * SCTP one-to-one, ...; an AF_INET or AF_INET6 {@code SOCK_STREAM} spec with its bind address, and its
     * backlog or 1024) inside {@code ns}, and serves every accepted connection with {@code handler} as a
     * {@code TcpServer}'s {@code handle} does: ordinary inbound and outbound, the connection disposed when
     * the handler's publisher ends. Made on a loop through the one switch; the server and its connections
     * know their namespace and close with {@link #release} and dispose. Errors name the namespace, the
     * address and the cause; cancelled before it is bound, nothing is left open.
     */
    public Mono<DisposableServer> bind(NetNamespace ns, SocketSpec spec,
                                       BiFunction<? super NettyInbound, ? super NettyOutbound, ? extends Publisher<Void>> handler) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        if ((spec.type() & 0xf) != SocketSpec.SOCK_STREAM || spec.bind() == null
                || (spec.family() != SocketSpec.AF_INET && spec.family() != SocketSpec.AF_INET6)) {
            throw new IllegalArgumentException("bind in " + ns.label() + ": a stream listener needs an AF_INET or AF_INET6 "
                    + "SOCK_STREAM spec with a bind address, not " + spec);
        }
        SocketSpec listening = spec.backlog() > 0 ? spec : spec.withListen(1024);
        return Mono.defer(() -> {
            checkOpen("bind", ns);
            return StreamListen.bind(loops, NamespaceLoopResources.NATIVE, ns, listening, handler);
        });
    }

    /** Binds a UDP server in {@code ns}; the bound connection knows its namespace. */
    public Mono<Connection> bind(NetNamespace ns, UdpServer server) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(server, "server");
        return Mono.defer(() -> {
            checkOpen("bind", ns);
            return onLoops.<Connection>subscribe(() -> server.runOn(loops.in(ns), true).bind())
                    .onErrorMap(e -> OnLoops.named(e, "bind", server.configuration().bindAddress(), ns));
        });
    }

    /** Binds {@code server} once in every namespace of {@code namespaces}. */
    public Flux<DisposableServer> bind(Flux<NetNamespace> namespaces, TcpServer server) {
        return namespaces.flatMap(ns -> bind(ns, server));
    }

    /** Binds {@code server} once in every namespace of {@code namespaces}. */
    public Flux<DisposableServer> bind(Flux<NetNamespace> namespaces, HttpServer server) {
        return namespaces.flatMap(ns -> bind(ns, server));
    }

    /** Binds a UDP server once in every namespace of {@code namespaces}. */
    public Flux<Connection> bind(Flux<NetNamespace> namespaces, UdpServer server) {
        return namespaces.flatMap(ns -> bind(ns, server));
    }

    private <T extends ServerTransport<T, ?>> Mono<DisposableServer> bindIn(NetNamespace ns, T server) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(server, "server");
        return Mono.defer(() -> {
            checkOpen("bind", ns);
            return onLoops.<DisposableServer>subscribe(() -> server.runOn(loops.in(ns), true).bind())
                    .onErrorMap(e -> OnLoops.named(e, "bind", server.configuration().bindAddress(), ns));
        });
    }

    /**
     * Binds {@code server} in every namespace and emits every inbound connection (each knows its
     * namespace), as the subscriber asks for them. Cancelling disposes the servers. At most
     * {@code acceptBuffer} connections (builder, default 1024) wait for a slow subscriber; past that they
     * are closed and the Flux fails at once with {@link QueueFullException}.
     */
    public Flux<Connection> accept(Flux<NetNamespace> namespaces, TcpServer server) {
        Objects.requireNonNull(server, "server");
        return BoundedAccept.of(acceptBuffer, onConnection -> bind(namespaces, server.doOnConnection(onConnection::accept)));
    }

    // ---------------------------------------------------------------- namespaces that come and go

    /** {@link #watch(Path, String)} of /run/netns, every name. */
    public Flux<NamespaceEvent> watch() {
        return watch(Path.of(NamespaceRegistry.runDir()), "");
    }

    /**
     * The namespaces in {@code dir} (/run/netns, /var/run/docker/netns, ...) whose names start with
     * {@code prefix}: an {@link NamespaceEvent.Added} for each one there now, then one per change as it
     * happens, in order for each name (a name created before its namespace is mounted waits for the mount,
     * so another name's later event may come first; a name added and deleted again before it could be looked
     * at is not reported: its identity went with it). A name re-created with another namespace is a removal
     * then an addition; an entry that is
     * not a namespace is an {@link NamespaceEvent.Unusable} warning. The watch's descriptor is on the
     * toolkit's event loops (no thread per watch) and read only while the subscriber has demand;
     * cancelling closes it. A missing or unreadable directory is a typed error.
     */
    public Flux<NamespaceEvent> watch(Path dir, String prefix) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(prefix, "prefix");
        return Flux.defer(() -> {
            checkOpen("watch " + dir, null);
            return NamespaceWatch.of(NamespaceLoopResources.NATIVE, loops.eventLoopGroup(), dir, prefix);
        });
    }

    /**
     * Serves in every namespace as it appears in {@code events} (e.g. {@link #watch()}) and releases
     * everything of it as it goes ({@link #release}): {@code bind} binds what is to be served in one
     * namespace, e.g. {@code ns -> Flux.merge(netns.bind(ns, tcp), netns.bind(ns, http))}. Emits what
     * happened; a namespace deleted between its event and the bind is a {@link ServingEvent.Failed} with
     * nothing left open. Cancelling releases every namespace still served.
     */
    public Flux<ServingEvent> serve(Flux<NamespaceEvent> events,
                                    Function<NetNamespace, ? extends Publisher<? extends DisposableChannel>> bind) {
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(bind, "bind");
        return ServeFollowing.of(this, events, bind);
    }

    /** {@link #serve(Flux, Function)} of one TCP server config. */
    public Flux<ServingEvent> serve(Flux<NamespaceEvent> events, TcpServer server) {
        return serve(events, ns -> bind(ns, server));
    }

    /** {@link #serve(Flux, Function)} of one HTTP server config. */
    public Flux<ServingEvent> serve(Flux<NamespaceEvent> events, HttpServer server) {
        return serve(events, ns -> bind(ns, server));
    }

    /**
     * Releases everything the toolkit holds of a namespace handle: closes every channel made through it
     * (listeners, accepted and client connections, DNS sockets) and every {@link MessageSocket}, disposes its pool and resolver, removes
     * its meters and closes the handle, so nothing of the toolkit keeps the namespace alive once it is
     * deleted. Completes when the channels and the handle are closed.
     */
    public Mono<Void> release(NetNamespace ns) {
        Objects.requireNonNull(ns, "ns");
        // not doFinally: it runs after the completion has reached the subscriber, who could see the handle open
        return loops.closeChannelsOf(ns).doOnTerminate(ns::close).doOnCancel(ns::close);
    }

    // ---------------------------------------------------------------- namespaces of connections

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

    // ---------------------------------------------------------------- lifecycle

    /** The scheduler that runs tasks in namespaces on dedicated workers ({@code call}, {@code in}). */
    public NamespaceScheduler scheduler() {
        return scheduler;
    }

    /** Event loops in rotation now (fewer than configured only if some were fenced and not replaced). */
    public int eventLoops() {
        return loops.eventLoopGroup().size();
    }

    /** Namespace handles that have a pool and resolver now; they go when their handle is closed. */
    public int namespacesWithClients() {
        return clients.size();
    }

    /** The loops, for tests in this package. */
    NamespaceLoopResources loops() {
        return loops;
    }

    private void checkOpen(String operation, NetNamespace ns) {
        if (disposed.get()) {
            throw new IllegalStateException("netns toolkit " + name + " is disposed: cannot " + operation
                    + (ns != null ? " in " + ns.label() : ""));
        }
    }

    /**
     * Disposes the pools and resolvers, closes every channel, ends the loops and the scheduler's
     * threads; completes when all of that is done. Idempotent.
     */
    public Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            disposed.set(true);
            return disposal;
        });
    }

    /** Starts {@link #disposeLater()} and returns at once: safe on any thread, a loop's included. */
    @Override
    public void dispose() {
        disposeLater().subscribe(null, e -> { });
    }

    /** Disposes and waits up to 30 s; refused on non-blocking threads as {@code block()} is. */
    public void disposeNow() {
        disposeNow(Duration.ofSeconds(30));
    }

    /** Disposes and waits up to {@code timeout}; refused on non-blocking threads as {@code block()} is. */
    public void disposeNow(Duration timeout) {
        disposeLater().block(timeout);
    }

    @Override
    public boolean isDisposed() {
        return disposed.get();
    }

    @Override
    public String toString() {
        return "Netns[" + name + ", loops=" + eventLoops() + (disposed.get() ? ", disposed" : "") + "]";
    }

    /** Configuration of a {@link Netns}; immutable, every option checked when set. */
    public static final class Builder {
        private final int loopThreads;
        private final int dedicatedThreads;
        private final int queueCapacity;
        private final int maxConnections;
        private final int pendingAcquires;
        private final int acceptBuffer;
        private final String namePrefix;
        private final MeterRegistry meterRegistry;
        private final NamespaceSwitch namespaceSwitch;

        private Builder(int loopThreads, int dedicatedThreads, int queueCapacity, int maxConnections, int pendingAcquires,
                        int acceptBuffer, String namePrefix, MeterRegistry meterRegistry, NamespaceSwitch namespaceSwitch) {
            this.loopThreads = loopThreads;
            this.dedicatedThreads = dedicatedThreads;
            this.queueCapacity = queueCapacity;
            this.maxConnections = maxConnections;
            this.pendingAcquires = pendingAcquires;
            this.acceptBuffer = acceptBuffer;
            this.namePrefix = namePrefix;
            this.meterRegistry = meterRegistry;
            this.namespaceSwitch = namespaceSwitch;
        }

        private static int range(String option, int n, int min, int max) {
            if (n < min || n > max) {
                throw new IllegalArgumentException(option + " must be " + min + " to " + max + ", not " + n);
            }
            return n;
        }

        /** Event loop threads shared by every namespace (1 to 256). */
        public Builder loopThreads(int n) {
            return new Builder(range("loopThreads", n, 1, 256), dedicatedThreads, queueCapacity, maxConnections,
                    pendingAcquires, acceptBuffer, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Dedicated workers of the scheduler, for {@code call} and {@code in} (1 to 64). */
        public Builder dedicatedThreads(int n) {
            return new Builder(loopThreads, range("dedicatedThreads", n, 1, 64), queueCapacity, maxConnections,
                    pendingAcquires, acceptBuffer, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Tasks that may wait for a dedicated worker (default 10 000). */
        public Builder queueCapacity(int n) {
            return new Builder(loopThreads, dedicatedThreads, range("queueCapacity", n, 1, 10_000_000), maxConnections,
                    pendingAcquires, acceptBuffer, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Connections of each namespace's pool (default 500). */
        public Builder maxConnectionsPerNamespace(int n) {
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, range("maxConnectionsPerNamespace", n, 1, 1_000_000),
                    pendingAcquires, acceptBuffer, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Acquires that may wait for a pooled connection in each namespace (default 1000); past it they fail at once. */
        public Builder pendingAcquiresPerNamespace(int n) {
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, maxConnections,
                    range("pendingAcquiresPerNamespace", n, 1, 10_000_000), acceptBuffer, namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Inbound connections {@link Netns#accept} holds for a slow subscriber (default 1024). */
        public Builder acceptBuffer(int n) {
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, maxConnections, pendingAcquires,
                    range("acceptBuffer", n, 1, 10_000_000), namePrefix, meterRegistry, namespaceSwitch);
        }

        /** Prefix of thread names and the {@code scheduler} meter tag (default {@code ntk}). */
        public Builder namePrefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (prefix.isBlank()) {
                throw new IllegalArgumentException("namePrefix must not be blank");
            }
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, maxConnections, pendingAcquires, acceptBuffer,
                    prefix, meterRegistry, namespaceSwitch);
        }

        /**
         * Where the toolkit's meters go: {@code ntk.namespace.switch} (timer), {@code ntk.namespace.tasks},
         * {@code ntk.namespace.errors} (by {@code type}), {@code ntk.namespace.queued}, tagged {@code namespace}
         * and {@code scheduler}; {@code ntk.scheduler.workers.retired}, {@code ntk.scheduler.loops.fenced}.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, maxConnections, pendingAcquires, acceptBuffer,
                    namePrefix, Objects.requireNonNull(registry, "registry"), namespaceSwitch);
        }

        /** The switch to use (default {@link NamespaceSwitch#system()}); tests and the soak pass one that injects faults. */
        public Builder namespaceSwitch(NamespaceSwitch sw) {
            return new Builder(loopThreads, dedicatedThreads, queueCapacity, maxConnections, pendingAcquires, acceptBuffer,
                    namePrefix, meterRegistry, Objects.requireNonNull(sw, "sw"));
        }

        /**
         * Starts the loops and the scheduler now, from the calling platform thread, which must be at home.
         *
         * @throws NamespacePermissionException without CAP_SYS_ADMIN, before any thread starts
         */
        public Netns build() {
            return new Netns(this);
        }
    }
}

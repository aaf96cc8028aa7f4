package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DatagramPacket;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableChannel;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpServer;
import reactor.netty.udp.UdpServer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo servers, one handler each for every namespace: TCP writes the namespace name and a newline,
 * then echoes lines; UDP answers each datagram with {@code NAME PAYLOAD}; HTTP answers {@code GET /}
 * with {@code NAME\n}. One process, one set of event loops, any number of namespaces.
 */
final class NameServers implements Disposable {


    final AtomicLong connections = new AtomicLong();
    final AtomicLong datagrams = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    private final List<Bound> bound = new ArrayList<>();
    /**
     * One config of each server (null where its port is), bound in every namespace: a config is immutable
     * and the handlers tell the namespaces apart. Built per namespace, each kept its own copy of the configs
     * and of the HTTP route's compiled pattern, ~1.5 KiB per namespace.
     */
    private final TcpServer tcp;
    private final UdpServer udp;
    private final HttpServer http;

    /** The servers of the protocols whose port is non-null. */
    NameServers(Integer tcpPort, Integer udpPort, Integer httpPort) {
        tcp = tcpPort == null ? null : TcpServer.create().host("0.0.0.0").port(tcpPort)
                // A client that half-closes (EOF on its stdin) still gets every byte it sent back: the
                // socket stays open on the peer's FIN, and closes once everything is written.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .doOnConnection(c -> {
                    connections.incrementAndGet();
                    c.addHandlerLast("ntk-echo", new Echo(Netns.namespaceOf(c).label() + "\n"));
                })
                // the echo is Netty's: the handler only keeps the connection until Echo closes it
                .handle((in, out) -> Mono.never());
        udp = udpPort == null ? null : UdpServer.create().host("0.0.0.0").port(udpPort)
                // replies sent one at a time (prefetch 1): sendObject(Flux) keeps a 128-slot queue per listener
                // (~1 KiB per namespace); the reply is made as the datagram arrives, before it is released
                .handle((in, out) -> in.receiveObject().cast(DatagramPacket.class).map(p -> {
                    datagrams.incrementAndGet();
                    String reply = Netns.namespaceOf(in).label() + " " + p.content().toString(StandardCharsets.UTF_8);
                    return new DatagramPacket(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8), p.sender());
                }).concatMap(out::sendObject, 1).doOnDiscard(DatagramPacket.class, DatagramPacket::release));
        http = httpPort == null ? null : HttpServer.create().host("0.0.0.0").port(httpPort)
                .route(r -> r.get("/", (req, res) -> {
                    requests.incrementAndGet();
                    return res.header("content-type", "text/plain").sendString(Mono.just(Netns.namespaceOf(req).label() + "\n"));
                }));
    }

    /** How many of the listeners of one protocol ("tcp", "udp", "http") are still listening. */
    long listening(String protocol) {
        synchronized (bound) {
            return bound.stream().filter(b -> b.protocol().equals(protocol) && b.server().channel().isActive()).count();
        }
    }

    /** A listener, with its protocol. */
    private record Bound(String protocol, DisposableChannel server) {
    }

    /** Binds the servers in every namespace; returns the number of listeners. */
    int bind(Netns netns, List<NetNamespace> spaces, Duration timeout) {
        // Each server is kept as it is bound, so that dispose() closes it even if another bind fails; every
        // bind runs to its end before a failure is told (a bind cancelled half way could leave a listener).
        List<Bound> servers = Flux.fromIterable(spaces)
                .flatMapDelayError(ns -> bound(netns, ns), 32, 32)
                .doOnNext(d -> {
                    synchronized (bound) {
                        bound.add(d);
                    }
                }).collectList().block(timeout);
        return servers.size();
    }

    /** The listeners of one namespace, not kept here: for a caller that disposes them itself (serve --watch). */
    Flux<DisposableChannel> servers(Netns netns, NetNamespace ns) {
        return bound(netns, ns).map(Bound::server);
    }

    private Flux<Bound> bound(Netns netns, NetNamespace ns) {
        List<Flux<Bound>> binds = new ArrayList<>();
        if (tcp != null) {
            binds.add(netns.bind(ns, tcp).map(d -> new Bound("tcp", d)).flux());
        }
        if (udp != null) {
            binds.add(netns.bind(ns, udp).map(d -> new Bound("udp", d)).flux());
        }
        if (http != null) {
            binds.add(netns.bind(ns, http).map(d -> new Bound("http", d)).flux());
        }
        return Flux.fromIterable(binds).flatMapDelayError(f -> f, 3, 3);
    }

    /**
     * Writes the greeting, then every byte read back as it is, in order, with nothing dropped (a last line
     * without a newline included); on the peer's FIN, flushes and closes. It asks for each read itself
     * (auto-read stays off, as Reactor Netty leaves it) and only while the socket can take the writes, so
     * a client that does not read cannot make the server buffer without bound.
     */
    static final class Echo extends ChannelInboundHandlerAdapter {
        private final String greeting;

        Echo(String greeting) {
            this.greeting = greeting;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(greeting, StandardCharsets.UTF_8));
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (ctx.channel().isWritable()) {
                ctx.read();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.read();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownReadComplete) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** {@code PROTOCOL NAMESPACE PORT} for every listener bound, e.g. for the ports given for port 0. */
    List<String> listeners() {
        List<String> out = new ArrayList<>();
        synchronized (bound) {
            for (Bound b : bound) {
                if (b.server() instanceof DisposableServer s) {
                    out.add(b.protocol() + " " + Netns.namespaceOf(s).label() + " " + s.port());
                } else if (b.server() instanceof Connection c && c.channel().localAddress() instanceof java.net.InetSocketAddress a) {
                    out.add(b.protocol() + " " + Netns.namespaceOf(c).label() + " " + a.getPort());
                }
            }
        }
        return out;
    }

    @Override
    public void dispose() {
        synchronized (bound) {
            for (Bound b : bound) {
                Disposable d = b.server();
                try {
                    if (d instanceof DisposableServer s) {
                        s.disposeNow();
                    } else if (d instanceof Connection c) {
                        c.disposeNow();
                    } else {
                        d.dispose();
                    }
                } catch (RuntimeException e) {
                    // closed already (its loop was fenced, say): the others still get closed
                }
            }
            bound.clear();
        }
    }
}

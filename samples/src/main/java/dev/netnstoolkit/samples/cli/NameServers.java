package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.util.AttributeKey;
import reactor.core.publisher.Sinks;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LineBasedFrameDecoder;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
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

    private static final AttributeKey<Sinks.Empty<Void>> PEER_EOF = AttributeKey.valueOf("ntk.peerEof");

    final AtomicLong connections = new AtomicLong();
    final AtomicLong datagrams = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    private final List<Disposable> bound = new ArrayList<>();

    /** Binds the protocols whose port is non-null in every namespace; returns the number of listeners. */
    @SuppressWarnings("unchecked")
    int bind(Netns netns, List<NetNamespace> spaces, Integer tcpPort, Integer udpPort, Integer httpPort, Duration timeout) {
        Flux<NetNamespace> all = Flux.fromIterable(spaces);
        List<Flux<? extends Disposable>> binds = new ArrayList<>();
        if (tcpPort != null) {
            binds.add(netns.bind(all, TcpServer.create().host("0.0.0.0").port(tcpPort)
                    // A client that half-closes (EOF on its stdin) still gets every echoed line back: we
                    // keep the socket open on the peer's FIN, end the echo there, and close once it is written.
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .doOnConnection(c -> {
                        connections.incrementAndGet();
                        Sinks.Empty<Void> eof = Sinks.empty();
                        c.channel().attr(PEER_EOF).set(eof);
                        c.addHandlerFirst("ntk-peer-eof", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof ChannelInputShutdownReadComplete) {
                                    eof.tryEmitEmpty();
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        });
                        c.addHandlerLast(new LineBasedFrameDecoder(64 * 1024));
                    })
                    .handle((in, out) -> {
                        Mono<Void>[] eof = new Mono[1];
                        in.withConnection(c -> eof[0] = c.channel().attr(PEER_EOF).get().asMono());
                        return out.sendString(Flux.concat(
                                Mono.just(Netns.namespaceOf(in).label() + "\n"),
                                in.receive().asString(StandardCharsets.UTF_8).map(line -> line + "\n").takeUntilOther(eof[0])));
                    })));
        }
        if (udpPort != null) {
            binds.add(netns.bind(all, UdpServer.create().host("0.0.0.0").port(udpPort)
                    .handle((in, out) -> out.sendObject(in.receiveObject().cast(DatagramPacket.class).map(p -> {
                        datagrams.incrementAndGet();
                        String reply = Netns.namespaceOf(in).label() + " " + p.content().toString(StandardCharsets.UTF_8);
                        return new DatagramPacket(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8), p.sender());
                    })))));
        }
        if (httpPort != null) {
            binds.add(netns.bind(all, HttpServer.create().host("0.0.0.0").port(httpPort)
                    .route(r -> r.get("/", (req, res) -> {
                        requests.incrementAndGet();
                        return res.header("content-type", "text/plain").sendString(Mono.just(Netns.namespaceOf(req).label() + "\n"));
                    }))));
        }
        // Each server is kept as it is bound, so that dispose() closes it even if another bind fails.
        List<? extends Disposable> servers = Flux.merge(binds).doOnNext(d -> {
            synchronized (bound) {
                bound.add(d);
            }
        }).collectList().block(timeout);
        return servers.size();
    }

    @Override
    public void dispose() {
        synchronized (bound) {
            for (Disposable d : bound) {
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

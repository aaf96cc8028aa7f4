package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.SocketFd;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollServerSocketChannel;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.ConnectionObserver;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.NettyOutbound;
import reactor.netty.channel.ChannelOperations;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

/**
 * {@link Netns#bind(NetNamespace, SocketSpec, BiFunction)}: a listening stream socket of a protocol
 * Reactor Netty does not make itself (MPTCP, SCTP one-to-one, ...), made, bound and listening inside the
 * namespace by a loop through the one switch, then handed to a Netty epoll server channel. Every accepted
 * connection gets Reactor Netty's bridge before it turns active, so the handler sees ordinary inbound and
 * outbound, as a {@code TcpServer}'s handler does; the connection is disposed when the handler's
 * publisher ends. Unlike a {@code TcpServer} by default, a peer's half-close only completes the inbound
 * side: an echo ({@code out.send(in.receive())}) returns every byte to a client that shut down its sending
 * side, then closes. The server and its connections are the toolkit's channels: they know their namespace
 * and close with {@code release(ns)} and dispose.
 */
final class StreamListen {

    private static final Logger log = Loggers.getLogger(StreamListen.class);

    private StreamListen() {
    }

    static Mono<DisposableServer> bind(NamespaceLoopResources loops, NamespaceBackend backend, NetNamespace ns, SocketSpec spec,
                                       BiFunction<? super NettyInbound, ? super NettyOutbound, ? extends Publisher<Void>> handler) {
        InetSocketAddress at = Sockaddr.toInet(spec.bind());
        String where = at.getHostString() + ":" + at.getPort();
        return Mono.create(sink -> {
            IoEventLoop loop = loops.eventLoopGroup().next();
            AtomicBoolean cancelled = new AtomicBoolean();
            AtomicReference<Channel> bound = new AtomicReference<>();
            sink.onCancel(() -> { // whichever comes second, the cancel or the bind, closes the server
                cancelled.set(true);
                Channel server = bound.get();
                if (server != null) {
                    server.close();
                }
            });
            loop.execute(() -> {
                if (cancelled.get()) {
                    return;
                }
                SocketFd made = MessageSocketHandle.makeOnLoop(loops, backend, ns, spec, e -> sink.error(
                        e instanceof NamespaceException ? new NamespaceIoException("bind", where, ns.label(), e) : e));
                if (made == null) {
                    return;
                }
                // listening already: the channel is active as soon as it is registered, and accepts while it is
                EpollServerSocketChannel server = new EpollServerSocketChannel(made.release());
                loops.created(server, ns); // after the toolkit's child tracker, the acceptor below
                server.pipeline().addLast(new Acceptor(loops, handler));
                loop.register(server).addListener(f -> {
                    if (!f.isSuccess()) {
                        server.unsafe().closeForcibly();
                        sink.error(new NamespaceIoException("bind", where, ns.label(), f.cause()));
                        return;
                    }
                    bound.set(server);
                    if (cancelled.get()) {
                        server.close();
                    } else {
                        sink.success(new Listening(server));
                    }
                });
            });
        });
    }

    /** What a server bootstrap's acceptor does: the bridge, then a loop of the toolkit's for each accepted connection. */
    private static final class Acceptor extends ChannelInboundHandlerAdapter {
        private final NamespaceLoopResources loops;
        private final ConnectionObserver handle;

        Acceptor(NamespaceLoopResources loops, BiFunction<? super NettyInbound, ? super NettyOutbound, ? extends Publisher<Void>> handler) {
            this.loops = loops;
            this.handle = (connection, state) -> {
                if (state == ConnectionObserver.State.CONFIGURED) {
                    try {
                        Mono.fromDirect(handler.apply((NettyInbound) connection, (NettyOutbound) connection))
                                .subscribe(connection.disposeSubscriber());
                    } catch (Throwable t) { // as Reactor Netty's servers do: the handler failed, the connection goes
                        log.error("a stream listener's handler failed; closing " + connection.channel(), t);
                        connection.channel().close();
                    }
                } else if (state == ConnectionObserver.State.DISCONNECTING
                        && connection.channel().isActive() && !connection.isPersistent()) {
                    connection.dispose(); // the handler's publisher ended or failed: as Reactor Netty's servers, close
                }
            };
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            // A peer's half-close ends the inbound side only: what the handler still sends gets through
            child.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            child.pipeline().addFirst(HalfClose.INSTANCE);
            ChannelOperations.addReactiveBridge(child, (connection, listener, m) -> new StreamOperations(connection, listener), handle);
            try {
                loops.eventLoopGroup().next().register(child).addListener(f -> {
                    if (!f.isSuccess()) {
                        child.unsafe().closeForcibly();
                    }
                });
            } catch (RuntimeException noLoop) { // every loop fenced at this moment
                child.unsafe().closeForcibly();
            }
        }
    }

    /** Reactor Netty's operations, told when the peer has half-closed (Reactor Netty itself does not listen for it). */
    private static final class StreamOperations extends ChannelOperations<NettyInbound, NettyOutbound> {
        StreamOperations(Connection connection, ConnectionObserver listener) {
            super(connection, listener);
        }

        void peerHalfClosed() {
            onInboundComplete(); // the handler's receive() completes; its sends go on until it ends
        }
    }

    /** The peer's FIN, with half-closure allowed: completes the inbound side. */
    @ChannelHandler.Sharable
    private static final class HalfClose extends ChannelInboundHandlerAdapter {
        static final HalfClose INSTANCE = new HalfClose();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && NamespaceLoopResources.operationsOf(ctx.channel()) instanceof StreamOperations ops) {
                ops.peerHalfClosed();
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** The server channel as Reactor Netty's handle: address, port, dispose, onDispose. */
    private record Listening(Channel channel) implements DisposableServer {
        @Override
        public String host() {
            return ((InetSocketAddress) address()).getHostString();
        }

        @Override
        public int port() {
            return ((InetSocketAddress) address()).getPort();
        }
    }
}

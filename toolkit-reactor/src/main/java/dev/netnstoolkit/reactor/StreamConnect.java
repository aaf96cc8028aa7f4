package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.SocketFd;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.netty.Connection;
import reactor.netty.ConnectionObserver;
import reactor.netty.channel.ChannelOperations;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link Netns#connect(NetNamespace, SocketSpec, InetSocketAddress)}: a stream socket of any protocol
 * Reactor Netty does not make itself (MPTCP, SCTP one-to-one, ...), made inside the namespace by a loop
 * through the one switch, connected without blocking (the loop waits for it to become writable, as a
 * handle of its own), then handed to a Netty epoll channel with Reactor Netty's bridge, so that it is an
 * ordinary {@link Connection} with inbound and outbound. The channel is the toolkit's like any other:
 * it knows its namespace and is closed by {@code release(ns)} and dispose.
 */
final class StreamConnect implements EpollIoHandle {

    private final NamespaceLoopResources loops;
    private final NetNamespace ns;
    private final InetSocketAddress remote;
    private final IoEventLoop loop;
    private final SocketFd socket;
    private final FileDescriptor fd;
    private final MonoSink<Connection> sink;
    private final AtomicBoolean cancelled;
    private IoRegistration waiting;
    private boolean done;

    private StreamConnect(NamespaceLoopResources loops, NetNamespace ns, InetSocketAddress remote, IoEventLoop loop, SocketFd socket,
                          MonoSink<Connection> sink, AtomicBoolean cancelled) {
        this.loops = loops;
        this.ns = ns;
        this.remote = remote;
        this.loop = loop;
        this.socket = socket;
        this.fd = new FileDescriptor(socket.fd());
        this.sink = sink;
        this.cancelled = cancelled;
    }

    static Mono<Connection> connect(NamespaceLoopResources loops, NamespaceBackend backend, NetNamespace ns, SocketSpec spec,
                                    InetSocketAddress remote) {
        byte[] to = Sockaddr.inet(remote);
        return Mono.create(sink -> {
            IoEventLoop loop = loops.clientLoops().next();
            AtomicBoolean cancelled = new AtomicBoolean();
            AtomicReference<StreamConnect> under = new AtomicReference<>();
            sink.onCancel(() -> {
                cancelled.set(true);
                loop.execute(() -> { // a connect still under way is abandoned and its socket closed at once
                    StreamConnect c = under.get();
                    if (c != null && !c.done) {
                        c.fail(null);
                    }
                });
            });
            loop.execute(() -> {
                SocketFd made = MessageSocketHandle.makeOnLoop(loops, backend, ns, spec, sink::error);
                if (made == null) {
                    return;
                }
                StreamConnect c = new StreamConnect(loops, ns, remote, loop, made, sink, cancelled);
                under.set(c);
                try {
                    if (made.connect(to)) { // a socket's namespace is fixed at its creation: connect from home
                        c.connected();
                    } else {
                        c.awaitWritable();
                    }
                } catch (RuntimeException e) {
                    c.fail(e);
                }
            });
        });
    }

    private void awaitWritable() {
        loop.register(this).addListener(f -> {
            if (!f.isSuccess()) {
                fail(f.cause());
                return;
            }
            waiting = (IoRegistration) f.getNow();
            waiting.submit(EpollIoOps.EPOLLOUT);
        });
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (done) {
            return;
        }
        registration.cancel(); // off epoll before the channel registers the same descriptor
        waiting = null;
        int errno = socket.pendingError();
        if (errno != 0) {
            fail(new NamespaceException("connect(" + ns.label() + ") failed (errno " + errno + ")", "connect", errno, ns.label(), null));
            return;
        }
        connected();
    }

    /** Connected: the descriptor goes to a Netty channel with Reactor Netty's bridge; its activation signals. */
    private void connected() {
        if (cancelled.get()) {
            fail(null);
            return;
        }
        done = true;
        EpollSocketChannel channel = new EpollSocketChannel(socket.release()); // active: it is connected
        loops.created(channel, ns);
        ConnectionObserver observer = (connection, state) -> {
            if (state == ConnectionObserver.State.CONFIGURED) {
                sink.success(connection);
            }
        };
        ChannelOperations.addReactiveBridge(channel, (connection, listener, msg) -> new ChannelOperations<>(connection, listener), observer);
        loop.register(channel).addListener(f -> {
            if (!f.isSuccess()) {
                channel.unsafe().closeForcibly();
                sink.error(new NamespaceIoException("connect to", where(), ns.label(), f.cause()));
            }
        });
    }

    private void fail(Throwable e) {
        done = true;
        if (waiting != null && waiting.isValid()) {
            waiting.cancel();
        }
        socket.close();
        if (e != null) {
            sink.error(e instanceof NamespaceException ? new NamespaceIoException("connect to", where(), ns.label(), e) : e);
        }
    }

    private String where() {
        return remote.getHostString() + ":" + remote.getPort();
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    /** Netty closes its handles when the loop shuts down: a connect still under way fails. */
    @Override
    public void close() {
        if (!done) {
            fail(new IllegalStateException("connect to " + where() + " in " + ns.label() + ": the event loops were shut down"));
        }
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.Namespaces;
import dev.netnstoolkit.api.NetNamespace;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.resources.LoopResources;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.Objects;

/**
 * One shared set of epoll event loops for every namespace, and per namespace a {@link LoopResources}
 * view ({@link #in}) whose channel-construction callback builds the channel switched into that
 * namespace. Reactor Netty calls {@code LoopResources.onChannel(...)} exactly where {@code socket(2)}
 * runs (TransportConnector.doInitAndRegister, and the DNS resolver's channel factories), so every
 * socket of a client, server or resolver configured with a view is created in its namespace, and is then
 * registered with the shared loops like any other: 1000 namespaces share a few threads.
 *
 * <p>The loops are threads of the {@link NamespaceScheduler}, so the callback switches inline on them
 * (the common case); from any other thread it is handed to the scheduler's dedicated workers while the
 * caller waits. The loops are created and prewarmed from home at construction (every executor has run
 * a task; Epoll's native code and the channel classes are initialized at home). Only the native epoll
 * transport is supported: with NIO, Reactor Netty creates UDP channels without the callback, so a view
 * asked for a non-native group fails with a clear error.
 *
 * <p>Datagram and server channels made through a view turn auto-read off when they are closed, which
 * ends Netty's read loop: in Netty 4.2 that loop otherwise reads again after a handler closed the channel
 * from {@code channelRead}, on a descriptor number another thread may have reused.
 */
public final class NamespaceLoopResources implements Disposable {

    /** The namespace a channel was created in; set on every channel a view creates. */
    static final AttributeKey<NetNamespace> NAMESPACE = AttributeKey.valueOf("ntk.namespace");
    private static final long LOOP_START_TIMEOUT_SECONDS = 10;

    private final NamespaceScheduler scheduler;
    private final MultiThreadIoEventLoopGroup loops;
    private final ChannelGroup channels;
    private final Scheduler onLoops;

    private NamespaceLoopResources(NamespaceScheduler scheduler, int threads, String prefix) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        if (!Namespaces.system().backend().threadId().equals(scheduler.homeId())) {
            throw new IllegalStateException("create NamespaceLoopResources from a thread in the home namespace");
        }
        Epoll.ensureAvailability(); // native init probes sockets: at home, before any switching
        prewarmChannelClasses();
        this.loops = new MultiThreadIoEventLoopGroup(threads, scheduler.ownedThreadFactory(prefix), EpollIoHandler.newFactory());
        for (EventExecutor loop : loops) {
            // Each loop thread starts now, from home. One that cannot switch itself home ends without
            // running the loop (logged by the scheduler): bounded wait, then a clear failure. Such a
            // loop's epoll descriptors stay open (Netty closes them when a loop ends that has run).
            if (!loop.submit(() -> { }).awaitUninterruptibly(LOOP_START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw new IllegalStateException("an event loop thread did not start at home within "
                        + LOOP_START_TIMEOUT_SECONDS + " s (see the log: it could not switch itself home)");
            }
        }
        this.channels = new DefaultChannelGroup("ntk-channels", loops.next());
        this.onLoops = Schedulers.fromExecutor(loops);
        scheduler.onFence(this::closeChannelsOf);
    }

    /** {@code threads} epoll event loops owned by {@code scheduler}; call from a thread at home. */
    public static NamespaceLoopResources create(NamespaceScheduler scheduler, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        return new NamespaceLoopResources(scheduler, threads, "ntk-loop");
    }

    /** The view for one namespace: give it to {@code runOn(view, true)} of any Reactor Netty client or server. */
    public LoopResources in(NetNamespace ns) {
        return new NamespaceLoopView(this, Objects.requireNonNull(ns, "ns"));
    }

    /** The shared event loops. */
    public EventLoopGroup eventLoopGroup() {
        return loops;
    }

    /** A Reactor scheduler on the shared loops: subscribing there makes the inline path the common one. */
    public Scheduler loopScheduler() {
        return onLoops;
    }

    /** The scheduler whose threads the loops are. */
    public NamespaceScheduler scheduler() {
        return scheduler;
    }

    /** The namespace a channel created through a view lives in (for accepted channels: their listener's). */
    public static NetNamespace namespaceOf(Channel channel) {
        for (Channel c = channel; c != null; c = c.parent()) {
            NetNamespace ns = c.attr(NAMESPACE).get();
            if (ns != null) {
                return ns;
            }
        }
        return null;
    }

    <C extends Channel> C created(C channel, NetNamespace ns) {
        closeOnExec(channel);
        channel.attr(NAMESPACE).set(ns);
        channels.add(channel);
        if (channel instanceof ServerChannel) {
            // Accepted channels reach the pipeline as messages; first in line, we tag and track them too.
            channel.pipeline().addFirst(new ChildTracker(ns));
        }
        if (channel instanceof ServerChannel || channel instanceof DatagramChannel) {
            channel.pipeline().addFirst(ReadLoopCloseGuard.INSTANCE);
        }
        return channel;
    }

    /**
     * Netty 4.2's epoll read loops of datagram and server channels do not stop when a handler closes the
     * channel from {@code channelRead}: the next recv/accept runs on the closed descriptor's number,
     * which another thread may have reused already. The soak caught an event loop blocked for good in
     * recvfrom on a blocking socket made meanwhile by a namespace creation; on a non-blocking one it
     * would read another socket's data. (Stream channels check after each read.) Those loops do stop
     * when auto-read is off, so every close, nearest the head of the pipeline, turns it off first.
     */
    @ChannelHandler.Sharable
    private static final class ReadLoopCloseGuard extends ChannelOutboundHandlerAdapter {
        static final ReadLoopCloseGuard INSTANCE = new ReadLoopCloseGuard();

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
            ctx.channel().config().setAutoRead(false);
            ctx.close(promise);
        }
    }

    /** Tags every accepted child with its listener's namespace and tracks it, so dispose closes it. */
    private final class ChildTracker extends ChannelInboundHandlerAdapter {
        private final NetNamespace ns;

        ChildTracker(NetNamespace ns) {
            this.ns = ns;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                closeOnExec(child);
                child.attr(NAMESPACE).set(ns);
                channels.add(child);
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public boolean isSharable() {
            return true;
        }
    }

    /** Netty's epoll sockets are opened without SOCK_CLOEXEC: no process started later may inherit them. */
    private void closeOnExec(Channel channel) {
        if (channel instanceof UnixChannel unix && unix.fd().isOpen()) {
            scheduler.backend().setCloseOnExec(unix.fd().intValue());
        }
    }

    private void closeChannelsOf(Thread fencedLoop) {
        for (Channel ch : channels) {
            if (ch.isRegistered() && ch.eventLoop().inEventLoop(fencedLoop)) {
                // Forcibly: no events fire on a thread outside home. Auto-read off first, as the close
                // guard does, in case that loop is inside this channel's read loop right now.
                ch.config().setAutoRead(false);
                ch.unsafe().closeForcibly();
            }
        }
    }

    private static void prewarmChannelClasses() {
        // Static initializers (Netty's channel ids read the host's interfaces, the allocators) run here, at home.
        new EpollSocketChannel().unsafe().closeForcibly();
        new EpollServerSocketChannel().unsafe().closeForcibly();
        new EpollDatagramChannel().unsafe().closeForcibly();
    }

    @Override
    public void dispose() {
        disposeLater().block(Duration.ofSeconds(10));
    }

    /** Closes every channel and shuts the loops down. */
    public Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            CompletableFuture<Void> done = new CompletableFuture<>();
            // Close every channel first (the loops' own shutdown does not reliably close accepted ones), then the loops.
            channels.close().addListener(closed ->
                    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> done.complete(null)));
            return Mono.fromFuture(done);
        });
    }

    @Override
    public boolean isDisposed() {
        return loops.isShuttingDown();
    }
}

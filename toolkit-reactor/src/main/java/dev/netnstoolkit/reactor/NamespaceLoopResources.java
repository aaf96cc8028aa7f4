package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEventLoop;
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
import io.netty.util.concurrent.ImmediateEventExecutor;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.channel.ChannelOperations;
import reactor.netty.resources.LoopResources;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The toolkit's epoll event loops, shared by every namespace, and per namespace a {@link LoopResources}
 * view whose channel-construction callback builds the channel switched into that namespace, inline on
 * the loop (Reactor Netty calls {@code onChannel} exactly where {@code socket(2)} runs). The channel is
 * then registered with the shared loops like any other: 1000 namespaces share a few threads.
 *
 * <p>Only the native epoll transport: with NIO, Reactor Netty creates UDP channels without the callback.
 * Every channel made through a view is close-on-exec, tagged with its namespace and tracked, so that
 * dispose closes it; accepted children too. Datagram and server channels turn auto-read off when closed,
 * which ends Netty's read loop: in Netty 4.2 that loop otherwise reads again after a handler closed the
 * channel from {@code channelRead}, on a descriptor number another thread may have reused.
 *
 * <p>A loop that cannot switch back home is fenced: {@link LoopFencing}.
 */
final class NamespaceLoopResources {

    /** The namespace a channel was created in; set on every channel a view creates. */
    static final AttributeKey<NetNamespace> NAMESPACE = AttributeKey.valueOf("ntk.namespace");
    /** For FD_CLOEXEC on Netty's sockets and directory watches (never faulted: not a switch). */
    static final NamespaceBackend NATIVE = NamespaceBackend.load();

    private final NamespaceScheduler scheduler;
    private final LoopGroup loops;
    private final ColocatedLoops clientLoops;
    private final ChannelGroup channels;
    /** Sockets registered as handles, not channels ({@link MessageSocket}): closed first on dispose. */
    private final Set<MessageSocketHandle> handles = ConcurrentHashMap.newKeySet();
    private final Scheduler onLoops;
    private final LoopFencing fencing;
    private final SocketStock stock = new SocketStock(this);

    NamespaceLoopResources(NamespaceScheduler scheduler, int threads) {
        this.scheduler = scheduler;
        Epoll.ensureAvailability(); // native init probes sockets: at home, before any switching
        prewarmChannelClasses();
        this.loops = new LoopGroup(threads, scheduler.threads(), EpollIoHandler.newFactory());
        this.clientLoops = new ColocatedLoops(loops);
        // ImmediateEventExecutor: the group's close future never starts Netty's global executor lazily.
        this.channels = new DefaultChannelGroup("ntk-channels", ImmediateEventExecutor.INSTANCE);
        this.onLoops = Schedulers.fromExecutor(loops);
        this.fencing = new LoopFencing(scheduler, this.loops, this);
    }

    /** The view for one namespace; only the toolkit configures transports with it (with the namespace's resolver). */
    LoopResources in(NetNamespace ns) {
        return new NamespaceLoopView(this, ns);
    }

    LoopGroup eventLoopGroup() {
        return loops;
    }

    /** The loops for clients: a connection opened on a loop stays there. */
    ColocatedLoops clientLoops() {
        return clientLoops;
    }

    /** A Reactor scheduler on the loops: subscribing there makes the inline switch the only path. */
    Scheduler loopScheduler() {
        return onLoops;
    }

    /** Client sockets made in batches during bursts. */
    SocketStock stock() {
        return stock;
    }

    MeteredSwitch meteredSwitch() {
        return scheduler.meteredSwitch();
    }

    /** Reactor Netty's key for a channel's connection (its ReactorNetty.CONNECTION, package-private there). */
    private static final AttributeKey<Connection> CONNECTION = AttributeKey.valueOf("$CONNECTION");

    /**
     * The Reactor Netty operations bound to {@code channel}, or null, from any thread and without side
     * effects. Not {@code ChannelOperations.get}: on a channel without them yet it binds a plain
     * connection to it, and called off the channel's loop that can overwrite the operations Reactor Netty
     * binds meanwhile; the orphaned operations then never hear the channel's errors or close (a receive
     * that never ends, seen in {@code ntk soak} under injected faults).
     */
    static ChannelOperations<?, ?> operationsOf(Channel channel) {
        Connection c = channel.hasAttr(CONNECTION) ? channel.attr(CONNECTION).get() : null;
        return c instanceof ChannelOperations<?, ?> ops ? ops : null;
    }

    /** The namespace a channel created through a view lives in (for accepted channels: their listener's). */
    static NetNamespace namespaceOf(Channel channel) {
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
     * which another thread may have reused already (an event loop was caught blocked for good in
     * recvfrom on a namespace creation's socket). Those loops stop when auto-read is off, so every
     * close, nearest the head of the pipeline, turns it off first.
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
    @ChannelHandler.Sharable
    private final class ChildTracker extends ChannelInboundHandlerAdapter {
        private final NetNamespace ns;

        ChildTracker(NetNamespace ns) {
            this.ns = ns;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = msg instanceof Channel c ? c : null;
            if (child != null) { // accept4 gave it SOCK_CLOEXEC already (Netty's native accept)
                child.attr(NAMESPACE).set(ns);
                channels.add(child);
            }
            ctx.fireChannelRead(msg);
            if (child != null && !hasLoop(child)) {
                // no loop took it (every loop fenced at that moment): Netty closed it forcibly, without its close future
                channels.remove(child);
            }
        }
    }

    /** Netty's epoll sockets are opened without SOCK_CLOEXEC: no process started later may inherit them. */
    private void closeOnExec(Channel channel) {
        if (channel instanceof UnixChannel unix && unix.fd().isOpen()) {
            NATIVE.setCloseOnExec(unix.fd().intValue());
        }
    }

    /**
     * Closes every channel made through {@code handle} (listeners, their accepted connections, client
     * connections, DNS sockets) and every {@link MessageSocket}; completes when they are closed.
     */
    Mono<Void> closeChannelsOf(NetNamespace handle) {
        List<Mono<Void>> closing = new ArrayList<>(channels.stream()
                .filter(ch -> namespaceOf(ch) == handle)
                .map(ch -> Mono.<Void>create(done -> closeQuietly(ch, done::success)))
                .toList());
        for (MessageSocketHandle h : List.copyOf(handles)) {
            if (h.namespace() == handle) {
                h.closeLater();
                closing.add(h.onDispose());
            }
        }
        return Mono.when(closing);
    }

    // ---------------------------------------------------------------- fencing (LoopFencing)

    /** On the stranded loop itself: out of rotation at once, the rest is the keeper's ({@link LoopFencing}). */
    void fenceCurrentLoop(NetNamespace ns, ThreadStrandedException e) {
        fencing.fenceCurrentLoop(ns, e);
    }

    /** The tracked channels registered on {@code loop} now. */
    List<Channel> channelsOn(IoEventLoop loop) {
        return channels.stream().filter(ch -> ch.isRegistered() && ch.eventLoop() == loop).toList();
    }

    /** The tracked channels of {@code ended} still open. */
    List<Channel> leftOn(IoEventLoop ended) {
        return channels.stream().filter(ch -> hasLoop(ch) && ch.eventLoop() == ended && ch.isOpen()).toList();
    }

    /** Channels left on an ended loop ({@link #leftOn}), which its end did not close: their descriptors are closed, and they are forgotten. */
    void closeLeft(List<Channel> left) {
        left.forEach(ch -> {
            ch.unsafe().closeForcibly();
            channels.remove(ch);
        });
    }

    /**
     * Closes {@code ch} and runs {@code done} once it is closed, whatever fails. A channel that was made
     * but never registered (Reactor Netty closes it forcibly when its set-up fails, without completing
     * its close future) cannot {@code close()}: its descriptor is closed and it is forgotten.
     */
    void closeQuietly(Channel ch, Runnable done) {
        if (!ch.isRegistered() && !hasLoop(ch)) {
            ch.unsafe().closeForcibly();
            channels.remove(ch);
            done.run();
            return;
        }
        try {
            ch.close().addListener(f -> done.run());
        } catch (RuntimeException e) {
            ch.unsafe().closeForcibly();
            channels.remove(ch);
            done.run();
        }
    }

    private static boolean hasLoop(Channel ch) {
        try {
            ch.eventLoop();
            return true;
        } catch (IllegalStateException never) {
            return false;
        }
    }

    private static void prewarmChannelClasses() {
        // Static initializers (Netty's channel ids read the host's interfaces, the allocators) run here, at home.
        new EpollSocketChannel().unsafe().closeForcibly();
        new EpollServerSocketChannel().unsafe().closeForcibly();
        new EpollDatagramChannel().unsafe().closeForcibly();
    }

    void track(MessageSocketHandle handle) {
        handles.add(handle);
    }

    void forget(MessageSocketHandle handle) {
        handles.remove(handle);
    }

    /** Closes every handle and channel, then shuts the loops down; completes once they have ended. */
    Mono<Void> disposeLater() {
        return Flux.defer(() -> Flux.fromIterable(List.copyOf(handles)))
                .flatMap(h -> {
                    h.closeLater();
                    return h.onDispose();
                })
                .then()
                .timeout(Duration.ofSeconds(5), Mono.empty())
                .then(closeChannelsAndLoops());
    }

    private Mono<Void> closeChannelsAndLoops() {
        return Mono.defer(() -> {
            CompletableFuture<Void> done = new CompletableFuture<>();
            // Every channel first (the loops' own shutdown does not reliably close accepted ones), then the loops.
            List<Channel> open = List.copyOf(channels);
            AtomicInteger left = new AtomicInteger(open.size() + 1);
            Runnable oneClosed = () -> {
                if (left.decrementAndGet() == 0) {
                    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> {
                        // made by a loop while the copy above was taken (a batch of spare sockets, say): no loop is left to use them
                        channels.forEach(ch -> ch.unsafe().closeForcibly());
                        done.complete(null);
                    });
                }
            };
            open.forEach(ch -> closeQuietly(ch, oneClosed));
            oneClosed.run();
            return Mono.fromFuture(done);
        });
    }

    boolean isDisposed() {
        return loops.isShuttingDown();
    }
}

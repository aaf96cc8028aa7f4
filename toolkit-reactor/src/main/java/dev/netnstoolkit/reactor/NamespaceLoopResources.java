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
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.channel.ChannelOperations;
import reactor.netty.resources.LoopResources;

import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * <p>A loop that cannot switch back home is fenced at once (no new work reaches it) and the keeper,
 * at home, replaces it, moves its listeners to a loop at home where they go on listening, and closes its
 * other channels (connections, UDP sockets) with {@code close()}, so closeFuture completes and pools and
 * observers hear it. Then the fenced loop ends.
 */
final class NamespaceLoopResources {

    private static final System.Logger LOG = System.getLogger(NamespaceLoopResources.class.getName());

    /** The namespace a channel was created in; set on every channel a view creates. */
    static final AttributeKey<NetNamespace> NAMESPACE = AttributeKey.valueOf("ntk.namespace");
    /** For FD_CLOEXEC on Netty's sockets and directory watches (never faulted: not a switch). */
    static final NamespaceBackend NATIVE = NamespaceBackend.load();

    private final NamespaceScheduler scheduler;
    private final LoopGroup loops;
    private final ChannelGroup channels;
    private final Scheduler onLoops;

    NamespaceLoopResources(NamespaceScheduler scheduler, int threads) {
        this.scheduler = scheduler;
        Epoll.ensureAvailability(); // native init probes sockets: at home, before any switching
        prewarmChannelClasses();
        this.loops = new LoopGroup(threads, scheduler.threads(), EpollIoHandler.newFactory());
        // ImmediateEventExecutor: the group's close future never starts Netty's global executor lazily.
        this.channels = new DefaultChannelGroup("ntk-channels", ImmediateEventExecutor.INSTANCE);
        this.onLoops = Schedulers.fromExecutor(loops);
    }

    /** The view for one namespace; only the toolkit configures transports with it (with the namespace's resolver). */
    LoopResources in(NetNamespace ns) {
        return new NamespaceLoopView(this, ns);
    }

    LoopGroup eventLoopGroup() {
        return loops;
    }

    /** A Reactor scheduler on the loops: subscribing there makes the inline switch the only path. */
    Scheduler loopScheduler() {
        return onLoops;
    }

    MeteredSwitch meteredSwitch() {
        return scheduler.meteredSwitch();
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
            if (child != null) {
                closeOnExec(child);
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
     * connections, DNS sockets); completes when they are closed.
     */
    Mono<Void> closeChannelsOf(NetNamespace handle) {
        List<Mono<Void>> closing = channels.stream()
                .filter(ch -> namespaceOf(ch) == handle)
                .map(ch -> Mono.<Void>create(done -> closeQuietly(ch, done::success)))
                .toList();
        return Mono.when(closing);
    }

    // ---------------------------------------------------------------- fencing

    /**
     * On the stranded loop itself: out of rotation at once, the rest is the keeper's. Only memory
     * operations here: nothing that logs, starts a thread or blocks.
     */
    void fenceCurrentLoop(NetNamespace ns, ThreadStrandedException e) {
        for (IoEventLoop loop : loops.allLoops()) {
            if (loop.inEventLoop() && loops.fence(loop)) {
                scheduler.keeper().report(() -> retire(loop, ns, e));
                return;
            }
        }
    }

    /** On the keeper, at home: count, log, replace, move the loop's channels home and close them, end the loop. */
    private void retire(IoEventLoop fenced, NetNamespace ns, ThreadStrandedException e) {
        scheduler.countFencedLoop();
        scheduler.meteredSwitch().stranded(ns, e);
        IoEventLoop fresh = loops.replace(fenced);
        LOG.log(System.Logger.Level.ERROR, "FENCED: " + e.getMessage() + "; " + (fresh != null
                ? "replaced by a new loop" : "not replaced, " + loops.size() + " loops left")
                + " (fenced so far: " + scheduler.fencedLoops() + ")");
        List<Channel> affected = channels.stream().filter(ch -> ch.isRegistered() && ch.eventLoop() == fenced).toList();
        AtomicInteger left = new AtomicInteger(affected.size() + 1);
        CompletableFuture<Void> moved = new CompletableFuture<>();
        Runnable oneDone = () -> {
            if (left.decrementAndGet() == 0) {
                moved.complete(null);
            }
        };
        ThreadStrandedException told = ThreadStrandedException.notice("closed: its event loop could not switch back home from "
                + ns.label() + " and was fenced off (" + e.getMessage() + ")", ns.label());
        for (Channel ch : affected) {
            retireChannel(ch, told, oneDone);
        }
        oneDone.run();
        // Nothing here waits: the keeper must be free for the next stranded thread (a group with every
        // loop fenced and none replaced yet refuses all work).
        moved.orTimeout(10, TimeUnit.SECONDS)
                .whenComplete((v, timeout) -> scheduler.keeper().report(() -> end(fenced, timeout != null)));
    }

    /**
     * On the keeper, once the fenced loop's channels have moved or closed: let it end, gracefully. A
     * channel whose registration was already queued on the loop when it was fenced arrives there late;
     * the quiet period lets it arrive, and the loop's shutdown then closes it with the rest, so no
     * Reactor Netty connection is left bound to a loop that has ended (its cancel would be rejected).
     */
    private void end(IoEventLoop fenced, boolean timedOut) {
        if (timedOut) {
            LOG.log(System.Logger.Level.WARNING, "FENCED: not every channel of the fenced loop moved within 10 s");
        }
        ending.put(fenced, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        watchEnding();
        fenced.shutdownGracefully(1, 10, TimeUnit.SECONDS);
    }

    /**
     * The loops being ended, counted out of the group once terminated. A loop's termination notifies
     * Netty's listeners (a resolver group's, say) through GlobalEventExecutor, which starts its thread
     * from whoever calls it when it is idle: from a fenced loop, that thread would start outside home.
     * While loops are ending, a periodic task (scheduled from here, at home) keeps that executor running,
     * so the fenced threads only ever hand it work; it also notices each termination.
     */
    private final java.util.Map<IoEventLoop, Long> ending = new java.util.concurrent.ConcurrentHashMap<>();
    private io.netty.util.concurrent.ScheduledFuture<?> endingWatch;

    private synchronized void watchEnding() {
        if (endingWatch != null && !endingWatch.isDone()) {
            return;
        }
        endingWatch = GlobalEventExecutor.INSTANCE.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            ending.forEach((loop, deadline) -> {
                if (loop.isTerminated() || now > deadline) {
                    ending.remove(loop);
                    loops.retired(loop);
                    closeLeftOn(loop);
                }
            });
            synchronized (this) {
                if (ending.isEmpty() && endingWatch != null) {
                    endingWatch.cancel(false);
                    endingWatch = null;
                }
            }
        }, 10, 10, TimeUnit.MILLISECONDS);
    }

    /**
     * A channel whose registration reached the fenced loop after it was fenced, and that the loop's end
     * did not close: its descriptor is closed here (at home), and it is forgotten.
     */
    private void closeLeftOn(IoEventLoop ended) {
        channels.stream().filter(ch -> hasLoop(ch) && ch.eventLoop() == ended && ch.isOpen()).forEach(ch -> {
            ch.unsafe().closeForcibly();
            channels.remove(ch);
        });
    }

    /**
     * A listener is moved: deregistered from the fenced loop and registered on a loop at home, where it
     * goes on listening (it has nothing in flight). Any other channel is told why (a Reactor Netty
     * connection's subscribers get the error) and closed with {@code close()}, so its closeFuture
     * completes and pools and observers hear it; Netty runs that close on the channel's own loop, the
     * fenced one, before it ends (a connection cannot move: Reactor Netty's inbound keeps the loop it was
     * made on). Every path ends in {@code done}, whatever fails.
     */
    private void retireChannel(Channel ch, Throwable why, Runnable done) {
        try {
            if (ch instanceof ServerChannel && ch.isOpen()) {
                IoEventLoop target = loops.next(); // throws when no loop at home is left: then closed below
                ch.deregister().addListener(d -> {
                    if (!d.isSuccess()) {
                        closeQuietly(ch, done);
                        return;
                    }
                    target.register(ch).addListener(r -> {
                        if (!r.isSuccess()) {
                            ch.unsafe().closeForcibly(); // registered nowhere: only the descriptor is left to close
                        }
                        done.run();
                    });
                });
                return;
            }
        } catch (RuntimeException e) {
            // fall through: closed where it is
        }
        closeOnceTold(ch, why, done, System.nanoTime() + TOLD_WITHIN);
    }

    private static final long TOLD_WITHIN = TimeUnit.SECONDS.toNanos(1);

    /**
     * A channel still in its bind or connect is closed only once Reactor Netty has told its subscriber
     * (it does so when the channel turns active, a task that may still be queued on the fenced loop):
     * closed before, the bind's success would be lost and the subscriber would wait for ever. It is
     * looked at again every 10 ms on its loop, for at most a second (a channel that never gets a
     * connection, a DNS socket, is closed then). The fenced loop ends only after this.
     */
    private void closeOnceTold(Channel ch, Throwable why, Runnable done, long deadline) {
        if (ChannelOperations.get(ch) == null && ch.isOpen() && System.nanoTime() < deadline) {
            try {
                ch.eventLoop().schedule(() -> closeOnceTold(ch, why, done, deadline), 10, TimeUnit.MILLISECONDS);
                return;
            } catch (RuntimeException rejected) {
                // the loop is ending already: closed now
            }
        }
        if (ChannelOperations.get(ch) != null) {
            ch.pipeline().fireExceptionCaught(why);
        }
        closeQuietly(ch, done);
    }

    /**
     * Closes {@code ch} and runs {@code done} once it is closed, whatever fails. A channel that was made
     * but never registered (Reactor Netty closes it forcibly when its set-up fails, without completing
     * its close future) cannot {@code close()}: its descriptor is closed and it is forgotten.
     */
    private void closeQuietly(Channel ch, Runnable done) {
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

    /** Closes every channel, then shuts the loops down; completes once they have ended. */
    Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            CompletableFuture<Void> done = new CompletableFuture<>();
            // Every channel first (the loops' own shutdown does not reliably close accepted ones), then the loops.
            List<Channel> open = List.copyOf(channels);
            AtomicInteger left = new AtomicInteger(open.size() + 1);
            Runnable oneClosed = () -> {
                if (left.decrementAndGet() == 0) {
                    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> done.complete(null));
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

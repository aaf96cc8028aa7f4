package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.IoEventLoop;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import reactor.netty.NettyPipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What happens to an event loop that cannot switch back home: it is fenced at once (no new work reaches
 * it), and the keeper, at home, replaces it, moves its listeners to a loop at home where they go on
 * listening, tells and closes its other channels (connections, UDP sockets) so closeFuture completes and
 * pools and observers hear it, and then lets the fenced loop end. One protocol in one class (past ~300
 * lines): its steps share the state of the moves in flight, which decides when a fenced loop may end.
 */
final class LoopFencing {

    private static final System.Logger LOG = System.getLogger(LoopFencing.class.getName());

    private final NamespaceScheduler scheduler;
    private final LoopGroup loops;
    private final NamespaceLoopResources channels;

    LoopFencing(NamespaceScheduler scheduler, LoopGroup loops, NamespaceLoopResources channels) {
        this.scheduler = scheduler;
        this.loops = loops;
        this.channels = channels;
    }

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
        List<Channel> affected = channels.channelsOn(fenced);
        AtomicInteger left = new AtomicInteger(affected.size() + 1);
        CompletableFuture<Void> moved = new CompletableFuture<>();
        Runnable oneDone = () -> {
            if (left.decrementAndGet() == 0) {
                moved.complete(null);
            }
        };
        ThreadStrandedException told = ThreadStrandedException.notice("closed: its event loop could not switch back home from "
                + ns.label() + " and was fenced off (" + e.getMessage() + ")", ns.label());
        // every connection is told before any is closed, in one task on its loop: closed first, a peer on the
        // same loop could read the close and end normally before it was told (seen in CI)
        Set<Channel> toldAlready = ConcurrentHashMap.newKeySet();
        try {
            fenced.execute(() -> {
                for (Channel ch : affected) {
                    if (!(ch instanceof ServerChannel) && ch.isOpen() && NamespaceLoopResources.operationsOf(ch) != null) {
                        toldAlready.add(ch);
                        ch.pipeline().fireExceptionCaught(told);
                    }
                }
            });
        } catch (RuntimeException ending) {
            // the loop is ending already: each is told as it is closed
        }
        for (Channel ch : affected) {
            retireChannel(ch, told, oneDone, toldAlready);
        }
        oneDone.run();
        // Nothing here waits: the keeper must be free for the next stranded thread (a group with every
        // loop fenced and none replaced yet refuses all work).
        moved.orTimeout(10, TimeUnit.SECONDS)
                .whenComplete((v, timeout) -> scheduler.keeper().report(() -> end(fenced, timeout != null, 0)));
    }

    /**
     * On the keeper, once the fenced loop's channels have moved or closed: its late listeners are moved
     * too, then it ends, gracefully. A connection whose registration was already queued on the loop when
     * it was fenced arrives there late; the loop's shutdown closes it with the rest (Netty closes every
     * registered channel at each turn once shutting down, with its events), so no Reactor Netty
     * connection is left bound to a loop that has ended (its cancel would be rejected).
     */
    private void end(IoEventLoop fenced, boolean timedOut, int round) {
        if (timedOut) {
            LOG.log(System.Logger.Level.WARNING, "FENCED: not every channel of the fenced loop moved within 10 s");
        }
        // a listener that got here after the loop's channels were looked at (moved here from another fenced loop
        // just before this one was fenced), or is on its way here or off it, would be closed by the loop's end:
        // moved first (or its move awaited), then looked at again
        List<Channel> late = new ArrayList<>(channels.leftOn(fenced).stream().filter(ch -> ch instanceof ServerChannel).toList());
        late.addAll(movingTo(fenced));
        if (!late.isEmpty() && round < 10) {
            AtomicInteger left = new AtomicInteger(late.size());
            for (Channel ch : late) {
                moveListener(ch, () -> {
                    if (left.decrementAndGet() == 0) {
                        scheduler.keeper().report(() -> end(fenced, false, round + 1));
                    }
                });
            }
            return;
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
    private final Map<IoEventLoop, Long> ending = new ConcurrentHashMap<>();
    private ScheduledFuture<?> endingWatch;

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
                    List<Channel> left = channels.leftOn(loop);
                    if (loop.isTerminated()) {
                        tellLeft(left);
                    }
                    channels.closeLeft(left);
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
     * Once a fenced loop has ended: a Reactor Netty connection still open on it registered there after the
     * loop's own end had closed the rest (a registration queued before the fence and run in the loop's last
     * tasks). Its subscribers are told here, on this thread, since no loop is left to run the pipeline;
     * untold, a later cancel of its receive, which Reactor Netty hands to the ended loop, would be rejected
     * and the canceller's own signal lost (a timeout that never signals). Logged: it should be rare.
     */
    private void tellLeft(List<Channel> left) {
        for (Channel ch : left) {
            NetNamespace ns = NamespaceLoopResources.namespaceOf(ch);
            String label = ns != null ? ns.label() : "an unknown namespace";
            ChannelHandlerContext bridge = NamespaceLoopResources.operationsOf(ch) != null ? ch.pipeline().context(NettyPipeline.ReactiveBridge) : null;
            LOG.log(System.Logger.Level.WARNING, "FENCED: " + ch + " in " + label + " was still open when its fenced loop ended;"
                    + (bridge != null ? " its connection is told and" : "") + " it is closed");
            if (bridge != null && bridge.handler() instanceof ChannelInboundHandler handler) {
                try {
                    handler.exceptionCaught(bridge, ThreadStrandedException.notice("closed: its event loop could not switch back home"
                            + " and was fenced off, and has ended", label));
                } catch (Throwable e) {
                    // the connection ends with its channel, closed next
                }
            }
        }
    }

    /**
     * A listener is moved: deregistered from the fenced loop and registered on a loop at home, where it
     * goes on listening (it has nothing in flight). Any other channel is told why (a Reactor Netty
     * connection's subscribers get the error) and closed with {@code close()}, so its closeFuture
     * completes and pools and observers hear it; Netty runs that close on the channel's own loop, the
     * fenced one, before it ends (a connection cannot move: Reactor Netty's inbound keeps the loop it was
     * made on). Every path ends in {@code done}, whatever fails.
     */
    private void retireChannel(Channel ch, Throwable why, Runnable done, Set<Channel> toldAlready) {
        if (ch instanceof ServerChannel && ch.isOpen()) {
            moveListener(ch, done);
            return;
        }
        closeOnceTold(ch, why, done, System.nanoTime() + TOLD_WITHIN, toldAlready);
    }

    /**
     * Listeners being moved now, each with its move's end: one move at a time (a second register of a
     * channel fails, and Netty closes it), and whoever else would move it waits for that end (a fenced loop
     * ends only once its listeners have left, or one in transit would be closed with it).
     */
    private final Map<Channel, Move> moving = new ConcurrentHashMap<>();

    /** A listener's move: its end, and the loop it is on its way to. */
    private static final class Move {
        final CompletableFuture<Void> end = new CompletableFuture<>();
        volatile IoEventLoop to;
    }
    /** How long a listener waits for a loop in rotation when every loop is fenced at once: 100 × 10 ms. */
    private static final int NO_LOOP_WAITS = 100;

    /**
     * Deregisters a listener from its (fenced) loop and registers it on a loop in rotation. A target fenced
     * before the listener got there moves it on again (that loop's end would close it); with every loop
     * fenced at that moment it waits for a replacement. Every path ends in {@code done}.
     */
    private void moveListener(Channel ch, Runnable done) {
        Move mine = new Move();
        Move already = moving.putIfAbsent(ch, mine);
        if (already != null) {
            already.end.whenComplete((v, e) -> done.run());
            return;
        }
        moveNow(ch, mine, () -> {
            moving.remove(ch);
            mine.end.complete(null);
            done.run();
        }, 0);
    }

    /** The listeners on their way to {@code loop} now. */
    private List<Channel> movingTo(IoEventLoop loop) {
        return moving.entrySet().stream().filter(e -> e.getValue().to == loop).map(Map.Entry::getKey).toList();
    }

    /** From home (the keeper, or the global executor's thread while it waits for a loop). */
    private void moveNow(Channel ch, Move move, Runnable moved, int waited) {
        IoEventLoop target = null;
        try {
            target = ch.isOpen() && !loops.isShuttingDown() ? loops.next() : null;
        } catch (RuntimeException everyLoopFenced) {
            if (waited < NO_LOOP_WAITS) {
                GlobalEventExecutor.INSTANCE.schedule(() -> moveNow(ch, move, moved, waited + 1), 10, TimeUnit.MILLISECONDS);
                return;
            }
        }
        if (target == null) {
            channels.closeQuietly(ch, moved);
            return;
        }
        IoEventLoop to = target;
        move.to = to;
        // the listeners below run on the fenced loop and on the target (maybe fenced meanwhile): outside home,
        // so they only hand on (nothing there may start a thread)
        ch.deregister().addListener(d -> {
            if (!d.isSuccess()) {
                channels.closeQuietly(ch, moved);
                return;
            }
            to.register(ch).addListener(r -> {
                if (!r.isSuccess()) {
                    ch.unsafe().closeForcibly(); // registered nowhere: only the descriptor is left to close
                    moved.run();
                } else if (!loops.inRotation(to) && ch.isOpen()) {
                    scheduler.keeper().report(() -> moveNow(ch, move, moved, waited));
                } else {
                    moved.run();
                }
            });
        });
    }

    private static final long TOLD_WITHIN = TimeUnit.SECONDS.toNanos(1);

    /**
     * A channel still in its bind or connect is closed only once Reactor Netty has told its subscriber
     * (it does so when the channel turns active, a task that may still be queued on the fenced loop):
     * closed before, the bind's success would be lost and the subscriber would wait for ever. It is
     * looked at again every 10 ms on its loop, for at most a second (a channel that never gets a
     * connection, a DNS socket, is closed then). The fenced loop ends only after this.
     */
    private void closeOnceTold(Channel ch, Throwable why, Runnable done, long deadline, Set<Channel> toldAlready) {
        if (NamespaceLoopResources.operationsOf(ch) == null && ch.isOpen() && System.nanoTime() < deadline) {
            try {
                ch.eventLoop().schedule(() -> closeOnceTold(ch, why, done, deadline, toldAlready), 10, TimeUnit.MILLISECONDS);
                return;
            } catch (RuntimeException rejected) {
                // the loop is ending already: closed now
            }
        }
        if (NamespaceLoopResources.operationsOf(ch) != null && !toldAlready.contains(ch)) {
            ch.pipeline().fireExceptionCaught(why);
        }
        channels.closeQuietly(ch, done);
    }

}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.FastThreadLocal;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Client sockets made in batches. When connects into one namespace follow each other closely on a loop,
 * the loop makes the next sockets several at a time under one switch and keeps the spares for the
 * connects that follow, so a burst pays one pair of setns calls per batch instead of one per socket. The
 * batch doubles (up to {@link #MAX_BATCH}) while the last one was used up in less than half of
 * {@link #IDLE_NANOS}, so that twice as many would still be used before the sweep, and halves when it
 * took longer than that; a lone connect makes one socket, as before. Spares not asked for within
 * {@link #IDLE_NANOS} are closed by a sweep, and a loop holds at most {@link #MAX_SPARES} in all, so they
 * never add more than that many descriptors per loop, and only for a moment.
 *
 * <p>Every other channel a view makes inside a namespace (listeners, datagram sockets) comes from
 * {@link #create} as a batch of one, so one place switches, tracks and handles a stranded loop.
 *
 * <p>Spares are the toolkit's channels from the start (tagged with their namespace, close-on-exec,
 * tracked), so {@code release(ns)} and dispose close them too; one found closed is skipped. Everything
 * else is confined to the loop's own thread: no locks.
 */
final class SocketStock {

    static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    static final int MAX_BATCH = 16;
    static final int MAX_SPARES = 32;

    /** The spares of one namespace on one loop, and how fast they went. */
    private static final class Spares {
        final ArrayDeque<Channel> channels = new ArrayDeque<>();
        int batch = 1;
        long lastRefill;
        long lastUse;
    }

    /** One loop's spares, by namespace. */
    private static final class OnLoop {
        final Map<NetNamespace, Spares> byNamespace = new HashMap<>();
        int spares;
        boolean sweeping;
    }

    private final NamespaceLoopResources loops;
    private final FastThreadLocal<OnLoop> here = new FastThreadLocal<>() {
        @Override
        protected OnLoop initialValue() {
            return new OnLoop();
        }
    };

    SocketStock(NamespaceLoopResources loops) {
        this.loops = loops;
    }

    /**
     * On a loop of the toolkit's: a new, unregistered channel made in {@code ns} by {@code make}, taken
     * from the spares or from a batch made now under one switch. The channel is already the toolkit's.
     */
    Channel take(NetNamespace ns, Callable<? extends Channel> make) {
        OnLoop l = here.get();
        long now = System.nanoTime();
        Spares s = l.byNamespace.get(ns);
        if (s == null) {
            s = new Spares();
            s.lastRefill = now - IDLE_NANOS; // a first connect is not a burst
            l.byNamespace.put(ns, s);
            sweepLater(l);
        }
        s.lastUse = now;
        for (Channel c; (c = s.channels.pollFirst()) != null; ) {
            l.spares--;
            if (c.isOpen()) { // else closed by release(ns) or dispose meanwhile
                return c;
            }
        }
        // the batch grows while twice as many sockets would be used before the sweep, shrinks when this one was not
        long used = now - s.lastRefill;
        if (2 * used < IDLE_NANOS) {
            s.batch = Math.min(s.batch * 2, MAX_BATCH);
        } else if (used > IDLE_NANOS) {
            s.batch = Math.max(1, s.batch / 2);
        }
        s.lastRefill = now;
        int n = Math.max(1, Math.min(s.batch, MAX_SPARES - l.spares + 1));
        Channel[] made = create(ns, "SocketChannel", make, n);
        for (int i = 1; i < made.length && made[i] != null; i++) {
            s.channels.addLast(made[i]);
            l.spares++;
        }
        return made[0];
    }

    /**
     * On a loop of the toolkit's: {@code n} channels made in {@code ns} by {@code make} under one switch,
     * already the toolkit's; the first must succeed ({@code what} names it in the error), a later failure
     * only ends the batch. A loop that cannot switch back closes what it made and its spares, and is fenced.
     * Every channel the loops make inside a namespace is made here.
     */
    Channel[] create(NetNamespace ns, String what, Callable<? extends Channel> make, int n) {
        Object[] values = new Object[n];
        Throwable[] failures = new Throwable[n];
        List<Callable<? extends Channel>> tasks = Collections.nCopies(n, make);
        try {
            loops.meteredSwitch().runEach(ns, tasks, values, failures);
        } catch (ThreadStrandedException e) {
            for (Object v : values) {
                Closing.quietly(v); // never registered: closes the descriptor, nothing else
            }
            purgeHere();
            loops.fenceCurrentLoop(ns, e);
            throw e;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new ChannelException("cannot create a " + what + " in " + ns.label(), e);
        }
        if (values[0] == null) {
            if (failures[0] instanceof RuntimeException r) {
                throw r;
            }
            if (failures[0] instanceof Error err) {
                throw err;
            }
            throw new ChannelException("cannot create a " + what + " in " + ns.label(), failures[0]);
        }
        Channel[] channels = new Channel[n];
        for (int i = 0; i < n; i++) {
            if (values[i] == null) {
                break;
            }
            channels[i] = loops.created((Channel) values[i], ns);
        }
        return channels;
    }

    private void sweepLater(OnLoop l) {
        if (!l.sweeping) {
            IoEventLoop loop = loops.eventLoopGroup().current();
            if (loop != null && !loop.isShuttingDown()) {
                l.sweeping = true;
                try {
                    loop.schedule(() -> sweep(l), IDLE_NANOS, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException ending) { // dispose closes the spares with every channel
                    l.sweeping = false;
                }
            }
        }
    }

    /** On the loop: spares of namespaces not asked for within {@link #IDLE_NANOS} are closed and forgotten. */
    private void sweep(OnLoop l) {
        l.sweeping = false;
        long now = System.nanoTime();
        for (Iterator<Spares> it = l.byNamespace.values().iterator(); it.hasNext(); ) {
            Spares s = it.next();
            if (now - s.lastUse >= IDLE_NANOS) {
                l.spares -= s.channels.size();
                s.channels.forEach(ch -> loops.closeQuietly(ch, () -> { }));
                it.remove();
            }
        }
        if (!l.byNamespace.isEmpty()) {
            sweepLater(l);
        }
    }

    /** On a loop that is being fenced off: its spares are closed now. */
    void purgeHere() {
        OnLoop l = here.get();
        l.byNamespace.values().forEach(s -> s.channels.forEach(ch -> loops.closeQuietly(ch, () -> { })));
        l.byNamespace.clear();
        l.spares = 0;
    }
}

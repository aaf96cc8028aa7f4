package dev.netnstoolkit.reactor;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ThreadPerTaskExecutor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The toolkit's event loops: a Netty {@link IoEventLoopGroup} whose set of loops can change. A loop
 * that cannot switch back home is fenced: {@link #fence} takes it out of rotation at once (no new
 * registrations or tasks reach it through the group), and {@link #replace} adds a new loop, started
 * from home, in its place. Every loop is started and has run a task before it joins.
 */
final class LoopGroup extends AbstractEventExecutorGroup implements IoEventLoopGroup {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final int REPLACE_ATTEMPTS = 3;

    private final ThreadPerTaskExecutor executor;
    private final IoHandlerFactory handlers;
    private final OwnedThreads.Start[] nextStart = new OwnedThreads.Start[1];
    private volatile IoEventLoop[] active;
    /** Every loop made and not yet terminated, with the listener that counts its termination. */
    private final Map<IoEventLoop, FutureListener<Object>> live = new ConcurrentHashMap<>();
    private final AtomicInteger index = new AtomicInteger();
    private final Promise<Void> terminated = new DefaultPromise<>(ImmediateEventExecutor.INSTANCE);
    private volatile boolean shuttingDown;

    LoopGroup(int threads, OwnedThreads ownedThreads, IoHandlerFactory handlers) {
        this.handlers = handlers;
        ThreadFactory factory = ownedThreads.loopThreads(() -> {
            synchronized (nextStart) {
                OwnedThreads.Start s = nextStart[0];
                nextStart[0] = null;
                return s != null ? s : new OwnedThreads.Start();
            }
        });
        this.executor = new ThreadPerTaskExecutor(factory);
        List<IoEventLoop> loops = new ArrayList<>();
        try {
            for (int i = 0; i < threads; i++) {
                loops.add(startLoop());
            }
        } catch (RuntimeException e) {
            loops.forEach(l -> l.shutdownGracefully(0, 0, TimeUnit.SECONDS));
            throw e;
        }
        this.active = loops.toArray(new IoEventLoop[0]);
    }

    /**
     * A new loop whose thread has started, from the calling thread (at home), adopted itself and run a
     * task. A loop whose thread could not get home never runs: its epoll descriptors, which Netty closes
     * only when a loop that ran ends, are closed here.
     */
    private IoEventLoop startLoop() {
        OwnedThreads.Start start = new OwnedThreads.Start();
        OwnedLoop loop;
        synchronized (nextStart) {
            nextStart[0] = start;
            loop = new OwnedLoop(this, executor, handlers);
            loop.execute(() -> { }); // starts its thread now, from here; the factory takes this Start
        }
        Throwable failed = start.await(START_TIMEOUT);
        if (failed == null && !loop.submit(() -> { }).awaitUninterruptibly(START_TIMEOUT.toMillis())) {
            failed = new IllegalStateException("it did not run a task within " + START_TIMEOUT.toSeconds() + " s");
        }
        if (failed != null) {
            if (start.ended()) {
                loop.closeUnrun();
            }
            throw new IllegalStateException("an event loop thread did not start at home: " + failed.getMessage(), failed);
        }
        FutureListener<Object> counter = f -> onTerminated(loop);
        live.put(loop, counter);
        loop.terminationFuture().addListener(counter);
        return loop;
    }

    /** A loop of the group: one whose thread never ran it can still close its handler's descriptors. */
    private static final class OwnedLoop extends SingleThreadIoEventLoop {
        OwnedLoop(IoEventLoopGroup parent, java.util.concurrent.Executor executor, IoHandlerFactory handlers) {
            super(parent, executor, handlers);
        }

        /** Only for a loop whose thread ended before running it: nothing else uses its handler. */
        void closeUnrun() {
            ioHandler().destroy();
        }
    }

    private void onTerminated(IoEventLoop loop) {
        live.remove(loop);
        if (shuttingDown && live.isEmpty()) {
            terminated.trySuccess(null);
        }
    }

    /** Takes {@code loop} out of rotation; safe from the stranded loop itself (no allocation of threads, no I/O). */
    boolean fence(IoEventLoop loop) {
        synchronized (this) {
            IoEventLoop[] now = active;
            List<IoEventLoop> rest = new ArrayList<>(now.length);
            for (IoEventLoop l : now) {
                if (l != loop) {
                    rest.add(l);
                }
            }
            if (rest.size() == now.length) {
                return false;
            }
            active = rest.toArray(new IoEventLoop[0]);
            return true;
        }
    }

    /**
     * From home (the keeper): a new loop in place of a fenced one. The fenced loop's termination is no
     * longer counted through its own future (its thread is outside home, and a listener run there could
     * start Netty's global executor thread there); {@link #retired} counts it instead.
     *
     * @return the new loop, or null if none could start in {@link #REPLACE_ATTEMPTS} attempts (the group shrinks)
     */
    IoEventLoop replace(IoEventLoop fenced) {
        FutureListener<Object> counter = live.get(fenced);
        if (counter != null) {
            fenced.terminationFuture().removeListener(counter);
        }
        if (shuttingDown) {
            return null;
        }
        IoEventLoop fresh = null;
        // a new thread that cannot get home only ends, like the one it replaces: another is tried, a few times
        for (int attempt = 0; fresh == null && attempt < REPLACE_ATTEMPTS; attempt++) {
            try {
                fresh = startLoop();
            } catch (RuntimeException e) {
                if (shuttingDown) {
                    return null;
                }
            }
        }
        if (fresh == null) {
            return null;
        }
        synchronized (this) {
            if (shuttingDown) { // the group was shut down while this loop started: it ends with the others
                fresh.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                return null;
            }
            IoEventLoop[] now = active;
            IoEventLoop[] more = java.util.Arrays.copyOf(now, now.length + 1);
            more[now.length] = fresh;
            active = more;
        }
        return fresh;
    }

    /** From home, once a fenced loop has ended. */
    void retired(IoEventLoop fenced) {
        onTerminated(fenced);
    }

    /** Whether {@code loop} is in rotation now (not fenced). */
    boolean inRotation(IoEventLoop loop) {
        for (IoEventLoop l : active) {
            if (l == loop) {
                return true;
            }
        }
        return false;
    }

    /** Loops in rotation now. */
    int size() {
        return active.length;
    }

    /** The loop in rotation that runs the calling thread, or null (another thread, or a fenced loop). */
    IoEventLoop current() {
        for (IoEventLoop l : active) {
            if (l.inEventLoop()) {
                return l;
            }
        }
        return null;
    }

    @Override
    public IoEventLoop next() {
        IoEventLoop[] now = active;
        if (now.length == 0) {
            throw new RejectedExecutionException(shuttingDown ? "the event loops are shut down"
                    : "every event loop was fenced off after failing to switch back home");
        }
        return now[Math.floorMod(index.getAndIncrement(), now.length)];
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return List.<EventExecutor>of(active).iterator();
    }

    /** Every loop not yet terminated, fenced ones included. */
    List<IoEventLoop> allLoops() {
        return List.copyOf(live.keySet());
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        for (IoEventLoop l : live.keySet()) {
            return l.isCompatible(handleType);
        }
        return false;
    }

    @Override
    public boolean isIoType(Class<? extends IoHandler> handlerType) {
        for (IoEventLoop l : live.keySet()) {
            return l.isIoType(handlerType);
        }
        return false;
    }

    @Override
    @Deprecated
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return next().register(channel, promise);
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        synchronized (this) { // excludes replace(): no loop joins after this
            shuttingDown = true;
            active = new IoEventLoop[0];
        }
        for (IoEventLoop l : live.keySet()) {
            l.shutdownGracefully(quietPeriod, timeout, unit);
        }
        if (live.isEmpty()) {
            terminated.trySuccess(null);
        }
        return terminated;
    }

    @Override
    public Future<?> terminationFuture() {
        return terminated;
    }

    @Override
    @Deprecated
    public void shutdown() {
        shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    @Override
    public boolean isShuttingDown() {
        return shuttingDown;
    }

    @Override
    public boolean isShutdown() {
        return shuttingDown;
    }

    @Override
    public boolean isTerminated() {
        return terminated.isDone();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }
}

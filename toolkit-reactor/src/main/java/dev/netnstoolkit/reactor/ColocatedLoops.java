package dev.netnstoolkit.reactor;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * The loops as clients see them, as Reactor Netty's own client loops are: a connection opened from one
 * of the loops stays on it (no hand-over to another thread, no wake-up), one opened elsewhere goes to the
 * next loop in turn. Servers keep the plain rotation, so that accepted connections spread. Lifecycle
 * calls go to the group.
 */
final class ColocatedLoops extends AbstractEventExecutorGroup implements IoEventLoopGroup {

    private final LoopGroup group;

    ColocatedLoops(LoopGroup group) {
        this.group = group;
    }

    @Override
    public IoEventLoop next() {
        IoEventLoop here = group.current();
        return here != null ? here : group.next();
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return group.iterator();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return group.isCompatible(handleType);
    }

    @Override
    public boolean isIoType(Class<? extends IoHandler> handlerType) {
        return group.isIoType(handlerType);
    }

    @Override
    @Deprecated
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return next().register(channel, promise);
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return group.shutdownGracefully(quietPeriod, timeout, unit);
    }

    @Override
    public Future<?> terminationFuture() {
        return group.terminationFuture();
    }

    @Override
    @Deprecated
    public void shutdown() {
        group.shutdown();
    }

    @Override
    public boolean isShuttingDown() {
        return group.isShuttingDown();
    }

    @Override
    public boolean isShutdown() {
        return group.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return group.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return group.awaitTermination(timeout, unit);
    }
}

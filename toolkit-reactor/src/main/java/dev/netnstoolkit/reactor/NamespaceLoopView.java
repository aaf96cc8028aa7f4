package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.EventLoopGroup;
import reactor.netty.resources.LoopResources;

import java.util.Objects;

/**
 * {@link NamespaceLoopResources#in}: the shared loops, with channels constructed inside one namespace.
 * Equal views (same parent, same namespace) share Reactor Netty's pools, since pools are keyed by the
 * config hash, which includes the loop resources.
 */
final class NamespaceLoopView implements LoopResources {

    private final NamespaceLoopResources parent;
    private final NetNamespace ns;

    NamespaceLoopView(NamespaceLoopResources parent, NetNamespace ns) {
        this.parent = parent;
        this.ns = ns;
    }

    @Override
    public <C extends Channel> C onChannel(Class<C> channelType, EventLoopGroup group) {
        C channel;
        try {
            // Inline on our loops; handed to a dedicated worker (the caller waits) from any other thread.
            channel = parent.scheduler().callBlocking(ns, () -> LoopResources.super.onChannel(channelType, group));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new ChannelException("cannot create a " + channelType.getSimpleName() + " in " + ns.label(), e);
        }
        return parent.created(channel, ns);
    }

    @Override
    public EventLoopGroup onServer(boolean useNative) {
        return nativeGroup(useNative);
    }

    @Override
    public EventLoopGroup onClient(boolean useNative) {
        return nativeGroup(useNative);
    }

    @Override
    public EventLoopGroup onServerSelect(boolean useNative) {
        return nativeGroup(useNative);
    }

    private EventLoopGroup nativeGroup(boolean useNative) {
        if (!useNative) {
            throw new IllegalArgumentException("namespace-aware loop resources need the native epoll transport: "
                    + "use runOn(loops, true); with NIO, Reactor Netty creates UDP channels outside the LoopResources "
                    + "callback, in whatever namespace the calling thread is");
        }
        return parent.eventLoopGroup();
    }

    @Override
    public boolean daemon() {
        return true;
    }

    @Override
    public void dispose() {
        // the shared loops belong to the parent
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamespaceLoopView v && v.parent == parent && v.ns.equals(ns);
    }

    @Override
    public int hashCode() {
        return Objects.hash(System.identityHashCode(parent), ns);
    }

    @Override
    public String toString() {
        return "NamespaceLoopResources.in(" + ns.label() + ")";
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import reactor.netty.resources.LoopResources;

import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The shared loops, with channels constructed inside one namespace, inline on the loop thread that
 * asks. Equal views (same loops, same namespace) share Reactor Netty's pools, which are keyed by a
 * config hash that includes the loop resources.
 *
 * <p>A socket is only ever made on the toolkit's loops: the toolkit subscribes every client and server
 * there. On any other thread the callback refuses at once rather than make that thread wait.
 */
final class NamespaceLoopView implements LoopResources {

    private final NamespaceLoopResources parent;
    private final NetNamespace ns;
    /** Reactor Netty hashes the loop resources into its pool key on every acquire. */
    private final int hash;

    NamespaceLoopView(NamespaceLoopResources parent, NetNamespace ns) {
        this.parent = parent;
        this.ns = Objects.requireNonNull(ns, "ns");
        this.hash = 31 * System.identityHashCode(parent) + ns.hashCode();
    }

    @Override
    public <C extends Channel> C onChannel(Class<C> channelType, EventLoopGroup group) {
        if (!parent.meteredSwitch().namespaceSwitch().ownsCurrentThread()) {
            throw new IllegalStateException("a " + channelType.getSimpleName() + " for " + ns.label()
                    + " was asked for on thread " + Thread.currentThread().getName() + ", which the toolkit does not own: "
                    + "configure clients and servers through Netns (it subscribes them on its event loops)");
        }
        Callable<C> make = () -> LoopResources.super.onChannel(channelType, group);
        Channel made = channelType == SocketChannel.class
                ? parent.stock().take(ns, make) // a client's: made in batches while connects come in a burst
                : parent.stock().create(ns, channelType.getSimpleName(), make, 1)[0];
        return channelType.cast(made);
    }

    @Override
    public EventLoopGroup onServer(boolean useNative) {
        return nativeGroup(useNative);
    }

    @Override
    public EventLoopGroup onClient(boolean useNative) {
        nativeGroup(useNative);
        return parent.clientLoops(); // colocated, as Reactor Netty's client loops are
    }

    @Override
    public EventLoopGroup onServerSelect(boolean useNative) {
        return nativeGroup(useNative);
    }

    private EventLoopGroup nativeGroup(boolean useNative) {
        if (!useNative) {
            throw new IllegalArgumentException("namespace-aware loop resources need the native epoll transport: "
                    + "with NIO, Reactor Netty creates UDP channels outside the LoopResources callback, in whatever "
                    + "namespace the calling thread is");
        }
        return parent.eventLoopGroup();
    }

    @Override
    public boolean daemon() {
        return true;
    }

    @Override
    public void dispose() {
        // the shared loops belong to the toolkit
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamespaceLoopView v && v.parent == parent && v.ns.equals(ns);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "NamespaceLoopView(" + ns.label() + ")";
    }
}

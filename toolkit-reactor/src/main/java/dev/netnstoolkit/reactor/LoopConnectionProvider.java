package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.netty.resolver.AddressResolverGroup;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.ConnectionObserver;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.transport.TransportConfig;

import java.net.SocketAddress;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A namespace's connection provider: every acquisition, and so every socket it creates, runs on the
 * toolkit's event loops whatever thread subscribes (a WebFlux handler on Reactor Netty's loops, the
 * parallel scheduler, a plain thread), and no caller waits for it. Failures name the namespace.
 */
final class LoopConnectionProvider implements ConnectionProvider {

    private final ConnectionProvider delegate;
    private final NetNamespace ns;
    private final OnLoops onLoops;

    LoopConnectionProvider(ConnectionProvider delegate, NetNamespace ns, OnLoops onLoops) {
        this.delegate = delegate;
        this.ns = ns;
        this.onLoops = onLoops;
    }

    @Override
    public Mono<? extends Connection> acquire(TransportConfig config, ConnectionObserver observer,
                                             Supplier<? extends SocketAddress> remoteAddress,
                                             AddressResolverGroup<?> resolverGroup) {
        return onLoops.subscribe(() -> delegate.acquire(config, observer, remoteAddress, resolverGroup))
                .onErrorMap(e -> OnLoops.named(e, "connect to", remoteAddress, ns));
    }

    @Override
    public void disposeWhen(SocketAddress remoteAddress) {
        delegate.disposeWhen(remoteAddress);
    }

    @Override
    public Mono<Void> disposeLater() {
        return delegate.disposeLater();
    }

    @Override
    public boolean isDisposed() {
        return delegate.isDisposed();
    }

    @Override
    public int maxConnections() {
        return delegate.maxConnections();
    }

    @Override
    public Map<SocketAddress, Integer> maxConnectionsPerHost() {
        return delegate.maxConnectionsPerHost();
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public String toString() {
        return "LoopConnectionProvider(" + ns.label() + ", " + delegate + ")";
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.ClosedNamespaceException;
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
 * The provider behind it is made at the first acquisition: every client the toolkit puts into a
 * namespace asks for the namespace's clients (for its resolver), and many never pool
 * (TcpClient.newConnection(), UDP), so a pool made up front held ~0.5 KiB per namespace for nothing.
 */
final class LoopConnectionProvider implements ConnectionProvider {

    private final Supplier<? extends ConnectionProvider> make;
    private final String name;
    private final int maxConnections;
    private final NetNamespace ns;
    private final OnLoops onLoops;
    private volatile ConnectionProvider delegate; // written under this
    private volatile boolean disposed; // written under this

    LoopConnectionProvider(Supplier<? extends ConnectionProvider> make, String name, int maxConnections, NetNamespace ns,
                           OnLoops onLoops) {
        this.make = make;
        this.name = name;
        this.maxConnections = maxConnections;
        this.ns = ns;
        this.onLoops = onLoops;
    }

    /** The pool, made now if it was not; refused once disposed (Reactor Netty's would make a new pool and keep it). */
    private ConnectionProvider delegate() {
        ConnectionProvider d = delegate;
        if (d != null && !disposed) {
            return d;
        }
        synchronized (this) {
            if (disposed) {
                throw refusal();
            }
            if (delegate == null) {
                delegate = make.get();
            }
            return delegate;
        }
    }

    private RuntimeException refusal() {
        return ns.isClosed() ? new ClosedNamespaceException(ns.label())
                : new IllegalStateException("connect in " + ns.label() + ": the namespace's clients were released (the toolkit is disposed)");
    }

    /**
     * An acquisition under way when the pool was disposed ends with Reactor Netty's internal
     * PoolShutdownException (untyped for the caller): the same refusal as an acquisition after.
     */
    private Throwable releasedMeanwhile(Throwable e) {
        return disposed && e.getClass().getSimpleName().equals("PoolShutdownException") ? refusal() : e;
    }

    /** Whether the pool has been made (tests). */
    boolean hasPool() {
        return delegate != null;
    }

    @Override
    public Mono<? extends Connection> acquire(TransportConfig config, ConnectionObserver observer,
                                             Supplier<? extends SocketAddress> remoteAddress,
                                             AddressResolverGroup<?> resolverGroup) {
        return onLoops.subscribe(() -> delegate().acquire(config, observer, remoteAddress, resolverGroup))
                .onErrorMap(e -> OnLoops.named(releasedMeanwhile(e), "connect to", remoteAddress, ns));
    }

    @Override
    public void disposeWhen(SocketAddress remoteAddress) {
        ConnectionProvider d = delegate;
        if (d != null) {
            d.disposeWhen(remoteAddress);
        }
    }

    @Override
    public Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            ConnectionProvider d;
            synchronized (this) {
                disposed = true;
                d = delegate;
            }
            return d == null ? Mono.empty() : d.disposeLater();
        });
    }

    @Override
    public boolean isDisposed() {
        ConnectionProvider d = delegate;
        return disposed || d == null || d.isDisposed(); // as Reactor Netty's: a provider without pools counts as disposed
    }

    @Override
    public int maxConnections() {
        return maxConnections;
    }

    @Override
    public Map<SocketAddress, Integer> maxConnectionsPerHost() {
        ConnectionProvider d = delegate;
        return d != null ? d.maxConnectionsPerHost() : Map.of();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "LoopConnectionProvider(" + ns.label() + ", " + (delegate != null ? delegate : "no pool yet") + ")";
    }
}

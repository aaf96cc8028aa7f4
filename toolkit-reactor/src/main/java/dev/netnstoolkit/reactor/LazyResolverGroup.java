package dev.netnstoolkit.reactor;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.function.Supplier;

/**
 * A namespace's resolver group that makes its DNS resolver group (the namespace's resolv.conf and hosts
 * read and kept), its resolvers and so their sockets only when a name must be resolved: Reactor Netty
 * asks every connect for the loop's resolver, and Netty's DNS resolver opens its UDP socket when it is
 * made, so a namespace whose clients only ever connect to IP literals would hold one DNS socket per
 * event loop, and the parsed files, for nothing.
 */
final class LazyResolverGroup extends AddressResolverGroup<InetSocketAddress> {

    private final Supplier<? extends AddressResolverGroup<InetSocketAddress>> make;
    private AddressResolverGroup<InetSocketAddress> dns; // guarded by this
    private boolean closed; // guarded by this

    LazyResolverGroup(Supplier<? extends AddressResolverGroup<InetSocketAddress>> make) {
        this.make = make;
    }

    private synchronized AddressResolverGroup<InetSocketAddress> dns() {
        if (closed) {
            throw new IllegalStateException("the namespace's resolver is closed");
        }
        if (dns == null) {
            dns = make.get();
        }
        return dns;
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new Lazy(executor, () -> dns().getResolver(executor));
    }

    @Override
    public void close() {
        super.close();
        AddressResolverGroup<InetSocketAddress> made;
        synchronized (this) {
            closed = true;
            made = dns;
        }
        if (made != null) {
            made.close();
        }
    }

    /** Answers resolved addresses itself; hands names to the DNS resolver, made on first need. */
    private static final class Lazy implements AddressResolver<InetSocketAddress> {
        private final EventExecutor executor;
        private final Supplier<AddressResolver<InetSocketAddress>> make;
        private AddressResolver<InetSocketAddress> delegate; // only on the executor's thread

        Lazy(EventExecutor executor, Supplier<AddressResolver<InetSocketAddress>> make) {
            this.executor = executor;
            this.make = make;
        }

        private AddressResolver<InetSocketAddress> dns() {
            if (delegate == null) {
                delegate = make.get();
            }
            return delegate;
        }

        @Override
        public boolean isSupported(SocketAddress address) {
            return address instanceof InetSocketAddress;
        }

        @Override
        public boolean isResolved(SocketAddress address) {
            return address instanceof InetSocketAddress a && !a.isUnresolved();
        }

        @Override
        public Future<InetSocketAddress> resolve(SocketAddress address) {
            return resolve(address, executor.newPromise());
        }

        @Override
        public Future<InetSocketAddress> resolve(SocketAddress address, Promise<InetSocketAddress> promise) {
            if (isResolved(address)) {
                return promise.setSuccess((InetSocketAddress) address);
            }
            try {
                return dns().resolve(address, promise);
            } catch (RuntimeException e) { // an unreadable resolv.conf or hosts, or a closed namespace: the promise says so
                return promise.setFailure(e);
            }
        }

        @Override
        public Future<List<InetSocketAddress>> resolveAll(SocketAddress address) {
            return resolveAll(address, executor.newPromise());
        }

        @Override
        public Future<List<InetSocketAddress>> resolveAll(SocketAddress address, Promise<List<InetSocketAddress>> promise) {
            if (isResolved(address)) {
                return promise.setSuccess(List.of((InetSocketAddress) address));
            }
            try {
                return dns().resolveAll(address, promise);
            } catch (RuntimeException e) {
                return promise.setFailure(e);
            }
        }

        @Override
        public void close() {
            // the DNS resolver belongs to its group, which closes it
        }
    }
}

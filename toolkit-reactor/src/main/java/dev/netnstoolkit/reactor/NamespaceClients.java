package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NetNamespace;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.resources.ConnectionProvider;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each namespace handle has of its own for clients: a bounded connection pool (made at its first
 * acquisition), a provider of new connections (for clients without a pool) and a DNS resolver group
 * whose sockets are made in the namespace (the group itself made when a name is first resolved). Made on
 * first use; released (pool disposed, resolver closed) when the handle is closed or the toolkit disposed, so
 * nothing grows with namespace churn. Keyed by the handle itself: a pool never outlives the handle its
 * sockets were made through.
 */
final class NamespaceClients {

    /** One handle's clients. */
    record PerNamespace(ConnectionProvider pooled, ConnectionProvider unpooled, LazyResolverGroup resolver) {
        Mono<Void> disposeLater() {
            return Mono.when(pooled.disposeLater(), unpooled.disposeLater()).onErrorResume(e -> Mono.empty())
                    .doOnTerminate(resolver::close).doOnCancel(resolver::close); // closed before it completes
        }
    }

    private final Map<Key, PerNamespace> byHandle = new ConcurrentHashMap<>();
    private final NamespaceLoopResources loops;
    private final OnLoops onLoops;
    private final int maxConnections;
    private final int pendingAcquires;
    private volatile boolean disposed;

    NamespaceClients(NamespaceLoopResources loops, OnLoops onLoops, int maxConnections, int pendingAcquires) {
        this.loops = loops;
        this.onLoops = onLoops;
        this.maxConnections = maxConnections;
        this.pendingAcquires = pendingAcquires;
    }

    PerNamespace of(NetNamespace ns) {
        Key key = new Key(ns);
        PerNamespace p = byHandle.get(key);
        if (p != null) {
            return p;
        }
        if (ns.isClosed()) {
            throw new ClosedNamespaceException(ns.label());
        }
        PerNamespace made;
        synchronized (byHandle) {
            p = byHandle.get(key);
            if (p != null) {
                return p;
            }
            String name = "ntk-" + ns.label();
            made = new PerNamespace(new LoopConnectionProvider(() -> ConnectionProvider.builder(name).maxConnections(maxConnections)
                    .pendingAcquireMaxCount(pendingAcquires).build(), name, maxConnections, ns, onLoops),
                    new LoopConnectionProvider(ConnectionProvider::newConnection, name + "-new", -1, ns, onLoops),
                    new LazyResolverGroup(() -> NamespaceDns.resolverGroup(ns, loops.in(ns))));
            byHandle.put(key, made);
        }
        ns.onClose(() -> release(key, made));
        if (disposed) {
            release(key, made);
        }
        return made;
    }

    private void release(Key key, PerNamespace p) {
        if (byHandle.remove(key, p)) {
            p.disposeLater().subscribe(null, e -> { });
        }
    }

    /** Handles with clients now (for tests: it must not grow with churn). */
    int size() {
        return byHandle.size();
    }

    Mono<Void> disposeLater() {
        return Mono.defer(() -> {
            disposed = true;
            return Flux.fromIterable(byHandle.keySet())
                    .flatMap(key -> {
                        PerNamespace p = byHandle.remove(key);
                        return p == null ? Mono.empty() : p.disposeLater();
                    })
                    .then()
                    .timeout(Duration.ofSeconds(10), Mono.empty());
        });
    }

    /** A handle compared by identity: handles are equal by namespace, but pools belong to one handle. */
    private static final class Key {
        private final NetNamespace handle;

        Key(NetNamespace handle) {
            this.handle = handle;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.handle == handle;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(handle);
        }
    }
}

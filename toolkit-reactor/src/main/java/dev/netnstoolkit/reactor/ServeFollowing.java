package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceEvent;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableChannel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * {@link Netns#serve}: binds in every namespace as it appears and releases everything of it as it goes,
 * one event at a time, in order. Cancelling releases every namespace still served.
 */
final class ServeFollowing {

    private record Served(NetNamespace handle, List<DisposableChannel> servers) {
    }

    private ServeFollowing() {
    }

    static Flux<ServingEvent> of(Netns netns, Flux<NamespaceEvent> events,
                                 Function<NetNamespace, ? extends Publisher<? extends DisposableChannel>> bind) {
        return Flux.defer(() -> {
            Map<String, Served> served = new ConcurrentHashMap<>();
            return events.concatMap(e -> {
                        if (e instanceof NamespaceEvent.Added a) {
                            return add(netns, a, bind, served);
                        }
                        if (e instanceof NamespaceEvent.Removed r) {
                            return remove(netns, r, served);
                        }
                        return Mono.<ServingEvent>empty(); // Unusable: the watch told it; nothing to serve
                    })
                    .doFinally(s -> served.values().forEach(entry -> release(netns, entry).subscribe(null, x -> { })));
        });
    }

    private static Mono<ServingEvent> add(Netns netns, NamespaceEvent.Added a,
                                          Function<NetNamespace, ? extends Publisher<? extends DisposableChannel>> bind,
                                          Map<String, Served> served) {
        NetNamespace handle;
        try {
            handle = open(a);
        } catch (RuntimeException gone) {
            return Mono.just(new ServingEvent.Failed(a.name(), a.id(), gone)); // deleted (or re-created) meanwhile
        }
        if (!handle.id().equals(a.id())) {
            handle.close(); // re-created since the event: the events for the new one follow
            return Mono.empty();
        }
        return Flux.from(bind.apply(handle)).cast(DisposableChannel.class).collectList()
                .<ServingEvent>map(servers -> {
                    Served old = served.put(a.name(), new Served(handle, servers));
                    if (old != null) {
                        release(netns, old).subscribe(null, x -> { });
                    }
                    return new ServingEvent.Serving(a.name(), a.id(), servers);
                })
                .onErrorResume(error -> netns.release(handle).thenReturn(new ServingEvent.Failed(a.name(), a.id(), error)));
    }

    private static Mono<ServingEvent> remove(Netns netns, NamespaceEvent.Removed r, Map<String, Served> served) {
        Served entry = served.get(r.name());
        if (entry == null || !entry.handle().id().equals(r.id()) || !served.remove(r.name(), entry)) {
            return Mono.empty();
        }
        return release(netns, entry).thenReturn(new ServingEvent.Stopped(r.name(), r.id()));
    }

    private static Mono<Void> release(Netns netns, Served entry) {
        entry.servers().forEach(DisposableChannel::dispose);
        return netns.release(entry.handle());
    }

    /** By name under /run/netns (so the handle carries the name), by path elsewhere. */
    private static NetNamespace open(NamespaceEvent.Added a) {
        NamespaceRegistry registry = NamespaceRegistry.system();
        if (Path.of(a.path()).equals(Path.of(NamespaceRegistry.runDir(), a.name()))) {
            return registry.open(a.name());
        }
        return registry.openPath(a.path());
    }
}

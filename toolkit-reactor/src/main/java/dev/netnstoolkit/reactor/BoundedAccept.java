package dev.netnstoolkit.reactor;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@link Netns#accept}: inbound connections as a Flux that honours demand, holding at most {@code bound}
 * connections for a subscriber that does not keep up. Past that the newest and every held connection
 * are closed and the Flux fails at once with {@link QueueFullException} (Reactor's own bounded buffers
 * would deliver that error only after the subscriber had taken everything held). Cancelling disposes
 * the servers and closes what is held.
 */
final class BoundedAccept {

    private BoundedAccept() {
    }

    static Flux<Connection> of(int bound, Function<Consumer<Connection>, Flux<DisposableServer>> bind) {
        return Flux.create(sink -> {
            Queue<Connection> held = new ArrayDeque<>();
            boolean[] failed = new boolean[1];
            Runnable drain = () -> {
                synchronized (held) {
                    while (!failed[0] && sink.requestedFromDownstream() > 0 && !held.isEmpty()) {
                        sink.next(held.poll());
                    }
                }
            };
            Consumer<Connection> onConnection = c -> {
                synchronized (held) {
                    if (failed[0]) {
                        c.dispose();
                        return;
                    }
                    if (held.size() >= bound && sink.requestedFromDownstream() == 0) {
                        failed[0] = true;
                        c.dispose();
                        held.forEach(Connection::dispose);
                        held.clear();
                        sink.error(new QueueFullException("accept buffer", bound,
                                "consume connections faster or raise acceptBuffer"));
                        return;
                    }
                    held.offer(c);
                }
                drain.run();
            };
            List<DisposableServer> bound0 = new ArrayList<>();
            Disposable binding = bind.apply(onConnection).subscribe(s -> {
                synchronized (bound0) {
                    bound0.add(s);
                }
            }, sink::error);
            sink.onRequest(n -> drain.run());
            sink.onDispose(() -> {
                binding.dispose();
                synchronized (bound0) {
                    bound0.forEach(DisposableServer::dispose);
                }
                synchronized (held) {
                    held.forEach(Connection::dispose);
                    held.clear();
                }
            });
        }, FluxSink.OverflowStrategy.IGNORE);
    }
}

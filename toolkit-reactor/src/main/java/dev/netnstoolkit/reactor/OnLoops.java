package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import io.netty.channel.ChannelException;
import reactor.netty.ChannelBindException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Supplier;

/**
 * Where every socket of the toolkit is made: subscriptions move onto its event loops (no hop when
 * already on one), so the view switches inline and no other thread ever waits. A failure signalled on a
 * loop that has just been fenced is moved to a loop at home before anything downstream sees it.
 */
final class OnLoops {

    private final Scheduler loops;
    private final NamespaceSwitch sw;

    OnLoops(Scheduler loops, NamespaceSwitch sw) {
        this.loops = loops;
        this.sw = sw;
    }

    <T> Mono<T> subscribe(Supplier<? extends Mono<? extends T>> open) {
        // detached once it ends: Reactor Netty keeps the sink of a bind (and of a pooled acquire) as long as
        // the server (connection) lives, and through it the subscriber's whole chain (a caller's flatMap
        // with its queues), ~1-3 KiB per namespace that stayed reachable for nothing
        Mono<T> here = Mono.<T>defer(open).onTerminateDetach();
        Mono<T> hop = here.subscribeOn(loops);
        // decided when subscribed, not when assembled: a Mono made on a loop may be subscribed anywhere
        return Mono.defer(() -> onOwnLoop() ? here : hop)
                .onErrorResume(e -> sw.isCurrentThreadStranded() ? Mono.<T>error(e).publishOn(loops) : Mono.error(e));
    }

    private boolean onOwnLoop() {
        return Thread.currentThread() instanceof OwnedThreads.LoopThread && sw.ownsCurrentThread()
                && !sw.isCurrentThreadStranded();
    }

    /**
     * An I/O failure of a connect or bind in {@code ns} (an IOException, a Netty ChannelException, a
     * Reactor Netty bind failure) as a {@link NamespaceIoException} naming the namespace and the
     * address; anything else (the toolkit's own typed errors, a full queue, a timeout) as it is.
     */
    static Throwable named(Throwable e, String operation, Supplier<? extends SocketAddress> address, NetNamespace ns) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause()) {
            if (t instanceof NamespaceException known) {
                return known; // the toolkit's own error says what and where already (a closed handle, a failed switch)
            }
        }
        if (!(e instanceof IOException || e instanceof ChannelException || e instanceof ChannelBindException)) {
            return e;
        }
        String where = null;
        try {
            SocketAddress a = address != null ? address.get() : null;
            where = a instanceof InetSocketAddress in ? in.getHostString() + ":" + in.getPort() : a != null ? a.toString() : null;
        } catch (RuntimeException ignored) {
            // a supplier that fails: the address is unknown
        }
        return new NamespaceIoException(operation, where, ns.label(), e);
    }
}

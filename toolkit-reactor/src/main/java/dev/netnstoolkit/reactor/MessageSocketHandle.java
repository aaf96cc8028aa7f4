package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.ThreadStrandedException;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.SocketFd;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The loop side of a {@link MessageSocket}: the descriptor registered with one event loop, where all
 * of its state lives and all of its work runs. Epoll interest follows what is wanted: EPOLLIN while the
 * receiver has demand, EPOLLOUT while sends wait for room. Closing takes it off the loop first, then
 * closes the descriptor (Netty removes it from epoll only while its descriptor is open).
 */
final class MessageSocketHandle implements EpollIoHandle {

    /** Room for the largest datagram. */
    private static final int BUFFER = 65_536;

    private record PendingSend(byte[] data, byte[] to, MonoSink<Void> sink) {
    }

    private final NamespaceLoopResources owner;
    private final NetNamespace ns;
    private final SocketSpec spec;
    private final IoEventLoop loop;
    private final SocketFd socket;
    private final FileDescriptor fd;
    private final byte[] buffer = new byte[BUFFER];
    private final ArrayDeque<PendingSend> pending = new ArrayDeque<>();
    private final Sinks.Empty<Void> disposed = Sinks.empty();
    private final AtomicBoolean closed = new AtomicBoolean();
    private IoRegistration registration;
    private FluxSink<MessageSocket.Message> receiver;
    private EpollIoOps interest;

    private MessageSocketHandle(NetNamespace ns, SocketSpec spec, IoEventLoop loop, SocketFd socket, NamespaceLoopResources owner) {
        this.owner = owner;
        this.ns = ns;
        this.spec = spec;
        this.loop = loop;
        this.socket = socket;
        this.fd = new FileDescriptor(socket.fd());
    }

    /**
     * Makes the socket on one of the loops, switched into {@code ns} for the socket call and its options,
     * and registers it there. Cancelled before it is ready, whatever was made is closed.
     */
    static Mono<MessageSocket> open(NamespaceLoopResources loops, NamespaceBackend backend, NetNamespace ns, SocketSpec spec) {
        return Mono.create(sink -> {
            IoEventLoop loop = loops.eventLoopGroup().next();
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            loop.execute(() -> {
                SocketFd made = makeOnLoop(loops, backend, ns, spec, sink::error);
                if (made == null) {
                    return;
                }
                MessageSocketHandle h = new MessageSocketHandle(ns, spec, loop, made, loops);
                loop.register(h).addListener(f -> {
                    if (!f.isSuccess()) {
                        made.close();
                        sink.error(new NamespaceException("cannot register " + spec + " of " + ns.label() + " with an event loop: "
                                + f.cause().getMessage(), "epoll_ctl", 0, ns.label(), f.cause()));
                        return;
                    }
                    h.registration = (IoRegistration) f.getNow();
                    loops.track(h);
                    h.update();
                    if (cancelled.get()) {
                        h.close();
                        return;
                    }
                    sink.success(new MessageSocket(h));
                });
            });
        });
    }

    /**
     * On one of the loops: the socket of {@code spec} made in {@code ns} through the one switch, or
     * {@code null} once {@code failed} has been told why. What was made is closed on failure; a loop that
     * could not switch back is fenced off and the error is signalled from a loop at home.
     */
    static SocketFd makeOnLoop(NamespaceLoopResources loops, NamespaceBackend backend, NetNamespace ns, SocketSpec spec,
                               Consumer<Throwable> failed) {
        try {
            return loops.meteredSwitch().run(ns, () -> create(backend, ns, spec));
        } catch (ThreadStrandedException e) {
            loops.fenceCurrentLoop(ns, e);
            loops.eventLoopGroup().next().execute(() -> failed.accept(e));
            return null;
        } catch (Exception e) {
            failed.accept(e);
            return null;
        }
    }

    /** Inside the namespace: the socket, its options, its address; closed again if any of those fails. */
    static SocketFd create(NamespaceBackend backend, NetNamespace ns, SocketSpec spec) {
        SocketFd s = backend.socket(spec.family(), spec.type(), spec.protocol(), ns.label());
        try {
            for (SocketSpec.Option o : spec.options()) {
                s.setOption(o.level(), o.name(), o.value());
            }
            byte[] bind = spec.bind();
            if (bind != null) {
                s.bind(bind);
            }
            if (spec.backlog() > 0) {
                s.listen(spec.backlog());
            }
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    NetNamespace namespace() {
        return ns;
    }

    SocketSpec spec() {
        return spec;
    }

    boolean isClosed() {
        return closed.get();
    }

    Mono<Void> onDispose() {
        return disposed.asMono();
    }

    Flux<MessageSocket.Message> receive() {
        return Flux.create(sink -> loop.execute(() -> {
            if (closed.get()) {
                sink.complete();
                return;
            }
            if (receiver != null) {
                sink.error(new IllegalStateException(spec + " of " + ns.label() + " has a receiver already"));
                return;
            }
            receiver = sink;
            sink.onRequest(n -> loop.execute(this::update));
            sink.onCancel(() -> loop.execute(this::close)); // cancelling the messages closes the socket
            update();
        }), FluxSink.OverflowStrategy.ERROR);
    }

    /** Runs {@code task} on the socket's loop: at once when called there, else as a task of it. */
    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /** The socket's own loop, as a Reactor scheduler: work scheduled there needs no hand-over to reach the socket. */
    reactor.core.scheduler.Scheduler scheduler() {
        return reactor.core.scheduler.Schedulers.fromExecutorService(loop, "ntk-socket-loop");
    }

    Mono<Void> send(byte[] data, byte[] to) {
        return Mono.create(sink -> onLoop(() -> {
            if (closed.get()) {
                sink.error(new IllegalStateException("send on " + spec + " of " + ns.label() + ": the socket is closed"));
                return;
            }
            if (pending.isEmpty() && trySend(data, to, sink)) {
                return;
            }
            if (pending.size() >= MessageSocket.MAX_PENDING_SENDS) {
                sink.error(new QueueFullException("the sends of " + spec + " in " + ns.label(), MessageSocket.MAX_PENDING_SENDS,
                        "wait for earlier sends to complete"));
                return;
            }
            pending.add(new PendingSend(data, to, sink));
            update();
        }));
    }

    /** True if done (sent or failed); false if the send buffer is full. */
    private boolean trySend(byte[] data, byte[] to, MonoSink<Void> sink) {
        try {
            if (socket.sendTo(data, 0, data.length, to) < 0) {
                return false;
            }
            sink.success();
        } catch (RuntimeException e) {
            sink.error(e);
        }
        return true;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (!(event instanceof EpollIoEvent e) || closed.get()) {
            return;
        }
        if (e.ops().contains(EpollIoOps.EPOLLOUT)) {
            while (!pending.isEmpty() && trySend(pending.peek().data(), pending.peek().to(), pending.peek().sink())) {
                pending.poll();
            }
        }
        update(); // reads what is waiting while the receiver has demand (EPOLLIN, or EPOLLERR to report it)
    }

    /** Reads as many messages as the receiver asked for, or until none is waiting. */
    private void read() {
        while (!closed.get() && receiver != null && receiver.requestedFromDownstream() > 0) {
            SocketFd.Received r;
            try {
                r = socket.receive(buffer);
            } catch (RuntimeException e) {
                receiver.error(e);
                close();
                return;
            }
            if (r == null) {
                return;
            }
            receiver.next(new MessageSocket.Message(Arrays.copyOf(buffer, r.length()), r.from(), ns));
        }
    }

    /** Epoll interest as wanted now; never NONE (that would take the descriptor off epoll for good). */
    private void update() {
        if (closed.get() || registration == null) {
            return;
        }
        boolean in = receiver != null && receiver.requestedFromDownstream() > 0;
        EpollIoOps want = in && !pending.isEmpty() ? EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT)
                : in ? EpollIoOps.EPOLLIN : !pending.isEmpty() ? EpollIoOps.EPOLLOUT : EpollIoOps.EPOLLRDHUP;
        if (!want.equals(interest)) {
            interest = want;
            registration.submit(want);
        }
        if (in) {
            read(); // what arrived while not reading
        }
    }

    void closeLater() {
        if (!closed.get()) {
            loop.execute(this::close);
        }
    }

    /** On the loop (or from Netty as the loop shuts down): off the loop, then closed; waiting sends fail. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        socket.close();
        owner.forget(this);
        PendingSend p;
        while ((p = pending.poll()) != null) {
            p.sink().error(new IllegalStateException("send on " + spec + " of " + ns.label() + ": the socket was closed"));
        }
        if (receiver != null) {
            receiver.complete();
        }
        disposed.tryEmitEmpty();
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }
}

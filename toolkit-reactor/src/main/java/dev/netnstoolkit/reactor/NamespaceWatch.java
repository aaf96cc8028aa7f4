package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceEvent;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.spi.DirectoryWatch;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@link Netns#watch}: the namespaces in a directory as a {@code Flux} of {@link NamespaceEvent}s. The
 * inotify descriptor is registered with one of the toolkit's event loops (no thread per watch), and
 * all of a watch's work runs there. It reads only while the subscriber has demand: a subscriber that
 * stops asking lets the kernel's queue overflow, after which the directory is looked at again. A name
 * created before its namespace is mounted (as {@code ip netns add} does) is checked again with backoff;
 * one that never becomes a namespace is reported {@link NamespaceEvent.Unusable}.
 */
final class NamespaceWatch implements EpollIoHandle {

    /** Checks of a created name before it is called unusable: 5 ms doubling to 640 ms, about 1.3 s in all. */
    private static final int CHECKS = 9;

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final Path dir;
    private final String prefix;
    private final LoopGroup group;
    private IoEventLoop loop;
    private final FluxSink<NamespaceEvent> sink;
    private final DirectoryWatch watch;
    private final FileDescriptor fd;
    private final Map<String, NamespaceId> known = new HashMap<>();
    private final Set<String> checking = new HashSet<>();
    private IoRegistration registration;
    private boolean reading;
    private boolean ended;

    private NamespaceWatch(Path dir, String prefix, LoopGroup group, IoEventLoop loop, FluxSink<NamespaceEvent> sink,
                           DirectoryWatch watch) {
        this.dir = dir;
        this.prefix = prefix;
        this.group = group;
        this.loop = loop;
        this.sink = sink;
        this.watch = watch;
        this.fd = new FileDescriptor(watch.fd());
    }

    static Flux<NamespaceEvent> of(NamespaceBackend backend, LoopGroup group, Path dir, String prefix) {
        IoEventLoop loop = group.next();
        return Flux.create(sink -> loop.execute(() -> {
            DirectoryWatch w;
            try {
                w = backend.watchDirectory(dir.toString());
            } catch (RuntimeException e) {
                sink.error(e);
                return;
            }
            NamespaceWatch watch = new NamespaceWatch(dir, prefix, group, loop, sink, w);
            sink.onRequest(n -> watch.loop.execute(watch::demandChanged));
            sink.onDispose(() -> watch.loop.execute(watch::end));
            watch.start();
        }), FluxSink.OverflowStrategy.BUFFER);
    }

    private void start() {
        loop.register(this).addListener(f -> {
            if (!f.isSuccess()) {
                fail(new IllegalStateException("cannot watch " + dir + ": " + f.cause().getMessage(), f.cause()));
                return;
            }
            registration = (IoRegistration) f.getNow();
            if (ended) {
                end();
                return;
            }
            rescan(); // the namespaces there now; events from here on (the watch was made before the listing)
            demandChanged();
        });
    }

    // ---------------------------------------------------------------- events

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (event instanceof EpollIoEvent e && e.ops().contains(EpollIoOps.EPOLLIN)) {
            readEvents();
        }
    }

    private void readEvents() {
        for (DirectoryWatch.Event e : watch.read()) {
            if (ended) {
                return;
            }
            switch (e.kind()) {
                case CREATED -> {
                    if (matches(e.name())) {
                        check(e.name(), 0);
                    }
                }
                case DELETED -> {
                    checking.remove(e.name());
                    NamespaceId gone = known.remove(e.name());
                    if (gone != null) {
                        emit(new NamespaceEvent.Removed(e.name(), pathOf(e.name()), gone));
                    }
                }
                case OVERFLOW -> rescan();
                case DIRECTORY_GONE -> fail(new NamespaceNotFoundException("the watched directory " + dir
                        + " is gone (deleted, moved or unmounted)", "inotify", 0, dir.toString(), null));
            }
        }
        demandChanged();
    }

    /** Looks at the directory again: what went, what came, what changed identity. */
    private void rescan() {
        Set<String> now = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(this::matches).forEach(now::add);
        } catch (NoSuchFileException e) {
            fail(new NamespaceNotFoundException("no directory " + dir + " to watch", "opendir", 2, dir.toString(), null));
            return;
        } catch (IOException e) {
            fail(new NamespaceException("cannot list " + dir + ": " + e.getMessage(), "opendir", 0, dir.toString(), e));
            return;
        }
        for (String name : List.copyOf(known.keySet())) {
            if (!now.contains(name)) {
                emit(new NamespaceEvent.Removed(name, pathOf(name), known.remove(name)));
            }
        }
        now.forEach(name -> check(name, 0));
    }

    /** Whether {@code name} is a namespace now; a name file not mounted yet is checked again later. */
    private void check(String name, int attempt) {
        if (ended) {
            return;
        }
        String path = pathOf(name);
        NamespaceId id;
        try {
            id = registry.idOfNamespaceAt(path);
        } catch (NamespaceNotFoundException gone) {
            checking.remove(name);
            return;
        } catch (NamespaceException notYet) {
            if (attempt + 1 < CHECKS) {
                checking.add(name);
                loop.schedule(() -> {
                    if (checking.contains(name)) {
                        check(name, attempt + 1);
                    }
                }, 5L << attempt, TimeUnit.MILLISECONDS);
            } else {
                checking.remove(name);
                emit(new NamespaceEvent.Unusable(name, path, notYet.getMessage()));
            }
            return;
        }
        checking.remove(name);
        NamespaceId before = known.put(name, id);
        if (id.equals(before)) {
            return;
        }
        if (before != null) {
            emit(new NamespaceEvent.Removed(name, path, before));
        }
        emit(new NamespaceEvent.Added(name, path, id));
    }

    // ---------------------------------------------------------------- demand, end

    /** Reads while the subscriber has demand; otherwise leaves the events in the kernel's queue. */
    private void demandChanged() {
        if (ended || registration == null) {
            return;
        }
        boolean want = sink.requestedFromDownstream() > 0;
        if (want != reading) {
            reading = want;
            // not NONE: that would take the descriptor off epoll, and Netty's registration could not add it back
            registration.submit(want ? EpollIoOps.EPOLLIN : EpollIoOps.EPOLLRDHUP);
            if (want) {
                readEvents(); // what arrived while not reading (level-triggered epoll would say so too)
            }
        }
    }

    private void emit(NamespaceEvent event) {
        if (!ended) {
            sink.next(event);
        }
    }

    private void fail(Throwable e) {
        if (!ended) {
            sink.error(e);
            end();
        }
    }

    /** Off the loop, then the descriptor closed: cancel before close, as Netty's epoll wants. */
    private void end() {
        ended = true;
        checking.clear();
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        watch.close();
    }

    private boolean matches(String name) {
        return name != null && name.startsWith(prefix);
    }

    private String pathOf(String name) {
        return dir.resolve(name).toString();
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    /**
     * Netty calls this when the watch's loop shuts down: with the toolkit (the watch ends), or because
     * the loop was fenced off (the watch moves to a loop in rotation and looks at the directory again).
     */
    @Override
    public void close() {
        if (ended) {
            return;
        }
        registration = null;
        reading = false;
        IoEventLoop next;
        try {
            next = group.isShuttingDown() ? null : group.next();
        } catch (RuntimeException none) {
            next = null;
        }
        if (next == null) {
            sink.error(new IllegalStateException("the toolkit's event loops were shut down: the watch of " + dir + " ends"));
            end();
            return;
        }
        loop = next;
        loop.execute(this::start);
    }
}

package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The application's WebFlux {@link HttpHandler} served inside every namespace of
 * {@code ntk.server.namespaces}, started and stopped with Boot's web server (same lifecycle phase): on
 * stop, each listener stops accepting and in-flight requests finish, up to the shutdown timeout.
 */
public final class NamespacedWebServers implements SmartLifecycle {

    /** Boot's web server start/stop phase. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

    private final Netns netns;
    private final ConfiguredNamespaces namespaces;
    private final List<String> names;
    private final int port;
    private final ObjectProvider<HttpHandler> handler;
    private final Duration shutdownTimeout;
    private final List<DisposableServer> servers = new ArrayList<>();
    private volatile boolean running;

    NamespacedWebServers(Netns netns, ConfiguredNamespaces namespaces, List<String> names, int port,
                         ObjectProvider<HttpHandler> handler, Duration shutdownTimeout) {
        this.netns = netns;
        this.namespaces = namespaces;
        this.names = List.copyOf(names);
        this.port = port;
        this.handler = handler;
        this.shutdownTimeout = shutdownTimeout;
    }

    @Override
    public void start() {
        ReactorHttpHandlerAdapter adapter = new ReactorHttpHandlerAdapter(handler.getObject());
        List<NetNamespace> handles = names.stream().map(namespaces::get).toList();
        try {
            List<DisposableServer> bound = netns.bind(Flux.fromIterable(handles), HttpServer.create().port(port).handle(adapter))
                    .collectList().block(Duration.ofSeconds(60));
            synchronized (servers) {
                servers.addAll(bound);
            }
        } catch (RuntimeException e) {
            stopNow();
            throw new NetnsStartupException("ntk.server.namespaces=" + names + " on port " + port, e,
                    "Check that the port is free in each namespace (ntk.server.port) and that the process may enter them.");
        }
        running = true;
    }

    @Override
    public void stop(Runnable callback) {
        running = false;
        List<DisposableServer> toStop;
        synchronized (servers) {
            toStop = new ArrayList<>(servers);
            servers.clear();
        }
        Flux.fromIterable(toStop).flatMap(s -> {
                    s.dispose();
                    return s.onDispose();
                }).then()
                .timeout(shutdownTimeout, Mono.empty())
                .doFinally(s -> callback.run())
                .subscribe(null, e -> { });
    }

    @Override
    public void stop() {
        stopNow();
    }

    private void stopNow() {
        running = false;
        synchronized (servers) {
            servers.forEach(s -> s.disposeNow(shutdownTimeout));
            servers.clear();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /** What is served where: namespace name to port. */
    public Map<String, Integer> served() {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        synchronized (servers) {
            for (DisposableServer s : servers) {
                NetNamespace ns = Netns.namespaceOf(s);
                out.put(ns != null ? ns.label() : "?", s.port());
            }
        }
        return out;
    }
}

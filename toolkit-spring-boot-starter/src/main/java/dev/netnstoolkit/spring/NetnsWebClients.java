package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A {@link WebClient} per namespace, each sending from inside it (its own pool and DNS, see
 * {@link Netns#httpClient}), built from the application's {@code WebClient.Builder} (its codecs and
 * filters). Namespaces not in the configuration are opened by name on first use and kept open until
 * the application stops.
 */
public final class NetnsWebClients implements AutoCloseable {

    private final Netns netns;
    private final ConfiguredNamespaces configured;
    private final Supplier<WebClient.Builder> builders;
    private final Map<String, WebClient> clients = new ConcurrentHashMap<>();
    private final Map<String, NetNamespace> opened = new ConcurrentHashMap<>();

    NetnsWebClients(Netns netns, ConfiguredNamespaces configured, Supplier<WebClient.Builder> builders) {
        this.netns = netns;
        this.configured = configured;
        this.builders = builders;
    }

    /**
     * The WebClient that sends from inside {@code namespace}.
     *
     * @throws dev.netnstoolkit.api.NamespaceNotFoundException if there is no such namespace
     */
    public WebClient webClient(String namespace) {
        return clients.computeIfAbsent(namespace, name -> builders.get()
                .clientConnector(new ReactorClientHttpConnector(netns.httpClient(handle(name))))
                .build());
    }

    private NetNamespace handle(String name) {
        NetNamespace ns = configured.get(name);
        return ns != null ? ns : opened.computeIfAbsent(name, n -> NamespaceRegistry.system().open(n));
    }

    @Override
    public void close() {
        opened.values().forEach(NetNamespace::close);
        opened.clear();
        clients.clear();
    }
}

package dev.netnstoolkit.samples.spring;

import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.publisher.Flux;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The toolkit in a Spring app: one {@link Netns}, the namespaces, a namespaced WebClient, the servers. */
@Configuration(proxyBeanMethods = false)
class NetnsConfiguration {

    /** Open handles to the configured namespaces, created if asked; what was created is deleted on close. */
    static final class NamespaceHandles implements AutoCloseable {
        private final Map<String, NetNamespace> byName = new LinkedHashMap<>();
        private final List<String> created = new ArrayList<>();

        NamespaceHandles(NtkProperties props) {
            NamespaceRegistry registry = NamespaceRegistry.system();
            List<String> names = new ArrayList<>(props.serveNamespaces());
            if (!names.contains(props.clientNamespace())) {
                names.add(props.clientNamespace());
            }
            try {
                for (String name : names) {
                    try {
                        byName.put(name, registry.open(name));
                    } catch (NamespaceNotFoundException e) {
                        if (!props.createNamespaces()) {
                            throw e;
                        }
                        byName.put(name, registry.create(name));
                        created.add(name);
                    }
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        NetNamespace get(String name) {
            return byName.get(name);
        }

        @Override
        public void close() {
            byName.values().forEach(NetNamespace::close);
            byName.clear();
            for (String name : created) {
                NamespaceRegistry.system().delete(name);
            }
            created.clear();
        }
    }

    @Bean(destroyMethod = "close")
    NamespaceHandles namespaceHandles(NtkProperties props) {
        return new NamespaceHandles(props);
    }

    @Bean(destroyMethod = "disposeNow")
    Netns netns(MeterRegistry meterRegistry) {
        // Created here, on the thread starting the context: at home, as the toolkit requires.
        return Netns.builder().meterRegistry(meterRegistry).build();
    }

    /** A WebClient whose requests go out of {@code ntk.client-namespace}. */
    @Bean
    WebClient namespacedWebClient(Netns netns, NamespaceHandles handles, NtkProperties props) {
        return WebClient.builder()
                .clientConnector(new ReactorClientHttpConnector(netns.httpClient(handles.get(props.clientNamespace()))))
                .build();
    }

    /** The application's WebFlux endpoints, bound in every {@code ntk.serve-namespaces} namespace. */
    @Bean(destroyMethod = "close")
    NamespacedServers namespacedServers(Netns netns, NamespaceHandles handles, NtkProperties props, ApplicationContext context) {
        HttpHandler handler = WebHttpHandlerBuilder.applicationContext(context).build();
        List<DisposableServer> servers = netns.bind(Flux.fromIterable(props.serveNamespaces()).map(handles::get), HttpServer.create().port(props.servePort()).handle(new ReactorHttpHandlerAdapter(handler)))
                .collectList().block(Duration.ofSeconds(30));
        return new NamespacedServers(servers);
    }

    record NamespacedServers(List<DisposableServer> servers) implements AutoCloseable {
        @Override
        public void close() {
            servers.forEach(DisposableServer::disposeNow);
        }
    }
}

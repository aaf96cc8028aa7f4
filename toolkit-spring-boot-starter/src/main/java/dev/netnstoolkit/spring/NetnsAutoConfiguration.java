package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.web.reactive.config.WebFluxConfigurer;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.result.method.annotation.ArgumentResolverConfigurer;

import java.time.Duration;

/**
 * Auto-configuration of the Netns Toolkit for Spring Boot WebFlux applications: a {@link Netns} bean
 * with the context's {@link MeterRegistry}; the configured namespaces opened (or created); the
 * application's handler served in {@code ntk.server.namespaces}; the auto-configured
 * {@code WebClient.Builder} sending from {@code ntk.client.namespace}; {@link NetnsWebClients} for any
 * other; a request's namespace as an exchange attribute and a {@link NamespaceName} argument; actuator
 * health ({@code netns}) and endpoint ({@code /actuator/netns}). See {@link NetnsProperties}.
 */
@AutoConfiguration(beforeName = {
        "org.springframework.boot.reactor.netty.autoconfigure.NettyReactiveWebServerAutoConfiguration",
        "org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration"})
@ConditionalOnClass(Netns.class)
@EnableConfigurationProperties(NetnsProperties.class)
public class NetnsAutoConfiguration {

    /** The namespaces the configuration names, opened (or created) at start-up, closed (and removed if asked) at stop. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    ConfiguredNamespaces netnsConfiguredNamespaces(NetnsProperties props) {
        return new ConfiguredNamespaces(props);
    }

    /** The toolkit: its event loops, scheduler and per-namespace clients; disposed (waiting) at stop. */
    @Bean(destroyMethod = "disposeNow")
    @ConditionalOnMissingBean
    Netns netns(NetnsProperties props, ObjectProvider<MeterRegistry> meterRegistry) {
        try {
            Netns.Builder b = Netns.builder().loopThreads(props.getLoopThreads()).dedicatedThreads(props.getDedicatedThreads())
                    .maxConnectionsPerNamespace(props.getMaxConnectionsPerNamespace())
                    .pendingAcquiresPerNamespace(props.getPendingAcquiresPerNamespace()).namePrefix(props.getNamePrefix());
            MeterRegistry registry = meterRegistry.getIfAvailable();
            return registry != null ? b.meterRegistry(registry).build() : b.build();
        } catch (NamespacePermissionException e) {
            throw new NetnsStartupException("ntk (the toolkit)", e, "Run the application with " + e.missingCapability()
                    + " (as root, or with AmbientCapabilities=CAP_SYS_ADMIN); see the toolkit's SECURITY.md.");
        } catch (IllegalArgumentException e) {
            throw new NetnsStartupException("ntk.*", e, "Correct the property named in the message.");
        }
    }

    /** A WebClient per namespace. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    NetnsWebClients netnsWebClients(Netns netns, ConfiguredNamespaces namespaces, ObjectProvider<WebClient.Builder> builders) {
        return new NetnsWebClients(netns, namespaces, () -> {
            WebClient.Builder b = builders.getIfAvailable();
            return b != null ? b : WebClient.builder();
        });
    }

    /** {@code ntk.client.namespace}: the auto-configured WebClient.Builder sends from inside it (applied last). */
    @Bean
    @ConditionalOnClass(WebClientCustomizer.class)
    @ConditionalOnProperty("ntk.client.namespace")
    @Order(Ordered.LOWEST_PRECEDENCE)
    WebClientCustomizer netnsClientNamespaceCustomizer(Netns netns, ConfiguredNamespaces namespaces, NetnsProperties props) {
        NetNamespace ns = namespaces.get(props.getClient().getNamespace());
        return builder -> builder.clientConnector(new ReactorClientHttpConnector(netns.httpClient(ns)));
    }

    /** The servers, the request's namespace, {@code ntk.server.host=false}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    static class Server {

        /** {@code ntk.server.namespaces}: the application's handler served in each, with Boot's web server. */
        @Bean
        @ConditionalOnExpression("!'${ntk.server.namespaces:}'.isEmpty()")
        NamespacedWebServers netnsWebServers(Netns netns, ConfiguredNamespaces namespaces, NetnsProperties props,
                                             Environment env, ObjectProvider<HttpHandler> handler) {
            int port = props.getServer().getPort() != null ? props.getServer().getPort()
                    : env.getProperty("server.port", Integer.class, 8080);
            if (port < 0 || port > 65_535) {
                throw new NetnsStartupException("ntk.server.port=" + port, new IllegalArgumentException("not a port number"),
                        "Give a port from 0 to 65535 (0: any free port in each namespace).");
            }
            Duration timeout = env.getProperty("spring.lifecycle.timeout-per-shutdown-phase", Duration.class, Duration.ofSeconds(30));
            return new NamespacedWebServers(netns, namespaces, props.getServer().getNamespaces(), port, handler, timeout);
        }

        /** {@code ntk.server.host=false}: Boot's own server listens nowhere. */
        @Bean
        @ConditionalOnBooleanProperty(name = "ntk.server.host", havingValue = false)
        NoHostWebServerFactory netnsNoHostWebServerFactory() {
            return new NoHostWebServerFactory();
        }

        /** The request's namespace as the exchange attribute {@link NamespaceWebFilter#NAMESPACE_ATTRIBUTE}. */
        @Bean
        @ConditionalOnMissingBean
        NamespaceWebFilter netnsNamespaceWebFilter() {
            return new NamespaceWebFilter();
        }

        /** {@link NamespaceName} parameters of handler methods. */
        @Bean
        WebFluxConfigurer netnsNamespaceNameArguments() {
            return new WebFluxConfigurer() {
                @Override
                public void configureArgumentResolvers(ArgumentResolverConfigurer configurer) {
                    configurer.addCustomResolver(new NamespaceNameArgumentResolver());
                }
            };
        }
    }

    /** Actuator: the health indicator and the endpoint. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class Actuator {

        @Bean
        @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
        @ConditionalOnEnabledHealthIndicator("netns")
        NetnsHealthIndicator netnsHealthIndicator(ConfiguredNamespaces namespaces) {
            return new NetnsHealthIndicator(namespaces);
        }

        @Bean
        @ConditionalOnAvailableEndpoint
        NetnsEndpoint netnsEndpoint(Netns netns, ConfiguredNamespaces namespaces, ObjectProvider<NamespacedWebServers> servers,
                                    NetnsProperties props) {
            return new NetnsEndpoint(netns, namespaces, servers, props);
        }
    }
}

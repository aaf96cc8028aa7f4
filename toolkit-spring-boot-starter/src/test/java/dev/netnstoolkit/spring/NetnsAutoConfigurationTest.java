package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Every property and condition of the auto-configuration, in a reactive web context without a server. */
@ExtendWith(Privilege.class)
class NetnsAutoConfigurationTest {

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(NetnsAutoConfiguration.class, WebClientAutoConfiguration.class));

    /** A handler that answers with the namespace the request arrived in. */
    @Configuration(proxyBeanMethods = false)
    static class Handler {
        @Bean
        HttpHandler httpHandler() {
            return (req, res) -> {
                String ns = req instanceof org.springframework.http.server.reactive.AbstractServerHttpRequest a
                        && a.getNativeRequest() instanceof reactor.netty.http.server.HttpServerRequest n
                        && Netns.namespaceOf(n) != null ? Netns.namespaceOf(n).label() : "host";
                return res.writeWith(Mono.just(res.bufferFactory().wrap(ns.getBytes(StandardCharsets.UTF_8))));
            };
        }
    }

    @Test
    void defaultsGiveANetnsAndWebClientsAndServeNothing() {
        runner.run(ctx -> {
            assertThat(ctx).hasSingleBean(Netns.class).hasSingleBean(NetnsWebClients.class).hasSingleBean(NamespaceWebFilter.class)
                    .doesNotHaveBean(NamespacedWebServers.class).doesNotHaveBean(NoHostWebServerFactory.class)
                    .doesNotHaveBean(WebClientCustomizer.class);
            assertThat(ctx.getBean(ConfiguredNamespaces.class).all()).isEmpty();
        });
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void theContextsMeterRegistryGetsTheToolkitsMeters() {
        String a = netns.create().name().orElseThrow();
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("ntk.client.namespace=" + a)
                .run(ctx -> {
                    Netns toolkit = ctx.getBean(Netns.class);
                    toolkit.scheduler().call(ctx.getBean(ConfiguredNamespaces.class).get(a), () -> 1).block(Duration.ofSeconds(10));
                    assertThat(ctx.getBean(MeterRegistry.class).get("ntk.namespace.tasks").tag("namespace", a).counter().count()).isOne();
                });
    }

    @Test
    void serverNamespacesServeTheHandlerInEachOnThePortAndTheRequestKnowsItsNamespace() {
        String a = netns.create().name().orElseThrow();
        String b = netns.create().name().orElseThrow();
        runner.withUserConfiguration(Handler.class)
                .withPropertyValues("ntk.server.namespaces=" + a + "," + b, "ntk.server.port=18950")
                .run(ctx -> {
                    assertThat(ctx).hasSingleBean(NamespacedWebServers.class);
                    assertThat(ctx.getBean(NamespacedWebServers.class).served()).containsEntry(a, 18950).containsEntry(b, 18950);
                    NetnsWebClients clients = ctx.getBean(NetnsWebClients.class);
                    for (String ns : new String[]{a, b}) {
                        assertThat(clients.webClient(ns).get().uri("http://127.0.0.1:18950/").retrieve().bodyToMono(String.class)
                                .block(Duration.ofSeconds(10))).isEqualTo(ns);
                    }
                });
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void serverPortDefaultsToServerPort() {
        String a = netns.create().name().orElseThrow();
        runner.withUserConfiguration(Handler.class)
                .withPropertyValues("ntk.server.namespaces=" + a, "server.port=18951")
                .run(ctx -> assertThat(ctx.getBean(NamespacedWebServers.class).served()).containsEntry(a, 18951));
    }

    @Test
    void hostFalseReplacesBootsServerWithOneThatListensNowhere() {
        runner.withPropertyValues("ntk.server.host=false")
                .run(ctx -> assertThat(ctx).hasSingleBean(NoHostWebServerFactory.class));
    }

    @Test
    void clientNamespaceMakesTheAutoConfiguredWebClientSendFromInsideIt() {
        String a = netns.create().name().orElseThrow();
        runner.withUserConfiguration(Handler.class)
                .withPropertyValues("ntk.client.namespace=" + a, "ntk.server.namespaces=" + a, "ntk.server.port=18952")
                .run(ctx -> {
                    assertThat(ctx).hasBean("netnsClientNamespaceCustomizer");
                    WebClient web = ctx.getBean(WebClient.Builder.class).build();
                    assertThat(web.get().uri("http://127.0.0.1:18952/").retrieve().bodyToMono(String.class)
                            .block(Duration.ofSeconds(10))).isEqualTo(a);
                });
    }

    @Test
    void aMissingNamespaceFailsStartupNamingThePropertyAndWhatToDo() {
        String missing = netns.newName();
        runner.withPropertyValues("ntk.server.namespaces=" + missing).run(ctx -> {
            assertThat(ctx).hasFailed();
            Throwable root = ctx.getStartupFailure();
            NetnsStartupException e = findCause(root, NetnsStartupException.class);
            assertThat(e.getMessage()).startsWith("ntk.server.namespaces[0]=" + missing + ": no such namespace");
            FailureAnalysis analysis = new NetnsFailureAnalyzer().analyze(root);
            assertThat(analysis.getDescription()).isEqualTo(e.getMessage());
            assertThat(analysis.getAction()).contains("ntk.namespaces.create-missing=true");
        });
        assertThat(NamespaceRegistry.system().list()).doesNotContain(missing);
    }

    @Test
    void createMissingCreatesAndRemoveOnStopRemovesOnlyWhatTheAppCreated() {
        String existing = netns.create().name().orElseThrow();
        String fresh = netns.newName();
        runner.withUserConfiguration(Handler.class)
                .withPropertyValues("ntk.server.namespaces=" + existing + "," + fresh, "ntk.namespaces.create-missing=true",
                        "ntk.namespaces.remove-on-stop=true", "ntk.server.port=18953")
                .run(ctx -> {
                    assertThat(ctx.getBean(ConfiguredNamespaces.class).created()).containsExactly(fresh);
                    assertThat(NamespaceRegistry.system().list()).contains(existing, fresh);
                });
        assertThat(NamespaceRegistry.system().list()).contains(existing).doesNotContain(fresh);
        String kept = netns.newName();
        runner.withPropertyValues("ntk.client.namespace=" + kept, "ntk.namespaces.create-missing=true").run(ctx -> { });
        assertThat(NamespaceRegistry.system().list()).as("created but remove-on-stop is off").contains(kept);
    }

    @Test
    void badToolkitPropertiesFailStartupNamingThem() {
        runner.withPropertyValues("ntk.loop-threads=0").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(findCause(ctx.getStartupFailure(), NetnsStartupException.class).getMessage())
                    .contains("loopThreads must be 1 to 256, not 0");
        });
    }

    @Test
    void healthIsUpWhileTheNamespacesAreThereAndDownOnceOneIsGone() {
        String a = netns.create().name().orElseThrow();
        runner.withPropertyValues("ntk.client.namespace=" + a).run(ctx -> {
            NetnsHealthIndicator health = new NetnsHealthIndicator(ctx.getBean(ConfiguredNamespaces.class));
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);
            NamespaceRegistry.system().delete(a);
            Health down = health.health();
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails().get("missing").toString()).contains(a);
        });
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t);
    }
}

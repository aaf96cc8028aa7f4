package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A WebFlux application with only the starter and properties: served in three namespaces and on the
 * host, its WebClient sending from the client namespace (one of the three), the request's namespace
 * injected with {@link NamespaceName}, the actuator's health and endpoint.
 */
@ExtendWith(Privilege.class)
@SpringBootTest(classes = ThreeNamespacesApplicationTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"ntk.server.port=18960", "management.endpoints.web.exposure.include=health,netns",
                "management.endpoint.health.show-details=always"})
class ThreeNamespacesApplicationTest {

    static final TempNamespaces NETNS = new TempNamespaces();
    static List<String> names;

    @DynamicPropertySource
    static void namespaces(DynamicPropertyRegistry registry) {
        Privilege.require();
        names = NETNS.create(3).stream().map(ns -> ns.name().orElseThrow()).toList();
        registry.add("ntk.server.namespaces", () -> String.join(",", names));
        registry.add("ntk.client.namespace", () -> names.get(0));
    }

    @AfterAll
    static void cleanUp() {
        NETNS.cleanUp();
    }

    @SpringBootApplication
    @RestController
    static class App {
        private final WebClient web;

        App(WebClient.Builder builder) {
            this.web = builder.build();
        }

        @GetMapping("/whoami")
        String whoami(@NamespaceName String namespace) {
            return namespace != null ? namespace : "host";
        }

        @GetMapping("/relay")
        Mono<String> relay(@RequestParam("url") String url) {
            return web.get().uri(url).retrieve().bodyToMono(String.class);
        }
    }

    @Autowired
    NetnsWebClients clients;

    @LocalServerPort
    int hostPort;

    @Test
    void servedInThreeNamespacesAndOnTheHostAndRelayedThroughTheClientNamespace() {
        for (String ns : names) {
            assertThat(clients.webClient(ns).get().uri("http://127.0.0.1:18960/whoami").retrieve().bodyToMono(String.class)
                    .block(Duration.ofSeconds(10))).isEqualTo(ns);
        }
        WebClient host = WebClient.create("http://127.0.0.1:" + hostPort);
        assertThat(host.get().uri("/whoami").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10))).isEqualTo("host");
        // relayed from the host listener: the app's WebClient sends from inside the client namespace
        assertThat(host.get().uri(u -> u.path("/relay").queryParam("url", "http://127.0.0.1:18960/whoami").build())
                .retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10))).isEqualTo(names.get(0));
        String health = host.get().uri("/actuator/health/netns").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        assertThat(health).contains("\"status\":\"UP\"");
        String endpoint = host.get().uri("/actuator/netns").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        assertThat(endpoint).contains("\"served\":{").contains(names.get(1)).contains("18960").contains("\"clientNamespace\":\"" + names.get(0));
        assertThat(NamespaceRegistry.system().list()).containsAll(names);
        Invariants.assertAllThreadsAtHome();
    }
}

package dev.netnstoolkit.samples.spring;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.web.reactive.function.client.WebClient;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A request made from namespace A reaches the server in A, not the one in B; metrics carry the namespace tag. */
@ExtendWith(Privilege.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "ntk.server.namespaces=" + NetnsWebfluxApplicationTest.A + "," + NetnsWebfluxApplicationTest.B,
        "ntk.client.namespace=" + NetnsWebfluxApplicationTest.A,
        "ntk.server.port=18280",
        "ntk.namespaces.create-missing=true",
        "ntk.namespaces.remove-on-stop=true"})
class NetnsWebfluxApplicationTest {

    static final String PREFIX = "ntk-test-spring-";
    static final String A = PREFIX + "a";
    static final String B = PREFIX + "b";

    @Autowired
    WebClient.Builder builder;

    @LocalServerPort
    int hostPort;

    @Test
    void aRequestFromNamespaceAReachesTheServerInA() {
        String answer = builder.build().get().uri("http://127.0.0.1:18280/whoami").retrieve().bodyToMono(String.class)
                .block(Duration.ofSeconds(10));
        assertThat(answer).isEqualTo(A);
        // the same URL relayed through the app from the host: still leaves from A
        String relayed = WebClient.create("http://127.0.0.1:" + hostPort).get()
                .uri(u -> u.path("/relay").queryParam("url", "http://127.0.0.1:18280/whoami").build())
                .retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        assertThat(relayed).isEqualTo(A);
        // Boot's own server on the host answers "host"
        assertThat(WebClient.create("http://127.0.0.1:" + hostPort).get().uri("/whoami").retrieve().bodyToMono(String.class)
                .block(Duration.ofSeconds(10))).isEqualTo("host");
        assertThat(NamespaceRegistry.system().list()).contains(A, B);
        Invariants.assertAllThreadsAtHome();
    }

    @Test
    void actuatorMetricsShowTheNamespaceTag() {
        builder.build().get().uri("http://127.0.0.1:18280/whoami").retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        String metric = WebClient.create("http://127.0.0.1:" + hostPort).get().uri("/actuator/metrics/ntk.namespace.tasks")
                .retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10));
        assertThat(metric).contains("\"tag\":\"namespace\"").contains(A).contains(B);
    }

    @Test
    void theAppRemovesTheNamespacesItCreatedWhenItStops() {
        String c = PREFIX + "c";
        org.springframework.context.ConfigurableApplicationContext app = new org.springframework.boot.SpringApplication(NetnsWebfluxApplication.class)
                .run("--server.port=0", "--ntk.server.namespaces=" + c, "--ntk.client.namespace=" + c, "--ntk.server.port=18281");
        try {
            assertThat(NamespaceRegistry.system().list()).contains(c);
        } finally {
            app.close();
        }
        Invariants.assertNoNamespacesLeft(c);
        Invariants.assertAllThreadsAtHome();
    }
}

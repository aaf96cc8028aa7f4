package dev.netnstoolkit.samples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot WebFlux application that serves its endpoints from several network namespaces at once
 * and whose {@code WebClient} sends requests from a configured namespace: only the toolkit's starter
 * and its properties (application.yml, {@code ntk.*}), no configuration class. Run as root:
 * {@code java -jar samples/spring-webflux/target/spring-webflux-sample-0.2.0.jar}.
 */
@SpringBootApplication
public class NetnsWebfluxApplication {

    public static void main(String[] args) {
        SpringApplication.run(NetnsWebfluxApplication.class, args);
    }
}

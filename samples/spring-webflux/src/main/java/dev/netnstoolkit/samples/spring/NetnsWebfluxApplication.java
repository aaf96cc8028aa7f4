package dev.netnstoolkit.samples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A Spring Boot WebFlux application that serves its endpoints from several network namespaces at once
 * and whose {@code WebClient} sends requests from a configured namespace (application.yml, {@code ntk.*}).
 * Run as root: {@code java -jar samples/spring-webflux/target/spring-webflux-sample-0.1.0-SNAPSHOT.jar}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class NetnsWebfluxApplication {

    public static void main(String[] args) {
        SpringApplication.run(NetnsWebfluxApplication.class, args);
    }
}

package dev.netnstoolkit.samples.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.List;

/**
 * {@code ntk.*} in application.yml.
 *
 * @param serveNamespaces namespaces to serve the WebFlux endpoints in
 * @param servePort the port in each of them
 * @param clientNamespace the namespace the WebClient's requests go out of
 * @param createNamespaces create missing namespaces at start, delete those at shutdown
 */
@ConfigurationProperties("ntk")
public record NtkProperties(List<String> serveNamespaces, int servePort, String clientNamespace, boolean createNamespaces) {
}

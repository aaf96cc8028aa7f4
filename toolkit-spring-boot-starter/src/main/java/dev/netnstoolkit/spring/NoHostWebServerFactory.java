package dev.netnstoolkit.spring;

import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.reactive.ReactiveWebServerFactory;
import org.springframework.http.server.reactive.HttpHandler;

/** {@code ntk.server.host=false}: Boot's web server listens nowhere; the handler is served only in namespaces. */
final class NoHostWebServerFactory implements ReactiveWebServerFactory {

    @Override
    public WebServer getWebServer(HttpHandler httpHandler) {
        return new WebServer() {
            @Override
            public void start() {
                // nothing listens on the host
            }

            @Override
            public void stop() {
                // nothing to stop
            }

            @Override
            public int getPort() {
                return -1;
            }
        };
    }
}

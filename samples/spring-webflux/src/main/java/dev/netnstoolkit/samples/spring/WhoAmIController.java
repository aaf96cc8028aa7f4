package dev.netnstoolkit.samples.spring;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import org.springframework.http.server.reactive.AbstractServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

/** Endpoints that say which namespace a request arrived in, and relay a request out of the client namespace. */
@RestController
class WhoAmIController {

    private final WebClient namespacedWebClient;

    WhoAmIController(WebClient namespacedWebClient) {
        this.namespacedWebClient = namespacedWebClient;
    }

    /** The namespace this request arrived in ("host" for Boot's own server). */
    @GetMapping("/whoami")
    String whoami(ServerWebExchange exchange) {
        if (exchange.getRequest() instanceof AbstractServerHttpRequest req
                && req.getNativeRequest() instanceof HttpServerRequest nettyRequest) {
            NetNamespace ns = Netns.namespaceOf(nettyRequest);
            return ns != null ? ns.label() : "host";
        }
        return "host";
    }

    /** GETs {@code url} with the namespaced WebClient: the request leaves from {@code ntk.client-namespace}. */
    @GetMapping("/relay")
    Mono<String> relay(@RequestParam String url) {
        return namespacedWebClient.get().uri(url).retrieve().bodyToMono(String.class);
    }
}

package dev.netnstoolkit.samples.spring;

import dev.netnstoolkit.spring.NamespaceName;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/** The same endpoints in every namespace: which one a request arrived in, and a relay out of ntk.client.namespace. */
@RestController
class WhoAmIController {

    private final WebClient web;

    /** The auto-configured builder: with ntk.client.namespace set, it sends from inside that namespace. */
    WhoAmIController(WebClient.Builder builder) {
        this.web = builder.build();
    }

    /** The namespace this request arrived in ("host" for Boot's own server). */
    @GetMapping("/whoami")
    String whoami(@NamespaceName String namespace) {
        return namespace != null ? namespace : "host";
    }

    /** GETs {@code url} from inside {@code ntk.client.namespace}. */
    @GetMapping("/relay")
    Mono<String> relay(@RequestParam("url") String url) {
        return web.get().uri(url).retrieve().bodyToMono(String.class);
    }
}

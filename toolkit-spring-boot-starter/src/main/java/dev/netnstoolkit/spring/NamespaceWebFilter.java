package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import org.springframework.http.server.reactive.AbstractServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

/**
 * Puts the namespace a request arrived in (its name) into the exchange attribute
 * {@link #NAMESPACE_ATTRIBUTE}; absent when it arrived on the host listener.
 */
public final class NamespaceWebFilter implements WebFilter {

    /** The exchange attribute: the name (label) of the namespace the request arrived in. */
    public static final String NAMESPACE_ATTRIBUTE = "dev.netnstoolkit.namespace";

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String ns = namespaceOf(exchange);
        if (ns != null) {
            exchange.getAttributes().put(NAMESPACE_ATTRIBUTE, ns);
        }
        return chain.filter(exchange);
    }

    static String namespaceOf(ServerWebExchange exchange) {
        if (exchange.getRequest() instanceof AbstractServerHttpRequest req
                && req.getNativeRequest() instanceof HttpServerRequest nettyRequest) {
            NetNamespace ns = Netns.namespaceOf(nettyRequest);
            return ns != null ? ns.label() : null;
        }
        return null;
    }
}

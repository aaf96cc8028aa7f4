package dev.netnstoolkit.spring;

import org.springframework.core.MethodParameter;
import org.springframework.web.reactive.BindingContext;
import org.springframework.web.reactive.result.method.HandlerMethodArgumentResolver;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Resolves {@link NamespaceName} parameters from the request's namespace. */
final class NamespaceNameArgumentResolver implements HandlerMethodArgumentResolver {

    @Override
    public boolean supportsParameter(MethodParameter parameter) {
        return parameter.hasParameterAnnotation(NamespaceName.class) && parameter.getParameterType() == String.class;
    }

    @Override
    public Mono<Object> resolveArgument(MethodParameter parameter, BindingContext bindingContext, ServerWebExchange exchange) {
        Object name = exchange.getAttribute(NamespaceWebFilter.NAMESPACE_ATTRIBUTE);
        if (name == null) {
            name = NamespaceWebFilter.namespaceOf(exchange);
        }
        return Mono.justOrEmpty(name);
    }
}

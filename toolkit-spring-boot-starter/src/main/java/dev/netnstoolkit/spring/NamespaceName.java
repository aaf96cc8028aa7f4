package dev.netnstoolkit.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@code String} parameter of a WebFlux handler method: the name of the namespace the request
 * arrived in, or {@code null} when it arrived on the host listener.
 *
 * <pre>{@code
 * @GetMapping("/whoami")
 * String whoami(@NamespaceName String namespace) { return namespace != null ? namespace : "host"; }
 * }</pre>
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface NamespaceName {
}

package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code /actuator/health/netns}: UP while every configured namespace is still there under its name
 * (and is the one the application opened), and no thread of the JVM is outside its home namespace.
 */
public final class NetnsHealthIndicator implements HealthIndicator {

    private final ConfiguredNamespaces namespaces;

    NetnsHealthIndicator(ConfiguredNamespaces namespaces) {
        this.namespaces = namespaces;
    }

    @Override
    public Health health() {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, NetNamespace> e : namespaces.all().entrySet()) {
            try (NetNamespace now = NamespaceRegistry.system().open(e.getKey())) {
                if (!now.id().equals(e.getValue().id())) {
                    missing.add(e.getKey() + " (re-created: not the namespace the application serves in)");
                }
            } catch (NamespaceException gone) {
                missing.add(e.getKey() + " (" + gone.getMessage() + ")");
            }
        }
        List<String> away = ProcessAudit.threadsAwayFromHome();
        Health.Builder health = missing.isEmpty() && away.isEmpty() ? Health.up() : Health.down();
        return health.withDetail("namespaces", namespaces.all().keySet())
                .withDetail("missing", missing)
                .withDetail("threadsOutsideHome", away)
                .build();
    }
}

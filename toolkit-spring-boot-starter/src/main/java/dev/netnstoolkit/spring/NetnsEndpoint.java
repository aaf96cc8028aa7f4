package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /actuator/netns}: what is served where, which namespace the clients send from, the toolkit's threads. */
@Endpoint(id = "netns")
public class NetnsEndpoint {

    private final Netns netns;
    private final ConfiguredNamespaces namespaces;
    private final ObjectProvider<NamespacedWebServers> servers;
    private final NetnsProperties props;

    NetnsEndpoint(Netns netns, ConfiguredNamespaces namespaces, ObjectProvider<NamespacedWebServers> servers, NetnsProperties props) {
        this.netns = netns;
        this.namespaces = namespaces;
        this.servers = servers;
        this.props = props;
    }

    @ReadOperation
    public Map<String, Object> netns() {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> spaces = new LinkedHashMap<>();
        for (Map.Entry<String, NetNamespace> e : namespaces.all().entrySet()) {
            spaces.put(e.getKey(), Map.of("id", e.getValue().id().toString(), "path", e.getValue().path()));
        }
        out.put("namespaces", spaces);
        NamespacedWebServers s = servers.getIfAvailable();
        out.put("served", s != null ? s.served() : Map.of());
        out.put("hostListener", props.getServer().isHost());
        out.put("clientNamespace", props.getClient().getNamespace() != null ? props.getClient().getNamespace() : "host");
        out.put("created", namespaces.created());
        out.put("eventLoops", netns.eventLoops());
        out.put("threadsOutsideHome", ProcessAudit.threadsAwayFromHome());
        return out;
    }
}

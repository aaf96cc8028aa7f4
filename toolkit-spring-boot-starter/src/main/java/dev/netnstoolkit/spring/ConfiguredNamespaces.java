package dev.netnstoolkit.spring;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Handles to every namespace the configuration names ({@code ntk.server.namespaces},
 * {@code ntk.client.namespace}), opened at start-up; created first if {@code ntk.namespaces.create-missing}
 * is set. On close, the handles are closed and, with {@code ntk.namespaces.remove-on-stop}, the namespaces
 * this application created are deleted: never one it found.
 */
public final class ConfiguredNamespaces implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ConfiguredNamespaces.class.getName());

    private final Map<String, NetNamespace> byName = new LinkedHashMap<>();
    private final List<String> created = new ArrayList<>();
    private final boolean removeOnStop;

    ConfiguredNamespaces(NetnsProperties props) {
        this.removeOnStop = props.getNamespaces().isRemoveOnStop();
        NamespaceRegistry registry = NamespaceRegistry.system();
        Map<String, String> wanted = new LinkedHashMap<>();
        List<String> serve = props.getServer().getNamespaces();
        for (int i = 0; i < serve.size(); i++) {
            wanted.putIfAbsent(serve.get(i), "ntk.server.namespaces[" + i + "]=" + serve.get(i));
        }
        String client = props.getClient().getNamespace();
        if (client != null && !client.isBlank()) {
            wanted.putIfAbsent(client, "ntk.client.namespace=" + client);
        }
        try {
            wanted.forEach((name, property) -> byName.put(name, openOrCreate(registry, name, property, props)));
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private NetNamespace openOrCreate(NamespaceRegistry registry, String name, String property, NetnsProperties props) {
        try {
            return registry.open(name);
        } catch (NamespaceNotFoundException missing) {
            if (!props.getNamespaces().isCreateMissing()) {
                throw new NetnsStartupException(property, missing, "Create it (ip netns add " + name
                        + "), or set ntk.namespaces.create-missing=true to let the application create it.");
            }
        } catch (NamespaceException e) {
            throw new NetnsStartupException(property, e, "Check that " + name + " is a network namespace under "
                    + NamespaceRegistry.runDir() + " that this process may open.");
        }
        try {
            NetNamespace ns = registry.create(name);
            created.add(name);
            return ns;
        } catch (NamespaceException e) {
            throw new NetnsStartupException(property, e, "Run the application with CAP_SYS_ADMIN to create " + name
                    + ", or create it beforehand (ip netns add " + name + ").");
        }
    }

    /** The handle of a configured namespace, or null. */
    public NetNamespace get(String name) {
        return byName.get(name);
    }

    /** The configured namespaces, by name. */
    public Map<String, NetNamespace> all() {
        return Collections.unmodifiableMap(byName);
    }

    /** Those the application created (ntk.namespaces.create-missing). */
    public List<String> created() {
        return List.copyOf(created);
    }

    @Override
    public void close() {
        byName.values().forEach(NetNamespace::close);
        byName.clear();
        if (removeOnStop) {
            for (String name : created) {
                try {
                    NamespaceRegistry.system().delete(name);
                } catch (NamespaceException e) {
                    LOG.log(System.Logger.Level.WARNING, "ntk: could not remove namespace " + name + ": " + e.getMessage());
                }
            }
        }
        created.clear();
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;

import java.util.ArrayList;
import java.util.List;

/** The namespaces a scenario creates, removed on close and by a shutdown hook (Ctrl-C) whatever happens. */
public final class TempSpaces implements AutoCloseable {

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String prefix;
    private final List<NetNamespace> handles = new ArrayList<>();
    private final Thread hook = new Thread(this::removeAll, "ntk-scenario-cleanup");

    TempSpaces(String scenario) {
        this.prefix = "ntk-" + scenario + "-" + ProcessHandle.current().pid() + "-";
        Runtime.getRuntime().addShutdownHook(hook);
    }

    NetNamespace create(String suffix) {
        NetNamespace ns = registry.create(prefix + suffix);
        synchronized (handles) {
            handles.add(ns);
        }
        return ns;
    }

    List<NetNamespace> create(int n) {
        List<NetNamespace> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(create(Integer.toString(i)));
        }
        return list;
    }

    private void removeAll() {
        synchronized (handles) {
            handles.forEach(NetNamespace::close);
            handles.clear();
        }
        deleteAll(prefix, "ntk scenario");
    }

    /**
     * Deletes every name in /run/netns starting with {@code prefix}, going on past failures, each told on
     * stderr as {@code who: could not remove NAME: why}. The samples' one clean-up by prefix.
     */
    public static void deleteAll(String prefix, String who) {
        NamespaceRegistry registry = NamespaceRegistry.system();
        for (String name : registry.list()) {
            if (name.startsWith(prefix)) {
                try {
                    registry.delete(name);
                } catch (NamespaceException e) {
                    System.err.println(who + ": could not remove " + name + ": " + e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() {
        removeAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running this
        }
    }
}

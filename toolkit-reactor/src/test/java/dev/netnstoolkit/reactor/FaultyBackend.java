package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.Namespaces;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.spi.NamespaceBackend;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real backend with an injectable fault: while {@link #failSwitchesHome} is positive, each switch
 * back home (setns to the target "home") fails with EINVAL without switching, and counts down.
 */
final class FaultyBackend implements NamespaceBackend {

    final AtomicInteger failSwitchesHome = new AtomicInteger();
    private final NamespaceBackend real = Namespaces.system().backend();

    @Override
    public void setns(int fd, String target) {
        if ("home".equals(target) && failSwitchesHome.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new NamespaceSwitchException("injected: setns(home) failed", "setns", 22, target, null);
        }
        real.setns(fd, target);
    }

    @Override
    public NetNamespace open(String path, String name) {
        return real.open(path, name);
    }

    @Override
    public NetNamespace create(String name, CreateOptions options) {
        return real.create(name, options);
    }

    @Override
    public void delete(String name) {
        real.delete(name);
    }

    @Override
    public NamespaceId idOf(String path) {
        return real.idOf(path);
    }

    @Override
    public NamespaceId homeId() {
        return real.homeId();
    }

    @Override
    public NamespaceId threadId() {
        return real.threadId();
    }

    @Override
    public long spawn(NetNamespace ns, List<String> argv, Map<String, String> env) {
        return real.spawn(ns, argv, env);
    }

    @Override
    public int waitFor(long pid) {
        return real.waitFor(pid);
    }
}

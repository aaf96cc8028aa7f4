package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.spi.ForwardingNamespaceBackend;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real backend with an injectable fault: while {@link #failSwitchesHome} is positive, each switch
 * back home (setns to the target "home") fails with EINVAL without switching, and counts down.
 */
final class FaultyBackend extends ForwardingNamespaceBackend {

    final AtomicInteger failSwitchesHome = new AtomicInteger();

    FaultyBackend() {
        super(NamespaceRegistry.system().backend());
    }

    @Override
    public void setns(int fd, String target) {
        if ("home".equals(target) && failSwitchesHome.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new NamespaceSwitchException("injected: setns(home) failed", "setns", 22, target, null);
        }
        super.setns(fd, target);
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.spi.ForwardingNamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The real backend with injectable faults of the switch back home (setns to the target "home"), which
 * fail with EINVAL without switching: {@link #failSwitchesHome} fails that many and counts down;
 * {@link #failForeverOn} fails every one on the threads it matches; {@link #failOneIn} N fails one in N
 * at random (0: none), sparing each thread's first (its adoption when it starts: a thread that cannot
 * start is another fault).
 */
final class FaultyBackend extends ForwardingNamespaceBackend {

    final AtomicInteger failSwitchesHome = new AtomicInteger();
    final AtomicReference<Predicate<Thread>> failForeverOn = new AtomicReference<>(t -> false);
    final AtomicInteger failOneIn = new AtomicInteger();
    final AtomicInteger injected = new AtomicInteger();
    private final ThreadLocal<Boolean> switchedHomeBefore = ThreadLocal.withInitial(() -> false);

    FaultyBackend() {
        super(NamespaceBackend.load());
    }

    /** A switch over this backend, for a scheduler or toolkit under test. */
    NamespaceSwitch asSwitch() {
        return NamespaceSwitch.using(this);
    }

    @Override
    public void setns(NamespaceFd.Lease ns, String target) {
        if ("home".equals(target) && (failForeverOn.get().test(Thread.currentThread())
                || failSwitchesHome.getAndUpdate(n -> Math.max(0, n - 1)) > 0
                || failOneIn.get() > 0 && switchedHomeBefore.get() && ThreadLocalRandom.current().nextInt(failOneIn.get()) == 0)) {
            injected.incrementAndGet();
            throw new NamespaceSwitchException("injected: setns(home) failed", "setns", 22, target, null);
        }
        super.setns(ns, target);
        if ("home".equals(target)) {
            switchedHomeBefore.set(true);
        }
    }
}

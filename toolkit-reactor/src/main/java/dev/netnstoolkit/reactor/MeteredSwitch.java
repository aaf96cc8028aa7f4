package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;

import java.util.concurrent.Callable;

/**
 * {@link NamespaceSwitch#run} with the scheduler's meters around it: the one call through which the
 * event loops and the dedicated workers enter a namespace. A stranded thread records nothing (its
 * failure is counted by the keeper, at home).
 */
final class MeteredSwitch {

    private final NamespaceSwitch sw;
    private final SchedulerMetrics metrics;

    MeteredSwitch(NamespaceSwitch sw, SchedulerMetrics metrics) {
        this.sw = sw;
        this.metrics = metrics;
    }

    NamespaceSwitch namespaceSwitch() {
        return sw;
    }

    SchedulerMetrics metrics() {
        return metrics;
    }

    <T> T run(NetNamespace ns, Callable<T> task) throws Exception {
        SchedulerMetrics.PerNamespace m = metrics.of(ns);
        if (m == null) {
            return sw.run(ns, task);
        }
        long t0 = System.nanoTime();
        try {
            T value = sw.run(ns, task);
            m.ran(System.nanoTime() - t0);
            return value;
        } catch (ThreadStrandedException e) {
            throw e;
        } catch (Exception | Error e) {
            m.ran(System.nanoTime() - t0);
            m.error(e);
            throw e;
        }
    }

    /** Counts a stranding, from the keeper. */
    void stranded(NetNamespace ns, ThreadStrandedException e) {
        SchedulerMetrics.PerNamespace m = ns == null ? null : metrics.of(ns);
        if (m != null) {
            m.error(e);
        }
    }
}

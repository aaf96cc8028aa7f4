package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ThreadStrandedException;

import java.util.List;
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

    /**
     * Runs every task under one switch into {@code ns}, each outcome into {@code values} or
     * {@code failures} at its index; metered as one switch and as many tasks. A failure to switch in,
     * or a {@link ThreadStrandedException} on the way back, is thrown (then no outcome is to be used).
     */
    void runEach(NetNamespace ns, List<? extends Callable<?>> tasks, Object[] values, Throwable[] failures) throws Exception {
        Callable<Void> each = () -> {
            for (int i = 0; i < tasks.size(); i++) {
                try {
                    values[i] = tasks.get(i).call();
                } catch (Throwable e) {
                    failures[i] = e;
                }
            }
            return null;
        };
        SchedulerMetrics.PerNamespace m = metrics.of(ns);
        long t0 = System.nanoTime();
        try {
            sw.run(ns, each);
        } catch (ThreadStrandedException e) {
            throw e;
        } catch (Exception | Error e) {
            if (m != null) {
                m.ran(tasks.size(), System.nanoTime() - t0);
                m.error(e);
            }
            throw e;
        }
        if (m != null) {
            m.ran(tasks.size(), System.nanoTime() - t0);
            for (Throwable failure : failures) {
                if (failure != null) {
                    m.error(failure);
                }
            }
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

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scheduler's Micrometer meters, tagged {@code namespace} (its label) and {@code scheduler} (the
 * scheduler's name prefix); a no-op when no registry was given. A namespace's meters are removed from
 * the registry when the handle they were first made for is closed, so meter cardinality does not grow
 * with namespace churn.
 */
final class SchedulerMetrics {

    static final String SWITCH = "ntk.namespace.switch";
    static final String TASKS = "ntk.namespace.tasks";
    static final String ERRORS = "ntk.namespace.errors";
    static final String QUEUED = "ntk.namespace.queued";
    static final String RETIRED = "ntk.scheduler.workers.retired";
    static final String FENCED = "ntk.scheduler.loops.fenced";

    private final MeterRegistry registry;
    private final String scheduler;
    private final ConcurrentMap<String, PerNamespace> byLabel = new ConcurrentHashMap<>();
    private final Counter retired;
    private final Counter fenced;

    SchedulerMetrics(MeterRegistry registry, String scheduler) {
        this.registry = registry;
        this.scheduler = scheduler;
        this.retired = registry == null ? null : Counter.builder(RETIRED).tag("scheduler", scheduler)
                .description("dedicated workers retired after failing to switch back home").register(registry);
        this.fenced = registry == null ? null : Counter.builder(FENCED).tag("scheduler", scheduler)
                .description("event loops fenced off after failing to switch back home").register(registry);
    }

    /** Per-namespace meters; {@code null} when metrics are off. */
    PerNamespace of(NetNamespace ns) {
        if (registry == null) {
            return null;
        }
        PerNamespace m = byLabel.get(ns.label());
        if (m != null) {
            return m;
        }
        PerNamespace made = byLabel.computeIfAbsent(ns.label(), PerNamespace::new);
        ns.onClose(() -> forget(made));
        return made;
    }

    private void forget(PerNamespace m) {
        if (byLabel.remove(m.label, m)) {
            m.meters.forEach(registry::remove);
        }
    }

    /** Namespaces with meters now (for tests: it must not grow with churn). */
    int namespaces() {
        return byLabel.size();
    }

    void retired() {
        if (retired != null) {
            retired.increment();
        }
    }

    void fenced() {
        if (fenced != null) {
            fenced.increment();
        }
    }

    final class PerNamespace {
        private final String label;
        private final List<Meter> meters = new CopyOnWriteArrayList<>();
        private final Timer switches;
        private final Counter tasks;
        private final ConcurrentMap<Class<?>, Counter> errors = new ConcurrentHashMap<>();
        final AtomicInteger queued = new AtomicInteger();

        PerNamespace(String label) {
            this.label = label;
            this.switches = add(Timer.builder(SWITCH).tags("namespace", label, "scheduler", scheduler)
                    .description("time inside the namespace: switch in, the task, switch back").register(registry));
            this.tasks = add(Counter.builder(TASKS).tags("namespace", label, "scheduler", scheduler)
                    .description("tasks run in the namespace").register(registry));
            add(Gauge.builder(QUEUED, queued, AtomicInteger::get).tags("namespace", label, "scheduler", scheduler)
                    .description("tasks waiting for a dedicated worker").register(registry));
        }

        private <M extends Meter> M add(M meter) {
            meters.add(meter);
            return meter;
        }

        void ran(long nanos) {
            ran(1, nanos);
        }

        /** {@code count} tasks run under one switch. */
        void ran(int count, long nanos) {
            tasks.increment(count);
            switches.record(nanos, TimeUnit.NANOSECONDS);
        }

        void error(Throwable e) {
            errors.computeIfAbsent(e.getClass(), c -> add(Counter.builder(ERRORS)
                    .tags("namespace", label, "scheduler", scheduler, "type", c.getSimpleName())
                    .description("failures of tasks in the namespace, by type").register(registry))).increment();
        }
    }
}

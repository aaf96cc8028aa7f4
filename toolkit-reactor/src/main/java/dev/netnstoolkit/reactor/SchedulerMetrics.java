package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scheduler's Micrometer meters, tagged {@code namespace} (its name, or {@code net:[inode]}); a
 * no-op when no registry was given. Meters are cached per namespace label so the hot path only does a
 * map lookup.
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
        return byLabel.computeIfAbsent(ns.label(), PerNamespace::new);
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
        private final Timer switches;
        private final Counter tasks;
        final AtomicInteger queued = new AtomicInteger();

        PerNamespace(String label) {
            this.label = label;
            this.switches = Timer.builder(SWITCH).tags("namespace", label, "scheduler", scheduler)
                    .description("time inside the namespace: switch in, the task, switch back").register(registry);
            this.tasks = Counter.builder(TASKS).tags("namespace", label, "scheduler", scheduler)
                    .description("tasks run in the namespace").register(registry);
            Gauge.builder(QUEUED, queued, AtomicInteger::get).tags("namespace", label, "scheduler", scheduler)
                    .description("tasks waiting for a dedicated worker").register(registry);
        }

        void ran(long nanos) {
            tasks.increment();
            switches.record(nanos, TimeUnit.NANOSECONDS);
        }

        void error(Throwable e) {
            Counter.builder(ERRORS).tags("namespace", label, "scheduler", scheduler, "type", e.getClass().getSimpleName())
                    .register(registry).increment();
        }
    }
}

package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Namespace lifecycle costs: create + delete a named namespace (as {@code ip netns add/delete}, with
 * {@code lo} up), and open + close a handle by name. Needs root.
 *
 * <pre>java -jar bench/target/benchmarks.jar NamespaceLifecycle -f 1</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(1)
public class NamespaceLifecycleBenchmark {

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String prefix = "ntk-bench-" + ProcessHandle.current().pid() + "-";
    private final AtomicInteger seq = new AtomicInteger();

    @Benchmark
    public void createAndDelete() {
        String name = prefix + seq.incrementAndGet();
        try (NetNamespace ns = registry.create(name)) {
            if (ns.isClosed()) {
                throw new IllegalStateException();
            }
        } finally {
            registry.delete(name);
        }
    }

    @Benchmark
    public long openAndClose() {
        try (NetNamespace ns = registry.openPath("/proc/self/ns/net")) {
            return ns.id().ino();
        }
    }
}

package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;
import dev.netnstoolkit.reactor.NamespaceScheduler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The cost of creating (and closing) one TCP socket: with no namespace, with a raw in-thread setns
 * round trip through the JNA backend, through the scheduler's inline path on an owned thread, and
 * through {@code call()} (handoff to a dedicated worker). Needs root: it creates one namespace.
 *
 * <pre>java -jar bench/target/benchmarks.jar SocketCreation -f 1 -wi 3 -i 5</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SocketCreationBenchmark {

    static final int BATCH = 1000;

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String name = "ntk-bench-" + ProcessHandle.current().pid();
    private final NamespaceSwitch sw = NamespaceSwitch.system();
    private final NamespaceBackend backend = NamespaceBackend.load();
    private NetNamespace ns;
    private NamespaceFd nsFd;
    private NamespaceFd homeFd;
    private NamespaceScheduler scheduler;
    private ExecutorService ownedLoop;

    @Setup(Level.Trial)
    public void setUp() {
        ns = registry.create(name);
        nsFd = backend.open(ns.path(), false);
        homeFd = backend.open("/proc/self/ns/net", true);
        scheduler = NamespaceScheduler.create(1);
        ownedLoop = Compare.ownedThread(sw);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ownedLoop.shutdownNow();
        scheduler.dispose();
        ns.close();
        nsFd.close();
        homeFd.close();
        registry.delete(name);
    }

    private static final Callable<Boolean> SOCKET = () -> {
        SocketChannel ch = SocketChannel.open();
        ch.close();
        return Boolean.TRUE;
    };

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int noNamespace() throws Exception {
        int n = 0;
        for (int i = 0; i < BATCH; i++) {
            n += SOCKET.call() ? 1 : 0;
        }
        return n;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int rawSwitch() throws Exception {
        return ownedLoop.submit(() -> {
            int n = 0;
            try (NamespaceFd.Lease in = nsFd.lease(name); NamespaceFd.Lease back = homeFd.lease("home")) {
                for (int i = 0; i < BATCH; i++) {
                    backend.setns(in, name);
                    try {
                        n += SOCKET.call() ? 1 : 0;
                    } finally {
                        backend.setns(back, "home");
                    }
                }
            }
            return n;
        }).get();
    }

    /** BATCH inline calls on an owned thread; one handoff per batch, so the handoff is amortized away. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int inline() throws Exception {
        return ownedLoop.submit(() -> {
            int n = 0;
            for (int i = 0; i < BATCH; i++) {
                n += sw.run(ns, SOCKET) ? 1 : 0;
            }
            return n;
        }).get();
    }

    /** The same batch with no namespace on the same kind of thread: the baseline for {@link #inline}. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int noNamespaceOnLoop() throws Exception {
        return ownedLoop.submit(this::noNamespace).get();
    }

    /** One socket through a dedicated worker: the handoff path. */
    @Benchmark
    public Boolean call() {
        return scheduler.call(ns, SOCKET).block(Duration.ofSeconds(10));
    }

}

package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.channel.ChannelOption;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * TCP connect+close and HTTP keep-alive request/response, one at a time: from inside a namespace
 * through the toolkit, and with plain Reactor Netty on the host, same server code, same loopback.
 * Needs root. For throughput under concurrency see {@link Compare}.
 *
 * <pre>java -jar bench/target/benchmarks.jar NetworkBenchmark -f 1</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NetworkBenchmark {

    private static final int TCP_PORT = 19100;
    private static final int HTTP_PORT = 19180;

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String name = "ntk-bench-net-" + ProcessHandle.current().pid();
    private NetNamespace ns;
    private Netns toolkit;
    private LoopResources plainLoops;
    private ConnectionProvider plainPool;
    private DisposableServer tcpInNs;
    private DisposableServer tcpOnHost;
    private DisposableServer httpInNs;
    private DisposableServer httpOnHost;
    private TcpClient nsTcp;
    private TcpClient hostTcp;
    private HttpClient nsHttp;
    private HttpClient hostHttp;

    @Setup(Level.Trial)
    public void setUp() {
        ns = registry.create(name);
        toolkit = Netns.create();
        plainLoops = LoopResources.create("plain", 2, true);
        plainPool = ConnectionProvider.builder("plain").maxConnections(16).build();
        TcpServer tcp = TcpServer.create().host("127.0.0.1").port(TCP_PORT).handle((in, out) -> in.receive().then());
        HttpServer http = HttpServer.create().host("127.0.0.1").port(HTTP_PORT).handle((req, res) -> res.sendString(Mono.just("ok")));
        tcpInNs = toolkit.bind(Flux.just(ns), tcp).blockLast(Duration.ofSeconds(10));
        tcpOnHost = tcp.runOn(plainLoops, true).bindNow();
        httpInNs = toolkit.bind(Flux.just(ns), http).blockLast(Duration.ofSeconds(10));
        httpOnHost = http.runOn(plainLoops, true).bindNow();
        nsTcp = TcpClient.newConnection().option(ChannelOption.SO_LINGER, 0).host("127.0.0.1").port(TCP_PORT);
        hostTcp = TcpClient.newConnection().option(ChannelOption.SO_LINGER, 0).runOn(plainLoops, true).host("127.0.0.1").port(TCP_PORT);
        nsHttp = toolkit.httpClient(ns);
        hostHttp = HttpClient.create(plainPool).runOn(plainLoops, true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        tcpInNs.disposeNow();
        tcpOnHost.disposeNow();
        httpInNs.disposeNow();
        httpOnHost.disposeNow();
        plainPool.disposeLater().block(Duration.ofSeconds(10));
        toolkit.disposeNow();
        plainLoops.disposeLater().block(Duration.ofSeconds(10));
        ns.close();
        registry.delete(name);
    }

    @Benchmark
    public Object tcpConnectCloseInNamespace() {
        Connection c = toolkit.connect(ns, nsTcp).block(Duration.ofSeconds(10));
        c.disposeNow();
        return c;
    }

    @Benchmark
    public Object tcpConnectCloseOnHost() {
        Connection c = hostTcp.connect().block(Duration.ofSeconds(10));
        c.disposeNow();
        return c;
    }

    @Benchmark
    public String httpGetInNamespace() {
        return nsHttp.get().uri("http://127.0.0.1:" + HTTP_PORT + "/").responseContent().aggregate().asString()
                .block(Duration.ofSeconds(10));
    }

    @Benchmark
    public String httpGetOnHost() {
        return hostHttp.get().uri("http://127.0.0.1:" + HTTP_PORT + "/").responseContent().aggregate().asString()
                .block(Duration.ofSeconds(10));
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.channel.socket.DuplexChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

@Command(name = "connect", description = "TCP from inside a namespace, stdin and stdout piped both ways (like nc).")
final class ConnectCommand implements Callable<Integer> {

    @Option(names = "--ns", required = true, paramLabel = "NAME")
    String name;

    @Parameters(paramLabel = "HOST:PORT")
    String target;

    @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Give up connecting after this long (default ${DEFAULT-VALUE}).")
    long timeout;

    @Override
    public Integer call() {
        Args.Target t = Args.target("HOST:PORT", target);
        Args.range("--timeout", timeout, 1, 86_400);
        Netns netns = null;
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            netns = Netns.builder().loopThreads(1).dedicatedThreads(1).build();
            Connection c = netns.connect(ns, TcpClient.newConnection().host(t.host()).port(t.port()))
                    .timeout(Duration.ofSeconds(timeout), Mono.error(new TimeoutException("connect to " + t + " in " + name
                            + " timed out after " + timeout + " s (--timeout)")))
                    .block();
            // stdin is read on a blocking-capable scheduler (started here, at home); EOF half-closes the socket.
            c.outbound().sendByteArray(stdin().subscribeOn(Schedulers.boundedElastic())).then()
                    .doFinally(s -> {
                        if (c.channel() instanceof DuplexChannel d) {
                            d.shutdownOutput();
                        }
                    })
                    .subscribe();
            c.inbound().receive().asByteArray().doOnNext(b -> {
                System.out.write(b, 0, b.length);
                System.out.flush();
            }).then().block();
            c.disposeNow();
            return 0;
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
        }
    }

    private static Flux<byte[]> stdin() {
        InputStream in = System.in;
        return Flux.generate(sink -> {
            byte[] buf = new byte[8192];
            try {
                int n = in.read(buf);
                if (n < 0) {
                    sink.complete();
                } else {
                    sink.next(Arrays.copyOf(buf, n));
                }
            } catch (IOException e) {
                sink.error(new UncheckedIOException(e));
            }
        });
    }
}

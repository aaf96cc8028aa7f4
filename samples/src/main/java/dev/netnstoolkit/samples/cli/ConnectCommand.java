package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import io.netty.channel.socket.DuplexChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "connect", description = "TCP from inside a namespace, stdin and stdout piped both ways (like nc).")
final class ConnectCommand implements Callable<Integer> {

    @Option(names = "--ns", required = true, paramLabel = "NAME")
    String name;

    @Parameters(paramLabel = "HOST:PORT")
    String target;

    @Override
    public Integer call() {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, not '" + target + "'");
        }
        String host = target.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(target.substring(colon + 1));
        Netns netns = null;
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            netns = Netns.builder().loopThreads(1).dedicatedThreads(1).build();
            Connection c = netns.connect(ns, TcpClient.newConnection().host(host).port(port)).block(Duration.ofSeconds(30));
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

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "get", description = "HTTP GET from inside a namespace (its /etc/netns/NAME hosts and resolv.conf); body on stdout.")
final class GetCommand implements Callable<Integer> {

    @Option(names = "--ns", required = true, paramLabel = "NAME")
    String name;

    @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Give up after this long (default ${DEFAULT-VALUE}).")
    long timeout;

    @Parameters(paramLabel = "URL")
    String url;

    @Override
    public Integer call() {
        Args.range("--timeout", timeout, 1, 86_400);
        Netns netns = null;
        try (NetNamespace ns = NamespaceRegistry.system().open(name)) {
            netns = Netns.builder().loopThreads(1).dedicatedThreads(1).build();
            byte[] body = netns.httpClient(ns).get().uri(url)
                    .responseSingle((res, content) -> {
                        if (res.status().code() >= 400) {
                            return reactor.core.publisher.Mono.error(new IllegalStateException(
                                    "GET " + url + " in " + name + ": HTTP " + res.status()));
                        }
                        return content.asByteArray().defaultIfEmpty(new byte[0]);
                    })
                    .timeout(Duration.ofSeconds(timeout), reactor.core.publisher.Mono.error(new java.util.concurrent.TimeoutException(
                            "GET " + url + " in " + name + " timed out after " + timeout + " s (--timeout)")))
                    .block();
            System.out.write(body);
            System.out.flush();
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
        }
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Scenario 1: an HTTP client inside a namespace, many requests. A Go program that locks an OS thread,
 * switches it and never unlocks it gets that thread killed; a JVM cannot kill threads, so a thread left
 * switched would serve the wrong namespace forever. Here no thread is ever left switched: the scenario
 * reads every thread's namespace from /proc and prints the check.
 */
@Command(name = "http-client", description = "HTTP client inside a namespace, many requests, and the thread check.")
final class HttpClientInNamespace implements Callable<Integer> {

    @Option(names = "--requests", defaultValue = "1000")
    int requests;

    @Override
    public Integer call() {
        try (OwnedNamespaces spaces = Scenarios.owned("http")) {
            NetNamespace ns = spaces.create("0");
            Netns netns = Netns.create();
            try {
                DisposableServer server = netns.bind(Flux.just(ns), HttpServer.create().host("127.0.0.1").port(8080)
                        .handle((req, res) -> res.sendString(Mono.just(Netns.namespaceOf(req).label()))))
                        .blockLast(Duration.ofSeconds(10));
                HttpClient client = netns.httpClient(ns); // its own pool, its own DNS, sockets made in ns
                List<String> answers = Flux.range(0, requests)
                        .flatMap(i -> client.get().uri("http://127.0.0.1:8080/").responseContent().aggregate().asString(), 16)
                        .collectList().block(Duration.ofSeconds(120));
                long right = answers.stream().filter(ns.label()::equals).count();
                System.out.println(requests + " requests from inside " + ns.label() + " to its own 127.0.0.1:8080; "
                        + right + " answered by the server in that namespace");
                System.out.println("(127.0.0.1:8080 on the host is a different socket: nothing of this reached it)");
                server.disposeNow();
            } finally {
                netns.disposeNow();
            }
        }
        List<String> away = ProcessAudit.threadsAwayFromHome();
        System.out.println("thread check: " + ProcessAudit.threadCount() + " JVM threads, " + away.size()
                + " outside the home namespace " + ProcessAudit.homeNamespace() + " (read from /proc/self/task/*/ns/net)");
        return away.isEmpty() ? 0 : 1;
    }
}

package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "serve", description = {
        "Serve in many existing namespaces from one process: TCP writes the namespace name then echoes lines,",
        "UDP answers `NAME PAYLOAD`, HTTP `GET /` answers `NAME`. Prints `ready N listeners` once bound;",
        "on SIGTERM/SIGINT or after --duration closes everything and prints a summary."})
final class ServeCommand implements Callable<Integer> {

    static final class Which {
        @Option(names = "--ns", split = ",", paramLabel = "NAME", description = "Namespaces, comma-separated.")
        List<String> names;

        @ArgGroup(exclusive = false)
        NamespaceArgs.Prefix prefix;

        @Option(names = "--watch", paramLabel = "PREFIX",
                description = "Every namespace whose name starts with PREFIX, existing or future: served as it appears, released as it goes.")
        String watch;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Option(names = "--tcp", paramLabel = "PORT")
    Integer tcpPort;

    @Option(names = "--udp", paramLabel = "PORT")
    Integer udpPort;

    @Option(names = "--http", paramLabel = "PORT")
    Integer httpPort;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long (default: until signalled).")
    Long duration;

    @Override
    public Integer call() throws InterruptedException {
        if (tcpPort == null && udpPort == null && httpPort == null) {
            throw new IllegalArgumentException("nothing to serve: give --tcp, --udp and/or --http");
        }
        for (Integer port : java.util.Arrays.asList(tcpPort, udpPort, httpPort)) {
            if (port != null) {
                Args.range("port", port, 0, 65_535);
            }
        }
        UntilStopped.checkDuration(duration);
        if (which.watch != null) {
            return watch();
        }
        List<String> names = NamespaceArgs.names(which.names, which.prefix);
        int perNamespace = 1 + (int) java.util.stream.Stream.of(tcpPort, udpPort, httpPort).filter(java.util.Objects::nonNull).count();
        Limits.requireDescriptors("serve in " + names.size() + " namespaces", (long) names.size() * perNamespace + 200,
                perNamespace + " per namespace (its handle and a listener per protocol) and about 200 for the JVM and the "
                        + "connections being served");
        NamespaceRegistry registry = NamespaceRegistry.system();
        List<NetNamespace> spaces = new ArrayList<>();
        Netns netns = null;
        NameServers servers = new NameServers(tcpPort, udpPort, httpPort);
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ntk-serve-stop");
        try {
            for (String name : names) {
                spaces.add(registry.open(name)); // they must exist: a clear not-found error otherwise
            }
            netns = Netns.create();
            int listeners = servers.bind(netns, spaces, Duration.ofSeconds(60));
            Runtime.getRuntime().addShutdownHook(hook);
            if (java.util.Arrays.asList(tcpPort, udpPort, httpPort).contains(0)) {
                servers.listeners().forEach(l -> System.out.println("listening " + l)); // the ports the kernel chose
            }
            System.out.println("ready " + listeners + " listeners");
            System.out.flush();
            if (duration != null) {
                stop.await(duration, TimeUnit.SECONDS);
            } else {
                stop.await();
            }
        } finally {
            servers.dispose();
            if (netns != null) {
                netns.disposeNow();
            }
            spaces.forEach(NetNamespace::close);
            System.out.println("served: " + servers.connections.get() + " tcp connections, " + servers.datagrams.get()
                    + " udp datagrams, " + servers.requests.get() + " http requests; JVM threads "
                    + ProcessAudit.threadCount() + ", open fds " + ProcessAudit.openFdCount()
                    + ", threads outside home " + ProcessAudit.threadsAwayFromHome().size());
            System.out.flush();
            stopped.countDown();
        }
        return 0;
    }

    /**
     * {@code --watch}: binds in every namespace of the prefix as it appears in /run/netns and releases it
     * as it goes; prints {@code ready N listeners} once the ones there at the start are bound, then
     * {@code serving NAME}, {@code stopped NAME} and {@code failed NAME: why} lines.
     */
    private int watch() throws InterruptedException {
        NamespaceRegistry.checkName(which.watch + "x");
        long existing = NamespaceRegistry.system().list().stream().filter(n -> n.startsWith(which.watch)).count();
        NameServers servers = new NameServers(tcpPort, udpPort, httpPort);
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ntk-serve-stop");
        Netns netns = Netns.create();
        java.util.concurrent.atomic.AtomicLong listeners = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong first = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
        if (existing == 0) {
            System.out.println("ready 0 listeners");
        }
        reactor.core.Disposable serving = netns.serve(netns.watch(java.nio.file.Path.of(NamespaceRegistry.runDir()), which.watch),
                        ns -> servers.servers(netns, ns))
                .subscribe(e -> {
                    if (e instanceof dev.netnstoolkit.reactor.ServingEvent.Serving s) {
                        served.incrementAndGet();
                        listeners.addAndGet(s.servers().size());
                        if (first.incrementAndGet() <= existing) {
                            if (first.get() == existing) {
                                System.out.println("ready " + listeners.get() + " listeners");
                            }
                            System.out.flush();
                            return;
                        }
                        System.out.println("serving " + e.name());
                    } else if (e instanceof dev.netnstoolkit.reactor.ServingEvent.Stopped) {
                        served.decrementAndGet();
                        System.out.println("stopped " + e.name());
                    } else if (e instanceof dev.netnstoolkit.reactor.ServingEvent.Failed f) {
                        if (first.incrementAndGet() == existing) {
                            System.out.println("ready " + listeners.get() + " listeners");
                        }
                        System.out.println("failed " + e.name() + ": " + Ntk.Failures.oneLine(f.error()));
                    }
                    System.out.flush();
                }, error -> {
                    System.err.println("ntk: " + Ntk.Failures.oneLine(error));
                    stop.countDown();
                });
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            if (duration != null) {
                stop.await(duration, TimeUnit.SECONDS);
            } else {
                stop.await();
            }
        } finally {
            serving.dispose(); // releases every namespace still served
            netns.disposeNow();
            System.out.println("served: " + servers.connections.get() + " tcp connections, " + servers.datagrams.get()
                    + " udp datagrams, " + servers.requests.get() + " http requests; namespaces served at the end "
                    + served.get() + "; JVM threads " + ProcessAudit.threadCount() + ", open fds " + ProcessAudit.openFdCount()
                    + ", threads outside home " + ProcessAudit.threadsAwayFromHome().size());
            System.out.flush();
            stopped.countDown();
        }
        return 0;
    }
}

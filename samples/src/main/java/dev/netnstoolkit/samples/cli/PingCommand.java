package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.reactor.PingResult;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "ping", description = {
        "Ping HOST from inside every namespace at once (ICMP echo, IPv4 or IPv6): over an ICMP datagram socket where the",
        "namespace's net.ipv4.ping_group_range allows it, else a raw one. Prints a row per namespace, then",
        "`ping: N namespaces, S sent, R received, L lost`; exits 0 only if nothing was lost."})
final class PingCommand implements Callable<Integer> {

    /** Namespaces pinged from at once. */
    static final int IN_FLIGHT = 256;

    @ArgGroup(exclusive = true, multiplicity = "1")
    NamespaceArgs which;

    @Option(names = "--times", defaultValue = "3", paramLabel = "K", description = "Echo requests per namespace (default ${DEFAULT-VALUE}).")
    int times;

    @Option(names = "--interval-ms", defaultValue = "100", paramLabel = "MS", description = "Between requests (default ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--timeout-ms", defaultValue = "1000", paramLabel = "T",
            description = "Wait this long for replies after the last request (default ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Parameters(paramLabel = "HOST", description = "An IP address (no name is resolved: it would be resolved on the host, not in each namespace).")
    String host;

    @Override
    public Integer call() {
        Args.range("--times", times, 1, 1000);
        Args.range("--interval-ms", intervalMs, 0, 60_000);
        Args.range("--timeout-ms", timeoutMs, 1, 600_000);
        InetAddress address = literal(host);
        List<String> names = which.names();
        Limits.requireDescriptors("ping from " + names.size() + " namespaces", names.size() + IN_FLIGHT + 200L,
                "a handle per namespace and a socket per namespace in flight");
        NamespaceRegistry registry = NamespaceRegistry.system();
        List<NetNamespace> spaces = new ArrayList<>();
        Netns netns = null;
        try {
            for (String name : names) {
                spaces.add(registry.open(name));
            }
            netns = Netns.create();
            Netns toolkit = netns;
            List<Row> rows = Flux.fromIterable(spaces)
                    .flatMapSequential(ns -> toolkit.ping(ns, address, times, Duration.ofMillis(intervalMs), Duration.ofMillis(timeoutMs))
                            .map(r -> new Row(ns.label(), r, null))
                            .onErrorResume(e -> Mono.just(new Row(ns.label(), null, e.getMessage()))), IN_FLIGHT)
                    .collectList()
                    .block(Duration.ofMillis(timeoutMs + times * intervalMs + 600_000));
            return print(rows);
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
            spaces.forEach(NetNamespace::close);
        }
    }

    private record Row(String namespace, PingResult result, String error) {
    }

    private int print(List<Row> rows) {
        int width = Math.max(9, rows.stream().mapToInt(r -> r.namespace().length()).max().orElse(9));
        String format = "%-" + width + "s  %-21s  %4s  %8s  %s%n";
        System.out.printf(Locale.ROOT, format, "NAMESPACE", "SOCKET", "SENT", "RECEIVED", "RTT MIN/AVG/MAX ms");
        long sent = 0;
        long received = 0;
        for (Row row : rows) {
            PingResult r = row.result();
            if (r == null) {
                System.out.printf(Locale.ROOT, format, row.namespace(), "-", times, 0, "error: " + row.error());
                sent += times;
                continue;
            }
            sent += r.sent();
            received += r.received();
            String rtt = r.received() == 0 ? "-" : String.format(Locale.ROOT, "%.3f/%.3f/%.3f",
                    ms(r.min()), ms(r.average()), ms(r.max()));
            System.out.printf(Locale.ROOT, format, row.namespace(), r.method(), r.sent(), r.received(), rtt);
        }
        long lost = sent - received;
        System.out.printf(Locale.ROOT, "ping: %d namespaces, %d sent, %d received, %d lost%n", rows.size(), sent, received, lost);
        return lost == 0 ? 0 : 1;
    }

    private static double ms(Duration d) {
        return d.toNanos() / 1e6;
    }

    private static InetAddress literal(String host) {
        if (!host.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw new IllegalArgumentException("ping: " + host + " is not an IP address (names would be resolved on the host, not in each namespace)");
        }
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("ping: " + host + " is not an IP address", e);
        }
    }
}

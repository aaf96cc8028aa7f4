package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.ThreadStrandedException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.spi.ForwardingNamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;
import dev.netnstoolkit.reactor.NamespaceScheduler;
import dev.netnstoolkit.reactor.Netns;
import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpClient;
import reactor.netty.udp.UdpClient;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded soak: mixed TCP, UDP and HTTP traffic and socket creations across many namespaces on
 * loopback, random cancellation of pending connects, namespaces deleted and re-created mid-flight, and
 * injected failures of the switch back home. Afterwards it checks that no thread is outside home, the
 * descriptor count is back to where it started, no namespace is left in /run/netns, every reply came from
 * the right namespace, and every failure was a typed error. Exit status 0 only if all of that holds.
 *
 * <p>(Over 300 lines because the soak is one scenario whose checks must all see the same run: traffic,
 * faults and the final audit; the namespace churn is in {@code SoakChurn}.)
 */
@Command(name = "soak", description = "Bounded soak across many namespaces with faults injected; checks the invariants at the end (needs root).")
final class SoakCommand implements Callable<Integer> {

    @Option(names = "--duration", defaultValue = "60", paramLabel = "SECONDS")
    long duration;

    @Option(names = "--count", defaultValue = "100", paramLabel = "N", description = "Namespaces (default ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--concurrency", defaultValue = "32")
    int concurrency;

    @Option(names = "--churn", defaultValue = "0", paramLabel = "N",
            description = "Also create and delete N namespaces, one after another, while a watch serves in each as it appears.")
    int churn;

    @Option(names = "--fault-rate", defaultValue = "0.002", description = "Probability that a switch back home fails once.")
    double faultRate;

    @Option(names = "--prefix", paramLabel = "P", description = "Name prefix of the namespaces it makes (default ntk-soak-PID-); only those it makes are deleted.")
    String prefix;

    private static final int TCP = 7300;
    private static final int UDP = 7300;
    private static final int HTTP = 8380;

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> untyped = new ConcurrentHashMap<>();
    private final Map<String, Long> listening = new TreeMap<>();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong injected = new AtomicLong();
    private final AtomicLong opSeq = new AtomicLong();
    private final Map<Long, Long> inFlight = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> inFlightKinds = new ConcurrentHashMap<>();
    private final Map<Long, String[]> stages = new ConcurrentHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (churn < 0 || churn > 1_000_000 || count < 1 || count > 2000 || duration < 1 || duration > 86_400 || concurrency < 1 || concurrency > 10_000
                || !(faultRate >= 0 && faultRate <= 1)) {
            throw new IllegalArgumentException("--count 1..2000, --duration 1..86400, --concurrency 1..10000, --fault-rate 0..1, --churn 0..1000000");
        }
        OwnedNamespaces.reclaimDead(false).forEach(line -> System.out.println("ntk soak: " + line));
        OwnedNamespaces owned = prefix != null ? OwnedNamespaces.withPrefix("ntk soak", prefix) : OwnedNamespaces.forRun("soak", "ntk soak");
        Set<String> made = ConcurrentHashMap.newKeySet();
        try {
            NamespaceRegistry.checkName(owned.prefix() + (count - 1)); // a bad prefix fails before anything is made
            return soak(owned, made);
        } finally {
            owned.close();
        }
    }

    private Integer soak(OwnedNamespaces owned, Set<String> made) throws Exception {
        // the baseline after a first scheduler's life: it loads the native backend and makes the JDK's lifelong socket
        NamespaceScheduler first = NamespaceScheduler.create(1);
        first.dispose();
        first.awaitTermination(Duration.ofSeconds(10));
        int fdsAtStart = ProcessAudit.openFdCount();
        List<String> fdListAtStart = ProcessAudit.describeOpenFds();
        String home = ProcessAudit.homeNamespace();
        Netns netns = Netns.builder().dedicatedThreads(2).namespaceSwitch(NamespaceSwitch.using(faulty())).build();
        NamespaceScheduler scheduler = netns.scheduler();
        AtomicReferenceArray<NetNamespace> spaces = new AtomicReferenceArray<>(count);
        AtomicReferenceArray<NameServers> servers = new AtomicReferenceArray<>(count);
        long recreated = 0;
        int loopsInRotation = -1; // read once the traffic is over, before the dispose
        try {
            for (int i = 0; i < count; i++) {
                spaces.set(i, owned.create(Integer.toString(i)));
                made.add(owned.prefix() + i);
                servers.set(i, serve(netns, spaces.get(i)));
            }
            System.out.println("soak: " + count + " namespaces serving TCP :" + TCP + ", UDP :" + UDP + ", HTTP :" + HTTP
                    + " for " + duration + " s, fault rate " + faultRate);
            long end = System.nanoTime() + Duration.ofSeconds(duration).toNanos();
            Disposable traffic = Flux.<Integer>generate(sink -> {
                        if (System.nanoTime() < end) {
                            sink.next(ThreadLocalRandom.current().nextInt(count));
                        } else {
                            sink.complete();
                        }
                    })
                    .flatMap(i -> {
                        long id = opSeq.incrementAndGet();
                        return Mono.defer(() -> op(netns, scheduler, spaces.get(i)))
                                .doOnSubscribe(s -> inFlight.put(id, System.nanoTime()))
                                .doFinally(s -> inFlight.remove(id));
                    }, concurrency)
                    .subscribe();
            SoakChurn churning = churn > 0 ? new SoakChurn(netns, owned, made, churn, end, TCP + 1,
                    e -> untyped.computeIfAbsent("churn " + e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet(),
                    e -> record("churn", e).subscribe()) : null;
            while (System.nanoTime() < end) {
                Thread.sleep(200);
                // delete and re-create one namespace under the traffic: the old one lives on through its handle
                int i = ThreadLocalRandom.current().nextInt(count);
                NetNamespace old = spaces.get(i);
                owned.delete(old);
                NetNamespace fresh = owned.create(Integer.toString(i));
                NameServers freshServers = serve(netns, fresh);
                spaces.set(i, fresh);
                NameServers oldServers = servers.getAndSet(i, freshServers);
                oldServers.dispose();
                old.close();
                recreated++;
            }
            if (churning != null && !churning.finish()) {
                mismatches.incrementAndGet();
            }
            while (!traffic.isDisposed()) {
                Thread.sleep(50);
                if (System.nanoTime() - end > Duration.ofSeconds(30).toNanos()) {
                    // every op has a 10 s timeout: one still running 30 s after the end lost its signal
                    System.out.println("soak: traffic did not end: " + inFlight.size() + " ops in flight, "
                            + inFlightKinds + "; cancelled; udp stages " + stages.values().stream().map(a -> a[0]).toList());
                    traffic.dispose();
                    mismatches.incrementAndGet();
                }
            }
            Thread.sleep(2000); // once the traffic has ended, the loops fenced last end (a second's quiet period each), their listeners moved
            for (String protocol : List.of("tcp", "http", "udp")) {
                long n = 0;
                for (int i = 0; i < count; i++) {
                    n += servers.get(i).listening(protocol);
                }
                listening.put(protocol, n);
            }
            loopsInRotation = netns.eventLoops();
        } finally {
            // every step guarded: one failure must not leave namespaces behind
            for (int i = 0; i < count; i++) {
                int n = i;
                quietly(() -> {
                    if (servers.get(n) != null) {
                        servers.get(n).dispose();
                    }
                });
                quietly(() -> {
                    if (spaces.get(n) != null) {
                        spaces.get(n).close();
                    }
                });
            }
            quietly(netns::disposeNow);
            owned.close();
        }
        int fds = ProcessAudit.openFdCount();
        for (int i = 0; i < 100 && fds != fdsAtStart; i++) {
            Thread.sleep(20);
            fds = ProcessAudit.openFdCount();
        }
        List<String> away = ProcessAudit.threadsAwayFromHome();
        List<String> pinned = ProcessAudit.socketsOutsideHome();
        long stray = registry.list().stream().filter(made::contains).count();
        System.out.println("outcomes: " + new TreeMap<>(outcomes));
        System.out.println("namespaces re-created mid-flight: " + recreated + "; switch-back faults injected: " + injected.get()
                + "; workers retired: " + scheduler.retiredWorkers() + "; loops fenced: " + scheduler.fencedLoops()
                + "; event loops in rotation at the end: " + loopsInRotation);
        System.out.println("mismatches " + mismatches.get() + ", untyped errors " + untyped.values().stream().mapToLong(AtomicLong::get).sum()
                + " " + new TreeMap<>(untyped));
        System.out.println("threads outside home " + away.size() + " " + away + " (home " + home + ")");
        System.out.println("fds at start " + fdsAtStart + ", at end " + fds + "; sockets outside home " + pinned + "; stray namespaces " + stray);
        if (fds != fdsAtStart) {
            System.out.println("descriptors " + ProcessAudit.describeFdChangesSince(fdListAtStart) + " (the start)");
        }
        // a UDP server is closed with its fenced loop (its inbound keeps that loop): only reported
        System.out.println("listeners still listening at the end: " + listening + " of " + count + " each"
                + " (a fenced loop's TCP and HTTP listeners move; its UDP servers close)");
        boolean listenersKept = listening.getOrDefault("tcp", 0L) == count && listening.getOrDefault("http", 0L) == count;
        boolean ok = listenersKept && mismatches.get() == 0 && untyped.isEmpty() && away.isEmpty() && fds == fdsAtStart && pinned.isEmpty() && stray == 0;
        System.out.println(ok ? "soak: OK" : "soak: FAILED");
        return ok ? 0 : 1;
    }

    interface Step {
        void run() throws Exception;
    }

    private static void quietly(Step step) {
        try {
            step.run();
        } catch (Exception e) {
            System.err.println("soak: clean-up step failed: " + e);
        }
    }

    /**
     * The real backend, whose switch back home from a namespace fails now and then: half of the faults
     * once (the retry cures it), half twice in a row (the thread is stranded: a worker is retired, a
     * loop fenced and replaced).
     */
    private ForwardingNamespaceBackend faulty() {
        ThreadLocal<int[]> state = ThreadLocal.withInitial(() -> new int[2]); // [inside a namespace, failures still due]
        return new ForwardingNamespaceBackend(NamespaceBackend.load()) {
            @Override
            public void setns(NamespaceFd.Lease ns, String target) {
                int[] st = state.get();
                if ("home".equals(target) && st[0] == 1) {
                    if (st[1] > 0 || ThreadLocalRandom.current().nextDouble() < faultRate) {
                        if (st[1] > 0) {
                            st[1]--;
                        } else {
                            injected.incrementAndGet();
                            st[1] = ThreadLocalRandom.current().nextBoolean() ? 1 : 0;
                        }
                        throw new NamespaceSwitchException("injected: setns(home) failed", "setns", 22, target, null);
                    }
                }
                super.setns(ns, target);
                st[0] = "home".equals(target) ? 0 : 1;
            }
        };
    }

    /**
     * Binds the three servers in {@code ns}. Under injected faults a bind can meet a stranded loop
     * (a typed ThreadStrandedException, counted): the servers made so far are disposed and it tries again,
     * for up to 10 s (at high fault rates most binds meet one: three servers, a switch each way per listener).
     */
    private NameServers serve(Netns netns, NetNamespace ns) throws InterruptedException {
        long giveUpAt = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (int attempt = 1; ; attempt++) {
            NameServers s = new NameServers(TCP, UDP, HTTP);
            try {
                s.bind(netns, List.of(ns), Duration.ofSeconds(30));
                return s;
            } catch (RuntimeException e) {
                s.dispose();
                // a loop stranded under the bind, or, for a moment, no loop at home to take it
                List<Throwable> all = Ntk.Failures.causes(e);
                boolean faulted = all.stream().allMatch(t -> t instanceof ThreadStrandedException
                        || t instanceof RejectedExecutionException || t.getCause() instanceof RejectedExecutionException);
                Throwable t = all.get(0);
                if (!faulted || System.nanoTime() > giveUpAt) {
                    throw e;
                }
                outcomes.computeIfAbsent("bind " + t.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
                Thread.sleep(Math.min(20L * attempt, 200));
            }
        }
    }

    /** Where a UDP op's channel's loop is, for the report of an op that did not end. */
    private static String loopState(io.netty.channel.Channel ch) {
        try {
            io.netty.channel.EventLoop l = ch.eventLoop();
            return l + (l.isTerminated() ? " terminated" : l.isShuttingDown() ? " shutting down" : " running");
        } catch (IllegalStateException notRegistered) {
            return "none";
        }
    }

    private Mono<Void> op(Netns netns, NamespaceScheduler scheduler, NetNamespace ns) {
        String expected = ns.label();
        Mono<String> answer;
        String kind;
        switch (ThreadLocalRandom.current().nextInt(5)) {
            case 0 -> {
                kind = "tcp";
                answer = netns.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(TCP))
                        .flatMap(c -> c.inbound().receive().asString().next().map(String::trim).doFinally(s -> c.dispose()));
            }
            case 1 -> {
                kind = "udp";
                String[] stage = {"created"};
                io.netty.channel.Channel[] channel = new io.netty.channel.Channel[1];
                long id = opSeq.incrementAndGet();
                stages.put(id, stage);
                answer = netns.connect(ns, UdpClient.create().host("127.0.0.1").port(UDP))
                        .doOnSubscribe(x -> stage[0] = "subscribed")
                        .doOnNext(x -> stage[0] = "connected on " + Thread.currentThread().getName() + " " + x.channel())
                        .flatMap(c -> c.outbound().sendString(Mono.just("soak")).then()
                                .doOnSuccess(x -> {
                                    stage[0] = "sent " + c.channel() + " reg=" + c.channel().isRegistered() + " on " + Thread.currentThread().getName();
                                    channel[0] = c.channel();
                                })
                                .then(c.inbound().receive().asString().next()).doFinally(s -> c.dispose()))
                        .map(a -> a.endsWith(" soak") ? a.substring(0, a.length() - 5) : a)
                        .doOnCancel(() -> stage[0] = stage[0] + " / cancelled" + (channel[0] == null ? "" : " (loop " + loopState(channel[0])
                                + ", channel open " + channel[0].isOpen() + " registered " + channel[0].isRegistered() + ")"))
                        .doFinally(x -> stages.remove(id));
            }
            case 2 -> {
                kind = "http";
                answer = netns.httpClient(ns).get().uri("http://127.0.0.1:" + HTTP + "/").responseContent().aggregate().asString()
                        .map(String::trim);
            }
            case 3 -> {
                kind = "cancelled-connect";
                // a connect cancelled at a random point: whatever it created must be released
                return tracked(kind, netns.connect(ns, TcpClient.newConnection().host("127.0.0.1").port(TCP))
                        .doOnNext(c -> c.dispose())
                        .take(Duration.ofNanos(ThreadLocalRandom.current().nextLong(2_000_000)))
                        .then()
                        .doOnSuccess(v -> count(kind))
                        .onErrorResume(e -> record(kind, e)));
            }
            default -> {
                kind = "socket";
                answer = scheduler.call(ns, () -> {
                    SocketChannel.open().close();
                    return expected;
                });
            }
        }
        return tracked(kind, answer.timeout(Duration.ofSeconds(10))
                .doOnNext(a -> {
                    if (a.equals(expected)) {
                        count(kind);
                    } else {
                        mismatches.incrementAndGet();
                        System.err.println("mismatch: " + kind + " in " + expected + " answered '" + a + "'");
                    }
                })
                .then()
                .onErrorResume(e -> record(kind, e)));
    }

    /** Counts the ops of a kind in flight, to name them if the traffic does not end. */
    private Mono<Void> tracked(String kind, Mono<Void> op) {
        AtomicLong n = inFlightKinds.computeIfAbsent(kind, k -> new AtomicLong());
        return op.doOnSubscribe(s -> n.incrementAndGet()).doFinally(s -> n.decrementAndGet());
    }

    private void count(String key) {
        outcomes.computeIfAbsent(key + " ok", k -> new AtomicLong()).incrementAndGet();
    }

    /**
     * Typed: the toolkit's, a full queue, an I/O error (refused, reset, closed), a bounded timeout. Any
     * other rejection is not expected here: the scheduler is not disposed while traffic runs.
     */
    private Mono<Void> record(String kind, Throwable e) {
        Throwable t = Exceptions.unwrap(e);
        boolean typed = t instanceof NamespaceException || t instanceof RejectedExecutionException
                || t instanceof IOException || t instanceof TimeoutException
                || t.getCause() instanceof NamespaceException || t.getCause() instanceof IOException;
        Map<String, AtomicLong> into = typed ? outcomes : untyped;
        into.computeIfAbsent(kind + " " + t.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
        if (!typed) {
            System.err.println("untyped error in " + kind + ": " + t);
        }
        return Mono.empty();
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.SocketUnsupportedException;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;
import reactor.test.StepVerifier;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Stream sockets of protocols Reactor Netty does not make itself (MPTCP here; SCTP one-to-one where the
 * kernel has it), connected by {@link Netns#connect(NetNamespace, SocketSpec, InetSocketAddress)} and
 * listening by {@link Netns#bind(NetNamespace, SocketSpec, java.util.function.BiFunction)}.
 */
@ExtendWith(Privilege.class)
class StreamSocketTest {

    private static final int PORT = 18290;
    private static final int IPPROTO_MPTCP = 262;

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private Invariants.Snapshot before;
    private Netns toolkit;

    @BeforeEach
    void setUp() {
        before = Invariants.snapshot();
        toolkit = Netns.builder().loopThreads(2).dedicatedThreads(1).namePrefix("stream").build();
    }

    @AfterEach
    void tearDown() {
        toolkit.disposeNow();
        netns.cleanUp();
        before.assertClean(netns.prefix()); // threads at home, descriptors back, nothing left in /run/netns
    }

    @Test
    void aStreamSocketOfAnotherProtocolIsAnOrdinaryConnectionInItsNamespace() {
        NetNamespace ns = netns.create();
        DisposableServer echo = toolkit.bind(ns, TcpServer.create().host("127.0.0.1").port(PORT + 3)
                .handle((in, out) -> out.send(in.receive().retain()))).block(Duration.ofSeconds(10));
        SocketSpec mptcp = SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 262); // IPPROTO_MPTCP
        InetSocketAddress to = new InetSocketAddress(address("127.0.0.1"), PORT + 3);
        Connection c;
        try {
            c = toolkit.connect(ns, mptcp, to).block(Duration.ofSeconds(10));
            System.out.println("kernel feature: MPTCP connection made from inside " + ns.label());
        } catch (SocketUnsupportedException e) {
            System.out.println("kernel feature: no MPTCP here (" + e.getMessage() + "); plain TCP through the same path");
            c = toolkit.connect(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 6), to).block(Duration.ofSeconds(10));
        }
        Connection connection = c;
        assertThat(Netns.namespaceOf(connection)).isSameAs(ns);
        String echoed = connection.outbound().sendString(Mono.just("hello")).then()
                .then(connection.inbound().receive().asString().next()).block(Duration.ofSeconds(10));
        assertThat(echoed).isEqualTo("hello");
        connection.disposeNow();
        StepVerifier.create(toolkit.connect(ns, mptcp, new InetSocketAddress(address("127.0.0.1"), 1)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NamespaceIoException.class)
                        .hasMessageContaining("127.0.0.1:1").hasMessageContaining(ns.label()))
                .verify(Duration.ofSeconds(10));
        echo.disposeNow();
    }

    @Test
    void cancellingAStreamConnectStillUnderWayClosesItsSocketAtOnce() {
        List<NetNamespace> pair = netns.create(2);
        List<TempNamespaces.VethEnd> ends = netns.veth(pair.get(0), "10.99.0.1/24", pair.get(1), "10.99.0.2/24");
        // the far end down: the SYN waits for an ARP answer that never comes (no packet leaves the test's own veth)
        Commands.ok("ip", "-n", pair.get(1).name().orElseThrow(), "link", "set", ends.get(1).device(), "down");
        SocketSpec tcp = SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 6);
        Invariants.Snapshot beforeConnect = Invariants.snapshot();
        StepVerifier.create(toolkit.connect(pair.get(0), tcp, new InetSocketAddress(address("10.99.0.2"), 9)))
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(300)) // under way
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        beforeConnect.assertClean(); // the socket closed (within the 2 s it allows; the connect itself would take ~3 s to fail)
    }

    @Test
    void aListenerOfAnotherProtocolServesOrdinaryConnectionsInItsNamespace() {
        NetNamespace ns = netns.create();
        SocketSpec stream = mptcpOrTcp(ns);
        Set<NetNamespace> seen = ConcurrentHashMap.newKeySet();
        DisposableServer server = toolkit.bind(ns, stream.withBind(Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), 0))),
                (in, out) -> {
                    seen.add(Netns.namespaceOf(in));
                    return out.send(in.receive().retain());
                }).block(Duration.ofSeconds(10));
        assertThat(server.port()).isPositive(); // port 0: the kernel's choice, read back
        assertThat(Netns.namespaceOf(server)).isSameAs(ns);
        assertThat(Commands.ok("ip", "netns", "exec", ns.name().orElseThrow(), "ss", "-Hltn"))
                .contains("127.0.0.1:" + server.port()); // inside the namespace, not at home
        InetSocketAddress to = new InetSocketAddress(address("127.0.0.1"), server.port());
        for (SocketSpec client : List.of(stream, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 6))) {
            Connection c = toolkit.connect(ns, client, to).block(Duration.ofSeconds(10));
            String echoed = c.outbound().sendString(Mono.just("hello " + client.protocol())).then()
                    .then(c.inbound().receive().asString().next()).block(Duration.ofSeconds(10));
            assertThat(echoed).isEqualTo("hello " + client.protocol());
            c.disposeNow();
        }
        // and a Reactor Netty TcpClient of the toolkit's, as any client would
        String viaTcpClient = toolkit.connect(ns, reactor.netty.tcp.TcpClient.newConnection().host("127.0.0.1").port(server.port()))
                .flatMap(c -> c.outbound().sendString(Mono.just("tcp client")).then()
                        .then(c.inbound().receive().asString().next()).doFinally(s -> c.dispose()))
                .block(Duration.ofSeconds(10));
        assertThat(viaTcpClient).isEqualTo("tcp client");
        assertThat(seen).containsExactly(ns);
        server.disposeNow();
        StepVerifier.create(toolkit.connect(ns, stream, to)) // gone: refused, and its port free again
                .expectError(NamespaceIoException.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aHandlerThatFailsLosesItsConnectionAndTheListenerServesOn() {
        NetNamespace ns = netns.create();
        SocketSpec stream = mptcpOrTcp(ns);
        AtomicInteger accepted = new AtomicInteger();
        DisposableServer server = toolkit.bind(ns, stream.withBind(Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), PORT))),
                (in, out) -> switch (accepted.incrementAndGet()) {
                    case 1 -> throw new IllegalStateException("the handler throws");
                    case 2 -> in.receive().asString().next().then(Mono.<Void>error(new IllegalStateException("the handler fails")));
                    default -> out.sendString(in.receive().asString().next().map(line -> "ok " + line)).then();
                }).block(Duration.ofSeconds(10));
        InetSocketAddress to = new InetSocketAddress(address("127.0.0.1"), PORT);
        for (String line : List.of("throw", "error")) {
            Connection c = toolkit.connect(ns, stream, to).block(Duration.ofSeconds(10));
            // the server closes it with nothing sent back (a close over unread data may reach the client as a reset)
            List<String> received = c.outbound().sendString(Mono.just(line)).then()
                    .thenMany(c.inbound().receive().asString()).onErrorResume(e -> Mono.empty())
                    .collectList().block(Duration.ofSeconds(10));
            assertThat(received).isEmpty();
            c.onDispose().block(Duration.ofSeconds(10));
        }
        Connection c = toolkit.connect(ns, stream, to).block(Duration.ofSeconds(10));
        // receiving before sending: Reactor Netty drops what arrived for nobody once the peer has closed
        StepVerifier.create(c.inbound().receive().asString())
                .then(() -> c.outbound().sendString(Mono.just("fine")).then().subscribe())
                .expectNext("ok fine")
                .expectComplete() // the handler's publisher ended: the server disposed the connection
                .verify(Duration.ofSeconds(10));
        c.disposeNow();
        server.disposeNow();
    }

    @Test
    void connectionsOfAListenerCloseWithReleaseAndBadInputIsRefused() {
        NetNamespace ns = netns.create();
        SocketSpec stream = mptcpOrTcp(ns);
        byte[] at = Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), PORT + 1));
        DisposableServer server = toolkit.bind(ns, stream.withBind(at), (in, out) -> out.send(in.receive().retain()))
                .block(Duration.ofSeconds(10));
        Connection c = toolkit.connect(ns, stream, new InetSocketAddress(address("127.0.0.1"), PORT + 1)).block(Duration.ofSeconds(10));
        // the same address again: a one-line error naming the call, the address and the namespace
        StepVerifier.create(toolkit.bind(ns, stream.withBind(at), (in, out) -> Mono.empty()))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NamespaceIoException.class)
                        .hasMessageContaining("bind 127.0.0.1:" + (PORT + 1)).hasMessageContaining(ns.label())
                        .hasMessageNotContaining("\n"))
                .verify(Duration.ofSeconds(10));
        // cancelled at once: whatever was made is closed (checked by tearDown's descriptor count)
        StepVerifier.create(toolkit.bind(ns, stream.withBind(Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), 0))),
                (in, out) -> Mono.empty())).thenCancel().verify(Duration.ofSeconds(10));
        assertThatThrownBy(() -> toolkit.bind(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, 17).withBind(at),
                (in, out) -> Mono.empty())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(ns.label());
        assertThatThrownBy(() -> toolkit.bind(ns, stream, (in, out) -> Mono.empty())) // no address
                .isInstanceOf(IllegalArgumentException.class);
        toolkit.release(ns).block(Duration.ofSeconds(10)); // the listener and its connections, both ends
        c.onDispose().block(Duration.ofSeconds(10));
        server.onDispose().block(Duration.ofSeconds(10));
        assertThat(server.isDisposed()).isTrue();
    }

    @Test
    void aClientThatHalfClosesGetsEveryByteItSentBackFromAnEchoListener() {
        NetNamespace ns = netns.create();
        SocketSpec stream = mptcpOrTcp(ns);
        DisposableServer server = toolkit.bind(ns, stream.withBind(Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), 0))),
                (in, out) -> out.send(in.receive().retain())).block(Duration.ofSeconds(10));
        InetSocketAddress to = new InetSocketAddress(address("127.0.0.1"), server.port());
        byte[] sent = new byte[3_000_000];
        new java.util.Random(7).nextBytes(sent);
        for (int round = 0; round < 5; round++) {
            Connection c = toolkit.connect(ns, stream, to).block(Duration.ofSeconds(10));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            // everything back, then the server's close: the inbound completes
            StepVerifier.create(c.inbound().receive().asByteArray().doOnNext(got::writeBytes).then())
                    .then(() -> c.outbound().sendByteArray(Mono.just(sent)).then()
                            .then(Mono.fromRunnable(() -> ((io.netty.channel.socket.DuplexChannel) c.channel()).shutdownOutput()))
                            .subscribe())
                    .verifyComplete();
            assertThat(got.size()).as("bytes back in round " + round).isEqualTo(sent.length);
            assertThat(java.util.Arrays.equals(got.toByteArray(), sent)).isTrue();
            c.disposeNow();
        }
        server.disposeNow();
    }

    /** MPTCP where the kernel offers it in {@code ns}, else TCP through the same path; the output names which. */
    private SocketSpec mptcpOrTcp(NetNamespace ns) {
        SocketSpec mptcp = SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, IPPROTO_MPTCP);
        try {
            toolkit.openSocket(ns, mptcp).block(Duration.ofSeconds(10)).dispose();
            System.out.println("kernel feature: MPTCP in " + ns.label());
            return mptcp;
        } catch (SocketUnsupportedException e) {
            System.out.println("kernel feature: no MPTCP here (" + e.getMessage() + "); plain TCP through the same path");
            return SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 6);
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}

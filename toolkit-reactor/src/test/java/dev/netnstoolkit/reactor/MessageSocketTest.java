package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.SocketUnsupportedException;
import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sockets of any kind through {@link Netns#openSocket}, and ICMP echo through {@link Netns#ping}. */
@ExtendWith(Privilege.class)
class MessageSocketTest {

    private static final int PORT = 18190;

    @RegisterExtension
    final TempNamespaces netns = new TempNamespaces();

    private Invariants.Snapshot before;
    private Netns toolkit;

    @BeforeEach
    void setUp() {
        before = Invariants.snapshot();
        toolkit = Netns.builder().loopThreads(2).dedicatedThreads(1).namePrefix("msg").build();
    }

    @AfterEach
    void tearDown() {
        toolkit.disposeNow();
        netns.cleanUp();
        before.assertClean(netns.prefix()); // threads at home, descriptors back, nothing left in /run/netns
    }

    @Test
    void pingFromEveryNamespaceOverIpv4AndIpv6DatagramWhereAllowedRawElsewhere() {
        List<NetNamespace> spaces = netns.create(3);
        String allowed = spaces.get(0).name().orElseThrow();
        Commands.ok("ip", "netns", "exec", allowed, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647");
        for (String host : List.of("127.0.0.1", "::1")) {
            List<PingResult> results = Flux.fromIterable(spaces)
                    .flatMapSequential(ns -> toolkit.ping(ns, address(host), 3, Duration.ofMillis(10), Duration.ofSeconds(5)))
                    .collectList().block(Duration.ofSeconds(30));
            assertThat(results).hasSize(3).allSatisfy(r -> {
                assertThat(r.sent()).isEqualTo(3);
                assertThat(r.received()).as("replies to %s in %s", host, r.namespace().label()).isEqualTo(3);
                assertThat(r.lost()).isZero();
                assertThat(r.min()).isNotNull().isLessThanOrEqualTo(r.max());
            });
            assertThat(results.get(0).method()).isEqualTo(PingResult.DATAGRAM);
            assertThat(results.get(1).method()).isEqualTo(PingResult.RAW);
            assertThat(results.get(2).method()).isEqualTo(PingResult.RAW);
        }
    }

    @Test
    void aPingThatCannotBeSentIsATypedErrorNamingTheNamespaceAndTheCallAndLeavesNothingOpen() {
        NetNamespace ns = netns.create(); // only lo: 192.0.2.1 (TEST-NET-1) has no route, nothing is sent
        StepVerifier.create(toolkit.ping(ns, address("192.0.2.1"), 2, Duration.ofMillis(10), Duration.ofSeconds(1)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NamespaceException.class)
                        .hasMessageContaining("sendto").hasMessageContaining(ns.label()))
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void messagesAreReadOnlyOnDemandAndCancellingTheReceiverClosesTheSocket() {
        NetNamespace ns = netns.create();
        byte[] here = Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), PORT));
        MessageSocket socket = toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP)
                .withBind(here)).block(Duration.ofSeconds(10));
        assertThat(socket.namespace()).isSameAs(ns);
        // 20 datagrams to itself, waiting in the kernel until asked for
        Flux.range(0, 20).concatMap(i -> socket.send(("m" + i).getBytes(StandardCharsets.UTF_8), here)).blockLast(Duration.ofSeconds(10));
        StepVerifier.create(socket.receive().map(m -> new String(m.data(), StandardCharsets.UTF_8)), 0)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(100))
                .thenRequest(3)
                .expectNext("m0", "m1", "m2")
                .expectNoEvent(Duration.ofMillis(100)) // 17 more are there, none read
                .thenRequest(1)
                .assertNext(m -> assertThat(m).isEqualTo("m3"))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        socket.onDispose().block(Duration.ofSeconds(10));
        assertThat(socket.isDisposed()).isTrue();
        StepVerifier.create(socket.send(new byte[] {1}, here)).expectError(IllegalStateException.class).verify(Duration.ofSeconds(5));
    }

    @Test
    void netlinkInsideANamespaceSeesItsOwnLinksComeAndGo() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        int rtmgrpLink = 1;
        MessageSocket links = toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_NETLINK, SocketSpec.SOCK_RAW, SocketSpec.NETLINK_ROUTE)
                .withBind(Sockaddr.netlink(rtmgrpLink))).block(Duration.ofSeconds(10));
        StepVerifier.create(links.receive().map(m -> m.data()[4] & 0xff).filter(type -> type == 16).take(1)) // RTM_NEWLINK
                .then(() -> Commands.ok("ip", "-n", name, "link", "add", "ntkv0", "type", "veth", "peer", "name", "ntkv1"))
                .expectNext(16)
                .verifyComplete(); // take(1) cancels: the socket closes
        Commands.ok("ip", "-n", name, "link", "del", "ntkv0");
        links.onDispose().block(Duration.ofSeconds(10));
    }

    @Test
    void linksOfEachNamespaceThenEveryChangeThereEachWithItsNamespace() {
        List<NetNamespace> spaces = netns.create(2);
        NetNamespace a = spaces.get(0);
        String name = a.name().orElseThrow();
        Runnable changes = () -> {
            Commands.ok("ip", "-n", name, "link", "add", "ntkv0", "type", "veth", "peer", "name", "ntkv1");
            Commands.ok("ip", "-n", name, "link", "set", "ntkv0", "up");
            Commands.ok("ip", "-n", name, "addr", "add", "10.77.0.1/24", "dev", "ntkv0");
            Commands.ok("ip", "-n", name, "link", "set", "ntkv0", "down");
            Commands.ok("ip", "-n", name, "link", "del", "ntkv0");
        };
        StepVerifier.create(toolkit.links(a).map(Object::toString).takeUntil(s -> s.equals(name + " ntkv0 removed")))
                .expectNext(name + " lo present up")
                .then(changes)
                .recordWith(ArrayList::new)
                .thenConsumeWhile(s -> true)
                .consumeRecordedWith(seen -> assertThat(seen)
                        .contains(name + " ntkv1 added")
                        .containsSubsequence(name + " ntkv0 added", name + " ntkv0 up", name + " ntkv0 address added 10.77.0.1/24",
                                name + " ntkv0 down", name + " ntkv0 removed"))
                .verifyComplete(); // takeUntil cancels the links: the socket closes
        // the other namespace saw none of it
        StepVerifier.create(toolkit.links(spaces.get(1)).map(Object::toString))
                .expectNext(spaces.get(1).name().orElseThrow() + " lo present up")
                .expectNoEvent(Duration.ofMillis(200))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aVethPairAddedAndDeletedFromInsideIsSeenByIproute2AndByTheLinks() {
        NetNamespace ns = netns.create();
        String name = ns.name().orElseThrow();
        StepVerifier.create(toolkit.links(ns).map(Object::toString).takeUntil(s -> s.equals(name + " ntka removed")))
                .expectNext(name + " lo present up")
                .then(() -> {
                    toolkit.addVethPair(ns, "ntka", "ntkb").block(Duration.ofSeconds(10));
                    assertThat(Commands.ok("ip", "-n", name, "-o", "link", "show")).contains("ntka@ntkb").contains("ntkb@ntka");
                    toolkit.deleteLink(ns, "ntka").block(Duration.ofSeconds(10));
                })
                .recordWith(ArrayList::new)
                .thenConsumeWhile(s -> true)
                .consumeRecordedWith(seen -> assertThat(seen).contains(name + " ntka added", name + " ntkb added", name + " ntka removed"))
                .verifyComplete();
        assertThat(Commands.ok("ip", "-n", name, "-o", "link", "show")).doesNotContain("ntka");
        // the kernel's refusal, typed and named: the name is taken now
        toolkit.addVethPair(ns, "ntka", "ntkb").block(Duration.ofSeconds(10));
        StepVerifier.create(toolkit.addVethPair(ns, "ntka", "ntkc"))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NamespaceException.class)
                        .hasMessageContaining("add veth pair ntka/ntkc in " + name).hasMessageContaining("errno 17"))
                .verify(Duration.ofSeconds(10));
        StepVerifier.create(toolkit.deleteLink(ns, "nosuch"))
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("delete link nosuch in " + name))
                .verify(Duration.ofSeconds(10));
        assertThatThrownBy(() -> toolkit.addVethPair(ns, "a/b", "c").block()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sctpOnAKernelWithoutItIsATypedErrorAndWorksWhereTheKernelHasIt() {
        NetNamespace ns = netns.create();
        SocketSpec sctp = SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_SEQPACKET, SocketSpec.IPPROTO_SCTP);
        MessageSocket made;
        try {
            made = toolkit.openSocket(ns, sctp).block(Duration.ofSeconds(10));
        } catch (SocketUnsupportedException e) {
            System.out.println("kernel feature: this kernel has no SCTP (" + e.getMessage() + "); the typed error is checked");
            assertThat(e.syscall()).isEqualTo("socket");
            assertThat(e.errno()).isIn(93, 94); // EPROTONOSUPPORT, ESOCKTNOSUPPORT
            assertThat(e).hasMessageContaining(ns.label());
            return;
        }
        System.out.println("kernel feature: this kernel has SCTP; a one-to-many server and client exchange messages");
        assertThat(made.namespace()).isSameAs(ns);
        made.dispose();
        made.onDispose().block(Duration.ofSeconds(10));
        byte[] at = Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), PORT + 1));
        MessageSocket server = toolkit.openSocket(ns, sctp.withBind(at).withListen(8)).block(Duration.ofSeconds(10));
        MessageSocket client = toolkit.openSocket(ns, sctp).block(Duration.ofSeconds(10));
        StepVerifier.create(server.receive().take(1)
                        .flatMap(m -> server.send(("re " + new String(m.data(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                                m.from()).thenReturn(m))
                        .thenMany(client.receive().take(1).map(m -> new String(m.data(), StandardCharsets.UTF_8))))
                .then(() -> client.send("hello".getBytes(StandardCharsets.UTF_8), at).block(Duration.ofSeconds(10)))
                .expectNext("re hello")
                .verifyComplete(); // both receivers cancelled by take(1): both sockets closed
    }

    @Test
    void badInputGivesTypedErrorsAndNothingIsLeftOpen() {
        NetNamespace ns = netns.create();
        StepVerifier.create(toolkit.openSocket(ns, SocketSpec.of(12345, SocketSpec.SOCK_DGRAM, 0)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(SocketUnsupportedException.class).hasMessageContaining(ns.label()))
                .verify(Duration.ofSeconds(10));
        StepVerifier.create(toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP)
                        .withOption(1, 99999, 1))) // SOL_SOCKET, no such option: the socket made is closed again
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NamespaceException.class).hasMessageContaining("setsockopt"))
                .verify(Duration.ofSeconds(10));
        NetNamespace closed = NamespaceRegistry.system().open(ns.name().orElseThrow());
        closed.close();
        StepVerifier.create(toolkit.openSocket(closed, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP)))
                .expectError(ClosedNamespaceException.class)
                .verify(Duration.ofSeconds(10));
        // a listener (the path a one-to-many SCTP server takes): bound and listening inside, as ss sees it there
        MessageSocket listener = toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 0)
                .withBind(Sockaddr.inet(new InetSocketAddress(address("127.0.0.1"), PORT + 2))).withListen(4)).block(Duration.ofSeconds(10));
        assertThat(Commands.ok("ip", "netns", "exec", ns.name().orElseThrow(), "ss", "-Hltn")).contains("127.0.0.1:" + (PORT + 2));
        listener.dispose();
        assertThatThrownBy(() -> SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_STREAM, 0).withListen(0))
                .isInstanceOf(IllegalArgumentException.class);
        // release(ns) closes the sockets made through that handle
        MessageSocket stays = toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP))
                .block(Duration.ofSeconds(10));
        NetNamespace other = NamespaceRegistry.system().open(ns.name().orElseThrow());
        MessageSocket goes = toolkit.openSocket(other, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP))
                .block(Duration.ofSeconds(10));
        toolkit.release(other).block(Duration.ofSeconds(10));
        assertThat(goes.isDisposed()).isTrue();
        assertThat(stays.isDisposed()).isFalse(); // made through another handle
        stays.dispose();
        // an open socket is closed with the toolkit
        MessageSocket open = toolkit.openSocket(ns, SocketSpec.of(SocketSpec.AF_INET, SocketSpec.SOCK_DGRAM, SocketSpec.IPPROTO_UDP))
                .block(Duration.ofSeconds(10));
        toolkit.disposeNow();
        assertThat(open.isDisposed()).isTrue();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}

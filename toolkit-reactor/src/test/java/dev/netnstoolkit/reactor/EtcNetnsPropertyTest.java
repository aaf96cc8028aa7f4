package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.test.Invariants;
import dev.netnstoolkit.test.Privilege;
import dev.netnstoolkit.test.TempNamespaces;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property-based content of {@code /etc/netns/NAME/resolv.conf} and {@code hosts}: whatever is in them,
 * reading them gives name servers and hosts entries or an error naming the file, the valid lines
 * count, and nothing on disk changes.
 */
class EtcNetnsPropertyTest {

    private static TempNamespaces netns;
    private static NetNamespace ns;
    private static Path dir;
    private static Invariants.Snapshot before;

    @BeforeContainer
    static void setUp() throws IOException {
        Privilege.require();
        before = Invariants.snapshot();
        netns = new TempNamespaces();
        ns = netns.create();
        dir = Files.createDirectories(Path.of(NamespaceDns.ETC_NETNS, ns.name().orElseThrow()));
    }

    @AfterContainer
    static void tearDown() throws IOException {
        if (dir != null) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
        if (netns != null) {
            netns.cleanUp();
            before.assertClean(netns.prefix());
        }
    }

    /** Lines of resolv.conf: real directives with good and bad values, and noise. No 'q' anywhere. */
    @Provide
    Arbitrary<String> resolvConf() {
        Arbitrary<String> noise = Arbitraries.strings().withCharRange(' ', 'p').withChars('\t', 'é', '\0', '#', ';').ofMaxLength(30);
        Arbitrary<String> value = Arbitraries.oneOf(noise, Arbitraries.of("127.0.0.53", "::1", "127.0.0.1#5353", "999.1.1.1",
                "ndots:", "ndots:x", "ndots:-1", "ndots:99999999999", "timeout:0", "attempts:abc", "rotate", ""));
        Arbitrary<String> line = Arbitraries.oneOf(noise,
                Arbitraries.of("nameserver", "search", "domain", "options", "sortlist").flatMap(d -> value.map(v -> d + " " + v)));
        return line.list().ofMaxSize(12).map(l -> String.join("\n", l));
    }

    @Property(tries = 200)
    void anyResolvConfGivesNameServersOrAnErrorNamingTheFile(@ForAll("resolvConf") String content) throws IOException {
        Path file = Files.writeString(dir.resolve("resolv.conf"), content);
        try {
            DnsServerAddressStreamProvider servers = NamespaceDns.nameServers(ns);
            assertThat(servers.nameServerAddressStream("example.test").next()).isNotNull();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith("cannot use " + file + ": ");
        }
        assertUnchanged(file, content);
    }

    /** Noise lines without 'q', so the one generated host name (with a 'q') is unique. */
    @Provide
    Arbitrary<String> hostsNoise() {
        Arbitrary<String> noise = Arbitraries.strings().withCharRange(' ', 'p').withChars('\t', 'é', '\0', '#', ':').ofMaxLength(40);
        Arbitrary<String> entry = Arbitraries.of("127.0.0.1", "::1", "300.1.1.1", "10.0.0", "fe80::1%lo", "")
                .flatMap(ip -> noise.map(n -> ip + " " + n));
        return Arbitraries.oneOf(noise, entry).list().ofMaxSize(10).map(l -> String.join("\n", l));
    }

    @Property(tries = 200)
    void anyHostsFileKeepsItsValidLines(@ForAll("hostsNoise") String before, @ForAll("hostsNoise") String after,
                                        @ForAll("octet") int octet) throws IOException {
        String name = "ntk-q" + octet + ".test";
        String ip = "127.0.0." + octet;
        String content = before + "\n" + ip + "\t" + name.toUpperCase() + " alias-q" + octet + "  # comment\n" + after;
        Path file = Files.writeString(dir.resolve("hosts"), content);
        try {
            var hosts = NamespaceDns.hosts(ns);
            assertThat(hosts.address(name, ResolvedAddressTypes.IPV4_PREFERRED)).isEqualTo(InetAddress.getByName(ip));
            assertThat(hosts.address("alias-q" + octet, ResolvedAddressTypes.IPV4_ONLY)).isEqualTo(InetAddress.getByName(ip));
            assertThat(hosts.address("absent-q.test", ResolvedAddressTypes.IPV4_PREFERRED)).isNull();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith("cannot use " + file + ": ");
        }
        assertUnchanged(file, content);
    }

    @Provide
    Arbitrary<Integer> octet() {
        return Arbitraries.integers().between(1, 254);
    }

    private static void assertUnchanged(Path file, String content) throws IOException {
        assertThat(Files.readString(file)).isEqualTo(content);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).isSubsetOf(List.of("resolv.conf", "hosts"));
        }
    }
}

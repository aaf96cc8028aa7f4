package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.HostsFileEntriesProvider;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.UnixResolverDnsServerAddressStreamProvider;

import reactor.netty.resources.LoopResources;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Name resolution configuration of one namespace, as {@code ip netns exec} sets it up: each file in
 * {@code /etc/netns/NAME/} (resolv.conf, hosts) replaces its namesake in {@code /etc}; files that are
 * not there fall back to the host's. Unnamed namespaces use the host's files.
 */
final class NamespaceDns {

    static final String ETC_NETNS = "/etc/netns";

    private NamespaceDns() {
    }

    /** The file {@code /etc/netns/NAME/file} if it exists, else {@code /etc/file}. */
    static File fileFor(NetNamespace ns, String file) {
        if (ns.name().isPresent()) {
            File own = new File(ETC_NETNS + "/" + ns.name().get(), file);
            if (own.isFile()) {
                return own;
            }
        }
        return new File("/etc", file);
    }

    /**
     * A DNS resolver group for {@code ns}: its UDP and TCP sockets are created through {@code view}
     * (inside the namespace), name servers and hosts as above. The caller closes it. Built directly
     * rather than through Reactor Netty's resolver spec, whose resolvers live in a global cache forever.
     */
    static DnsAddressResolverGroup resolverGroup(NetNamespace ns, LoopResources view) {
        EventLoopGroup group = view.onClient(true);
        DnsNameResolverBuilder builder = new DnsNameResolverBuilder()
                .datagramChannelFactory(() -> view.onChannel(DatagramChannel.class, group))
                .socketChannelFactory(() -> view.onChannel(SocketChannel.class, group), false)
                .nameServerProvider(nameServers(ns))
                .hostsFileEntriesResolver(hosts(ns));
        return new DnsAddressResolverGroup(builder);
    }

    /** Name servers from the namespace's resolv.conf. */
    static DnsServerAddressStreamProvider nameServers(NetNamespace ns) {
        File resolvConf = fileFor(ns, "resolv.conf");
        if (!resolvConf.isFile()) {
            return DnsServerAddressStreamProviders.platformDefault();
        }
        return parse(resolvConf, UnixResolverDnsServerAddressStreamProvider::new);
    }

    /** Entries of the namespace's hosts file, read once. */
    static HostsFileEntriesResolver hosts(NetNamespace ns) {
        File hostsFile = fileFor(ns, "hosts");
        HostsFileEntriesProvider entries = hostsFile.isFile()
                ? parse(hostsFile, f -> HostsFileEntriesProvider.parser().parse(f, StandardCharsets.UTF_8))
                : null;
        Map<String, List<InetAddress>> ipv4 = entries == null ? Map.of() : entries.ipv4Entries();
        Map<String, List<InetAddress>> ipv6 = entries == null ? Map.of() : entries.ipv6Entries();
        return (host, types) -> {
            String key = host.toLowerCase(Locale.ROOT);
            List<InetAddress> a4 = ipv4.get(key);
            List<InetAddress> a6 = ipv6.get(key);
            InetAddress first4 = a4 == null || a4.isEmpty() ? null : a4.get(0);
            InetAddress first6 = a6 == null || a6.isEmpty() ? null : a6.get(0);
            if (types == ResolvedAddressTypes.IPV4_ONLY) {
                return first4;
            }
            if (types == ResolvedAddressTypes.IPV6_ONLY) {
                return first6;
            }
            if (types == ResolvedAddressTypes.IPV6_PREFERRED) {
                return first6 != null ? first6 : first4;
            }
            return first4 != null ? first4 : first6;
        };
    }

    private interface Parser<T> {
        T parse(File file) throws IOException;
    }

    /** Netty's parsers throw unchecked exceptions on bad values (e.g. {@code options ndots:x}): name the file. */
    private static <T> T parse(File file, Parser<T> parser) {
        try {
            return parser.parse(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot use " + file + ": " + e.getMessage(), e);
        }
    }
}

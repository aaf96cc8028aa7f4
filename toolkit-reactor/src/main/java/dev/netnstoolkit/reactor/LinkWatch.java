package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.LinkEvent;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.api.SocketSpec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code Netns.links}: an rtnetlink socket made inside the namespace, joined to the link and address
 * groups before it asks for the links there now, so that nothing falls between the dump and the
 * changes. What the kernel reports is compared with what was seen, so that each change is told once.
 */
final class LinkWatch {

    private static final int RTMGRP_LINK = 0x1, RTMGRP_IPV4_IFADDR = 0x10, RTMGRP_IPV6_IFADDR = 0x100;
    private static final int NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_DELADDR = 21;
    private static final int NLM_F_REQUEST = 0x1, NLM_F_DUMP = 0x300;
    private static final int IFLA_IFNAME = 3, IFA_ADDRESS = 1, IFA_LOCAL = 2;
    private static final int IFF_UP = 0x1;

    private final NetNamespace ns;
    /** A link as last reported. */
    private static final class Link {
        String name;
        boolean up;

        Link(String name, boolean up) {
            this.name = name;
            this.up = up;
        }
    }

    /** By index; only on the socket's loop (receive() signals there). */
    private final Map<Integer, Link> links = new HashMap<>();
    private boolean dumped;

    private LinkWatch(NetNamespace ns) {
        this.ns = ns;
    }

    static Flux<LinkEvent> of(SocketOpener sockets, NetNamespace ns) {
        SocketSpec spec = SocketSpec.of(SocketSpec.AF_NETLINK, SocketSpec.SOCK_RAW, SocketSpec.NETLINK_ROUTE)
                .withBind(Sockaddr.netlink(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR));
        return Flux.usingWhen(sockets.open(ns, spec),
                socket -> Flux.defer(() -> {
                    LinkWatch watch = new LinkWatch(ns);
                    return socket.send(dumpRequest(), Sockaddr.netlink(0))
                            .thenMany(socket.receive().concatMapIterable(m -> watch.parse(m.data())));
                }),
                socket -> Mono.fromRunnable(socket::dispose));
    }

    /** RTM_GETLINK with NLM_F_DUMP: a netlink header and an empty ifinfomsg. */
    private static byte[] dumpRequest() {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
        b.putInt(32).putShort((short) RTM_GETLINK).putShort((short) (NLM_F_REQUEST | NLM_F_DUMP)).putInt(1).putInt(0);
        return b.array(); // the ifinfomsg after the header stays zero: every family, every link
    }

    /** The events in one datagram, which may hold several netlink messages. */
    List<LinkEvent> parse(byte[] data) {
        List<LinkEvent> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
        while (b.remaining() >= 16) {
            int start = b.position();
            int length = b.getInt();
            int type = b.getShort() & 0xffff;
            b.getShort(); // flags
            b.getInt(); // seq
            b.getInt(); // pid
            if (length < 16 || start + length > data.length) {
                break;
            }
            ByteBuffer body = ByteBuffer.wrap(data, start + 16, length - 16).slice().order(ByteOrder.nativeOrder());
            switch (type) {
                case NLMSG_DONE -> dumped = true;
                case NLMSG_ERROR -> {
                    int errno = -body.getInt();
                    if (errno != 0) {
                        throw new NamespaceException("netlink request in " + ns.label() + " failed (errno " + errno + ")",
                                "netlink", errno, ns.label(), null);
                    }
                }
                case RTM_NEWLINK, RTM_DELLINK -> link(type == RTM_NEWLINK, body, out);
                case RTM_NEWADDR, RTM_DELADDR -> address(type == RTM_NEWADDR, body, out);
                default -> { }
            }
            b.position(start + align(length));
        }
        return out;
    }

    private void link(boolean present, ByteBuffer body, List<LinkEvent> out) {
        body.get(); // family
        body.get();
        body.getShort(); // type
        int index = body.getInt();
        boolean up = (body.getInt() & IFF_UP) != 0;
        body.getInt(); // change
        String name = attributes(body).getOrDefault(IFLA_IFNAME, null) instanceof byte[] raw ? cString(raw) : null;
        Link seen = links.get(index);
        if (!present) {
            if (links.remove(index) != null) {
                out.add(event(LinkEvent.Kind.REMOVED, index, name != null ? name : seen.name, null));
            }
            return;
        }
        if (seen == null) {
            links.put(index, new Link(name, up));
            out.add(event(!dumped ? (up ? LinkEvent.Kind.PRESENT_UP : LinkEvent.Kind.PRESENT_DOWN) : LinkEvent.Kind.ADDED, index, name, null));
            if (dumped && up) {
                out.add(event(LinkEvent.Kind.UP, index, name, null));
            }
            return;
        }
        if (name != null) {
            seen.name = name;
        }
        if (seen.up != up) {
            seen.up = up;
            out.add(event(up ? LinkEvent.Kind.UP : LinkEvent.Kind.DOWN, index, seen.name, null));
        }
    }

    private void address(boolean added, ByteBuffer body, List<LinkEvent> out) {
        body.get(); // family
        int prefix = body.get() & 0xff;
        body.get(); // flags
        body.get(); // scope
        int index = body.getInt();
        Map<Integer, Object> attrs = attributes(body);
        Object raw = attrs.containsKey(IFA_LOCAL) ? attrs.get(IFA_LOCAL) : attrs.get(IFA_ADDRESS);
        String address;
        try {
            address = raw instanceof byte[] ip ? shortForm(InetAddress.getByAddress(ip).getHostAddress()) + "/" + prefix : null;
        } catch (UnknownHostException e) {
            address = null;
        }
        Link seen = links.get(index);
        out.add(event(added ? LinkEvent.Kind.ADDRESS_ADDED : LinkEvent.Kind.ADDRESS_REMOVED, index,
                seen != null ? seen.name : "#" + index, address));
    }

    private LinkEvent event(LinkEvent.Kind kind, int index, String name, String address) {
        return new LinkEvent(ns, kind, index, name, address);
    }

    /** rtattr list: type to its payload. */
    private static Map<Integer, Object> attributes(ByteBuffer b) {
        Map<Integer, Object> attrs = new HashMap<>();
        while (b.remaining() >= 4) {
            int start = b.position();
            int length = b.getShort() & 0xffff;
            int type = b.getShort() & 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            if (length < 4 || start + length > b.limit()) {
                break;
            }
            byte[] payload = new byte[length - 4];
            b.get(payload);
            attrs.putIfAbsent(type, payload);
            b.position(Math.min(b.limit(), start + align(length)));
        }
        return attrs;
    }

    /** An IPv6 address with its longest run of zero groups written {@code ::}, as ip(8) prints it. */
    static String shortForm(String address) {
        if (!address.contains(":")) {
            return address;
        }
        String[] groups = address.split(":");
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; i++) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
        }
        if (bestStart < 0) {
            return address;
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
        return head + "::" + tail;
    }

    private static String cString(byte[] raw) {
        int end = 0;
        while (end < raw.length && raw[end] != 0) {
            end++;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    private static int align(int length) {
        return (length + 3) & ~3;
    }
}

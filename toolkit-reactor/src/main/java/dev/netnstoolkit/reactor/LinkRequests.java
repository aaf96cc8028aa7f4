package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.Sockaddr;
import dev.netnstoolkit.api.SocketSpec;
import reactor.core.publisher.Mono;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * rtnetlink requests made from inside a namespace ({@code Netns.addVethPair}, {@code Netns.deleteLink}):
 * one netlink socket for the request and the kernel's acknowledgement, closed after it, so that no
 * {@code ip} process is started per namespace.
 */
final class LinkRequests {

    private static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, NLMSG_ERROR = 2;
    private static final int NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;
    private static final int IFLA_IFNAME = 3, IFLA_LINKINFO = 18, IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1;
    private static final int EPERM = 1, EACCES = 13;

    private LinkRequests() {
    }

    static Mono<Void> addVethPair(SocketOpener sockets, NetNamespace ns, String name, String peer) {
        byte[] peerInfo = concat(ifinfomsg(), attribute(IFLA_IFNAME, cString(name(peer))));
        byte[] linkInfo = concat(attribute(IFLA_INFO_KIND, cString("veth")),
                attribute(IFLA_INFO_DATA, attribute(VETH_INFO_PEER, peerInfo)));
        byte[] body = concat(ifinfomsg(), attribute(IFLA_IFNAME, cString(name(name))), attribute(IFLA_LINKINFO, linkInfo));
        return request(sockets, ns, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, "add veth pair " + name + "/" + peer);
    }

    static Mono<Void> deleteLink(SocketOpener sockets, NetNamespace ns, String name) {
        byte[] body = concat(ifinfomsg(), attribute(IFLA_IFNAME, cString(name(name))));
        return request(sockets, ns, RTM_DELLINK, 0, body, "delete link " + name);
    }

    /** Sends one request and completes on the kernel's acknowledgement; its error, typed, otherwise. */
    private static Mono<Void> request(SocketOpener sockets, NetNamespace ns, int type, int flags, byte[] body, String what) {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length).order(ByteOrder.nativeOrder());
        b.putInt(16 + body.length).putShort((short) type).putShort((short) (NLM_F_REQUEST | NLM_F_ACK | flags)).putInt(1).putInt(0).put(body);
        SocketSpec spec = SocketSpec.of(SocketSpec.AF_NETLINK, SocketSpec.SOCK_RAW, SocketSpec.NETLINK_ROUTE);
        return Mono.usingWhen(sockets.open(ns, spec),
                socket -> socket.send(b.array(), Sockaddr.netlink(0))
                        .then(socket.receive().map(m -> ackErrno(m.data())).filter(errno -> errno >= 0).next())
                        .flatMap(errno -> errno == 0 ? Mono.<Void>empty() : Mono.error(failure(what, ns, errno))),
                socket -> Mono.fromRunnable(socket::dispose));
    }

    /** The errno of an NLMSG_ERROR (0: acknowledged), or -1 for any other message. */
    private static int ackErrno(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
        if (data.length < 20 || (b.getShort(4) & 0xffff) != NLMSG_ERROR) {
            return -1;
        }
        return -b.getInt(16);
    }

    private static NamespaceException failure(String what, NetNamespace ns, int errno) {
        String message = what + " in " + ns.label() + " failed (errno " + errno + ")";
        if (errno == EPERM || errno == EACCES) {
            return new NamespacePermissionException("permission denied, needs CAP_NET_ADMIN: " + message, "rtnetlink", errno,
                    ns.label(), "CAP_NET_ADMIN");
        }
        return new NamespaceException(message, "rtnetlink", errno, ns.label(), null);
    }

    private static String name(String link) {
        if (link == null || link.isEmpty() || link.length() > 15 || link.contains("/") || link.chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("invalid link name '" + link + "': 1 to 15 characters, no '/' or white space");
        }
        return link;
    }

    private static byte[] ifinfomsg() {
        return new byte[16]; // any family, no index: the kernel picks one
    }

    /** An rtattr: length, type, payload, padded to 4 bytes. */
    private static byte[] attribute(int type, byte[] payload) {
        int length = 4 + payload.length;
        ByteBuffer b = ByteBuffer.allocate((length + 3) & ~3).order(ByteOrder.nativeOrder());
        b.putShort((short) length).putShort((short) type).put(payload);
        return b.array();
    }

    private static byte[] cString(String s) {
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[raw.length + 1];
        System.arraycopy(raw, 0, z, 0, raw.length);
        return z;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

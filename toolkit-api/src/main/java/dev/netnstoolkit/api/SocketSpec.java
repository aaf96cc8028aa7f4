package dev.netnstoolkit.api;

import java.util.ArrayList;
import java.util.List;

/**
 * What socket to make in a namespace: family, type and protocol as socket(2) takes them, integer
 * options set before it is used, and an optional address to bind. Immutable; the constants cover the
 * kinds the toolkit's own users need (ICMP, raw, netlink, SCTP).
 *
 * @param family {@code AF_*}
 * @param type {@code SOCK_*} (the toolkit adds non-blocking and close-on-exec)
 * @param protocol {@code IPPROTO_*} or {@code NETLINK_*}
 * @param options set in order with setsockopt before the socket is registered
 * @param bind a {@code struct sockaddr} to bind to ({@link Sockaddr}), or {@code null}
 * @param backlog when positive, {@code listen} with it after the bind (a one-to-many SCTP server, say)
 */
public record SocketSpec(int family, int type, int protocol, List<Option> options, byte[] bind, int backlog) {

    /** Address families. */
    public static final int AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
    /** Socket types. */
    public static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
    /** Protocols. */
    public static final int IPPROTO_ICMP = 1, IPPROTO_UDP = 17, IPPROTO_ICMPV6 = 58, IPPROTO_SCTP = 132, NETLINK_ROUTE = 0;

    /**
     * One integer socket option.
     *
     * @param level {@code SOL_*}
     * @param name the option
     * @param value its value
     */
    public record Option(int level, int name, int value) {
    }

    public SocketSpec {
        options = List.copyOf(options);
        bind = bind == null ? null : bind.clone();
    }

    /** A socket of {@code family}, {@code type} and {@code protocol}, with no options and not bound. */
    public static SocketSpec of(int family, int type, int protocol) {
        return new SocketSpec(family, type, protocol, List.of(), null, 0);
    }

    /** This spec with one more option. */
    public SocketSpec withOption(int level, int name, int value) {
        List<Option> more = new ArrayList<>(options);
        more.add(new Option(level, name, value));
        return new SocketSpec(family, type, protocol, more, bind, backlog);
    }

    /** This spec bound to {@code sockaddr}. */
    public SocketSpec withBind(byte[] sockaddr) {
        return new SocketSpec(family, type, protocol, options, sockaddr, backlog);
    }

    /** This spec listening, with {@code backlog}, after its bind. */
    public SocketSpec withListen(int backlog) {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1, not " + backlog);
        }
        return new SocketSpec(family, type, protocol, options, bind, backlog);
    }

    @Override
    public byte[] bind() {
        return bind == null ? null : bind.clone();
    }

    @Override
    public String toString() {
        return "socket(" + family + ", " + type + ", " + protocol + ")";
    }
}

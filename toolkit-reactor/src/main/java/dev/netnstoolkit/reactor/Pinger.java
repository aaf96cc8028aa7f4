package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * ICMP echo from inside a namespace on a {@link MessageSocket}: a datagram ICMP socket where the
 * namespace's ping_group_range allows one (the kernel then picks the identifier and hands over only our
 * replies), else a raw one (CAP_NET_RAW; it sees every ICMP message, so replies are matched by
 * identifier). Requests go out one interval apart from the socket's own loop (no hand-over between
 * the clock and the send, which would count in the round trip); the result comes once every reply is
 * in, or {@code timeout} after the last request.
 */
final class Pinger {

    private static final int ECHO_REQUEST_V4 = 8, ECHO_REPLY_V4 = 0, ECHO_REQUEST_V6 = 128, ECHO_REPLY_V6 = 129;
    /** Bytes after the 8-byte ICMP header, as ping(8) sends by default. */
    private static final int PAYLOAD = 56;

    private Pinger() {
    }

    static Mono<PingResult> ping(SocketOpener sockets, NetNamespace ns, InetAddress host, int count, Duration interval, Duration timeout) {
        boolean v6 = host instanceof Inet6Address;
        int family = v6 ? SocketSpec.AF_INET6 : SocketSpec.AF_INET;
        int protocol = v6 ? SocketSpec.IPPROTO_ICMPV6 : SocketSpec.IPPROTO_ICMP;
        Mono<Opened> socket = sockets.open(ns, SocketSpec.of(family, SocketSpec.SOCK_DGRAM, protocol))
                .map(s -> new Opened(s, PingResult.DATAGRAM))
                .onErrorResume(NamespacePermissionException.class, e -> sockets.open(ns, SocketSpec.of(family, SocketSpec.SOCK_RAW, protocol))
                        .map(s -> new Opened(s, PingResult.RAW)));
        return Mono.usingWhen(socket,
                o -> run(o.socket(), o.method(), o.socket().scheduler(), ns, host, v6, count, interval, timeout),
                o -> Mono.fromRunnable(o.socket()::dispose));
    }

    /** The socket ping got, and which kind it is. */
    private record Opened(MessageSocket socket, String method) {
    }

    private static Mono<PingResult> run(MessageSocket socket, String method, Scheduler loops, NetNamespace ns, InetAddress host,
                                        boolean v6, int count, Duration interval, Duration timeout) {
        boolean raw = PingResult.RAW.equals(method);
        int id = ThreadLocalRandom.current().nextInt(1, 0x10000);
        long[] sentAt = new long[count + 1];
        boolean[] answered = new boolean[count + 1];
        List<Duration> roundTrips = new ArrayList<>();
        int[] sent = {0};
        InetSocketAddress to = new InetSocketAddress(host, 0);
        Mono<Void> sending = Flux.range(1, count)
                .concatMap(seq -> (seq == 1 ? Mono.<Long>empty() : Mono.delay(interval, loops)).then(Mono.defer(() -> {
                    synchronized (sentAt) {
                        sentAt[seq] = System.nanoTime();
                        sent[0]++;
                    }
                    return socket.send(request(v6, id, seq), to);
                })))
                .then()
                .cache();
        Mono<Long> deadline = sending.then(Mono.delay(timeout, loops));
        return socket.receive()
                .handle((message, sink) -> {
                    int seq = replySequence(message.data(), v6, raw, id);
                    synchronized (sentAt) {
                        if (seq > 0 && seq <= count && sentAt[seq] != 0 && !answered[seq]) {
                            answered[seq] = true;
                            roundTrips.add(Duration.ofNanos(System.nanoTime() - sentAt[seq]));
                            sink.next(seq);
                        }
                    }
                })
                .take(count)
                .takeUntilOther(deadline)
                .then(Mono.fromCallable(() -> {
                    synchronized (sentAt) {
                        return new PingResult(ns, host, method, sent[0], roundTrips.size(), roundTrips);
                    }
                }));
    }

    /** An echo request: type, code, checksum (ICMPv6: the kernel's), identifier, sequence, payload. */
    static byte[] request(boolean v6, int id, int seq) {
        ByteBuffer b = ByteBuffer.allocate(8 + PAYLOAD);
        b.put((byte) (v6 ? ECHO_REQUEST_V6 : ECHO_REQUEST_V4)).put((byte) 0).putShort((short) 0)
                .putShort((short) id).putShort((short) seq);
        for (int i = 0; i < PAYLOAD; i++) {
            b.put((byte) i);
        }
        byte[] packet = b.array();
        if (!v6) {
            int sum = checksum(packet);
            packet[2] = (byte) (sum >> 8);
            packet[3] = (byte) sum;
        }
        return packet;
    }

    /** The sequence number of an echo reply to us, or -1 for anything else. */
    static int replySequence(byte[] data, boolean v6, boolean raw, int id) {
        int at = raw && !v6 ? (data.length > 0 ? (data[0] & 0x0f) * 4 : 0) : 0; // raw IPv4 comes with its IP header
        if (data.length < at + 8 || (data[at] & 0xff) != (v6 ? ECHO_REPLY_V6 : ECHO_REPLY_V4)) {
            return -1;
        }
        int replyId = ((data[at + 4] & 0xff) << 8) | (data[at + 5] & 0xff);
        if (raw && replyId != id) { // a datagram socket gets only its own; a raw one gets every reply
            return -1;
        }
        return ((data[at + 6] & 0xff) << 8) | (data[at + 7] & 0xff);
    }

    /** The Internet checksum (RFC 1071). */
    static int checksum(byte[] data) {
        long sum = 0;
        for (int i = 0; i + 1 < data.length; i += 2) {
            sum += ((data[i] & 0xff) << 8) | (data[i + 1] & 0xff);
        }
        if ((data.length & 1) != 0) {
            sum += (data[data.length - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }
}

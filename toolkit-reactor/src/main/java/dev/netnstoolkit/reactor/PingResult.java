package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * What {@link Netns#ping} saw from inside one namespace.
 *
 * @param namespace where the echo requests were sent from
 * @param host whom they were sent to
 * @param method {@link #DATAGRAM} or {@link #RAW}: which kind of ICMP socket was used
 * @param sent echo requests sent
 * @param received distinct echo replies received in time
 * @param roundTrips the round trip of each reply, in the order they came
 */
public record PingResult(NetNamespace namespace, InetAddress host, String method, int sent, int received,
                         List<Duration> roundTrips) {

    /** An ICMP datagram socket: allowed by the namespace's net.ipv4.ping_group_range, no privilege needed. */
    public static final String DATAGRAM = "ICMP datagram socket";
    /** A raw ICMP socket: needs CAP_NET_RAW; used where ping_group_range does not allow a datagram socket. */
    public static final String RAW = "raw ICMP socket";

    public PingResult {
        roundTrips = List.copyOf(roundTrips);
    }

    /** Sent but not answered in time. */
    public int lost() {
        return sent - received;
    }

    /** The shortest round trip, or null when nothing came back. */
    public Duration min() {
        return roundTrips.stream().min(Duration::compareTo).orElse(null);
    }

    /** The longest round trip, or null when nothing came back. */
    public Duration max() {
        return roundTrips.stream().max(Duration::compareTo).orElse(null);
    }

    /** The mean round trip, or null when nothing came back. */
    public Duration average() {
        return roundTrips.isEmpty() ? null
                : Duration.ofNanos((long) roundTrips.stream().mapToLong(Duration::toNanos).average().orElseThrow());
    }
}

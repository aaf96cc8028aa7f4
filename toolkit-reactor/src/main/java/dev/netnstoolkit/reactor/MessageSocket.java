package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import dev.netnstoolkit.api.Sockaddr;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.net.InetSocketAddress;

/**
 * A message socket of any kind (ICMP, raw, netlink, UDP, ...) made inside a namespace by one of the
 * toolkit's event loops, through the one switch, and registered with that loop: no thread of its own,
 * nothing blocks. Made by {@link Netns#openSocket}. It stays in its namespace for life.
 *
 * <p>{@link #receive()} reads only while its subscriber has demand (a slow subscriber leaves messages
 * in the kernel's buffer, where the kernel drops what does not fit, as it does for any socket);
 * cancelling it closes the socket. {@link #send} queues at most {@value #MAX_PENDING_SENDS} messages
 * while the send buffer is full, then fails with {@link QueueFullException}. {@link #dispose()} closes
 * the descriptor; so does disposing the toolkit.
 */
public final class MessageSocket implements Disposable {

    /** Sends waiting for room in the socket's send buffer, at most. */
    public static final int MAX_PENDING_SENDS = 1024;

    /**
     * One message received.
     *
     * @param data its bytes
     * @param from the sender's {@code struct sockaddr} ({@link Sockaddr#toInet} reads IPv4 and IPv6 ones)
     * @param namespace the namespace the socket is in
     */
    public record Message(byte[] data, byte[] from, NetNamespace namespace) {

        /** The sender as an IP address and port, or null for another family (netlink). */
        public InetSocketAddress sender() {
            return Sockaddr.toInet(from);
        }
    }

    private final MessageSocketHandle handle;

    MessageSocket(MessageSocketHandle handle) {
        this.handle = handle;
    }

    /** The namespace the socket was made in. */
    public NetNamespace namespace() {
        return handle.namespace();
    }

    /** What was asked for. */
    public SocketSpec spec() {
        return handle.spec();
    }

    /** The messages, read only on demand; one subscriber at a time; cancelling closes the socket. */
    public Flux<Message> receive() {
        return handle.receive();
    }

    /** Sends {@code data} to {@code sockaddr} ({@code null}: the connected peer); completes once it is sent. */
    public Mono<Void> send(byte[] data, byte[] sockaddr) {
        return handle.send(data.clone(), sockaddr == null ? null : sockaddr.clone());
    }

    /** Sends {@code data} to an IP address and port (for ICMP, the port is ignored). */
    public Mono<Void> send(byte[] data, InetSocketAddress to) {
        return send(data, Sockaddr.inet(to));
    }

    /** The socket's loop as a scheduler (for the toolkit's own protocols: sends from there need no hand-over). */
    reactor.core.scheduler.Scheduler scheduler() {
        return handle.scheduler();
    }

    /** Completes once the socket is closed. */
    public Mono<Void> onDispose() {
        return handle.onDispose();
    }

    @Override
    public void dispose() {
        handle.closeLater();
    }

    @Override
    public boolean isDisposed() {
        return handle.isClosed();
    }

    @Override
    public String toString() {
        return "MessageSocket(" + handle.spec() + " in " + handle.namespace().label() + ")";
    }
}

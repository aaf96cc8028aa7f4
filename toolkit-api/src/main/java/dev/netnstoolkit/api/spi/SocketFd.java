package dev.netnstoolkit.api.spi;

/**
 * A socket of any family, type and protocol (ICMP, raw, netlink, SCTP, ...), non-blocking and
 * close-on-exec, made by {@link NamespaceBackend#socket} in the namespace of the calling thread, where
 * it stays. The owner registers {@link #fd()} with its event loop, sends and receives without blocking,
 * and closes it once the descriptor is off the loop. Addresses are raw {@code struct sockaddr} bytes.
 */
public interface SocketFd extends AutoCloseable {

    /**
     * One message received.
     *
     * @param length how many bytes of the buffer it filled
     * @param from the sender's {@code struct sockaddr}, as long as the kernel wrote it
     */
    record Received(int length, byte[] from) {
    }

    /** The descriptor, for an event loop; valid until {@link #close()}. */
    int fd();

    /** {@code setsockopt} with an int value. */
    void setOption(int level, int name, int value);

    /** {@code bind} to a {@code struct sockaddr}. */
    void bind(byte[] sockaddr);

    /** {@code listen} with {@code backlog} (a stream or one-to-many SCTP socket that accepts peers). */
    void listen(int backlog);

    /**
     * {@code connect} without blocking: true if connected now, false if under way (wait until writable, then
     * {@link #pendingError()}).
     */
    boolean connect(byte[] sockaddr);

    /** {@code SO_ERROR}: 0 once a connect under way has succeeded, else its errno. */
    int pendingError();

    /** Hands the descriptor over to a new owner (a Netty channel, which closes it): this object no longer will. */
    int release();

    /**
     * Sends {@code length} bytes from {@code data[offset]} to {@code sockaddr} ({@code null} when
     * connected).
     *
     * @return the bytes sent, or -1 when the socket's send buffer is full (send again once writable)
     */
    int sendTo(byte[] data, int offset, int length, byte[] sockaddr);

    /** One message into {@code buffer}, or {@code null} when none is waiting. */
    Received receive(byte[] buffer);

    /** Closes the descriptor; idempotent. */
    @Override
    void close();
}

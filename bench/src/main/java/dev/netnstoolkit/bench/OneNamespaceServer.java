package dev.netnstoolkit.bench;

import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;
import reactor.netty.udp.UdpServer;

/**
 * The baseline "one JVM per namespace": plain Reactor Netty with a TCP and a UDP listener, run by
 * {@code ip netns exec NS java ...}. Prints {@code ready} once bound, then waits to be killed.
 */
public final class OneNamespaceServer {

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        DisposableServer tcp = TcpServer.create().host("0.0.0.0").port(port)
                .handle((in, out) -> out.sendString(Mono.just("ns\n"))).bindNow();
        var udp = UdpServer.create().host("0.0.0.0").port(port).bindNow();
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
        tcp.disposeNow();
        udp.disposeNow();
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.ProcessAudit;

import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * Run by {@link ReliabilityTest} in a fresh JVM, where nothing has used NIO yet: the first NIO socket is
 * made and closed inside a namespace, then the namespace's name is deleted. Prints the sockets the JVM
 * still holds outside home: the JDK keeps one for life (its pre-close socket pair), made where NIO is
 * first used, and if that is a namespace the namespace can never be freed.
 */
public final class FirstNioUseProbe {

    public static void main(String[] args) throws Exception {
        NamespaceRegistry registry = NamespaceRegistry.system();
        NamespaceScheduler scheduler = NamespaceScheduler.create(1);
        try (NetNamespace ns = registry.open(args[0])) {
            scheduler.call(ns, () -> {
                SocketChannel.open().close();
                return true;
            }).block(Duration.ofSeconds(10));
        }
        scheduler.dispose();
        registry.delete(args[0]);
        System.out.println("outside home: " + ProcessAudit.socketsOutsideHome());
    }
}

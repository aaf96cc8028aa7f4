package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;

import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link ReliabilityTest} in a child JVM with a low descriptor limit: exhausts descriptors with
 * namespace handles, checks the errors are typed, frees them and checks everything works again.
 * Prints one line per step.
 */
public final class FdLimitProbe {

    public static void main(String[] args) {
        NamespaceRegistry registry = NamespaceRegistry.system();
        NamespaceScheduler scheduler = NamespaceScheduler.create(1);
        NetNamespace target = registry.open(args[0]);
        List<NetNamespace> held = new ArrayList<>();
        // warm up: a real application has its classes loaded before it runs out of descriptors
        try {
            scheduler.call(target, SocketChannel::open).block(Duration.ofSeconds(10)).close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try {
            while (held.size() < 100_000) {
                held.add(registry.open(args[0]));
            }
            System.out.println("never ran out");
        } catch (NamespaceException e) {
            System.out.println("exhausted after " + held.size() + ": " + e.getClass().getSimpleName() + " errno=" + e.errno()
                    + " syscall=" + e.syscall());
        }
        try {
            scheduler.call(target, SocketChannel::open).block(Duration.ofSeconds(10));
            System.out.println("socket while exhausted: no error");
        } catch (RuntimeException e) {
            Throwable cause = reactor.core.Exceptions.unwrap(e);
            System.out.println("socket while exhausted: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
        held.forEach(NetNamespace::close);
        held.clear();
        try (NetNamespace again = registry.open(args[0])) {
            SocketChannel ch = scheduler.call(target, SocketChannel::open).block(Duration.ofSeconds(10));
            ch.close();
            System.out.println("recovered: " + again.equals(target));
        } catch (Exception e) {
            System.out.println("not recovered: " + e);
        }
        target.close();
        scheduler.dispose();
    }
}

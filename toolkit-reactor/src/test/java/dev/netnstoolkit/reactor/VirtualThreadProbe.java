package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NamespaceSwitch;
import dev.netnstoolkit.api.NetNamespace;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;

/** Run by {@link VirtualThreadRefusalTest} on a JDK with virtual threads; prints one line per check. */
public final class VirtualThreadProbe {

    public static void main(String[] args) throws Exception {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        ThreadFactory virtual = (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
        run(virtual, () -> {
            try {
                NamespaceSwitch.system().adoptCurrentThread();
                System.out.println("adopt accepted");
            } catch (IllegalStateException e) {
                System.out.println("adopt refused: " + e.getMessage());
            }
        });
        run(virtual, () -> {
            try {
                NamespaceScheduler.create(1).dispose();
                System.out.println("create accepted");
            } catch (IllegalStateException e) {
                System.out.println("create refused: " + e.getMessage());
            }
        });
        NamespaceScheduler scheduler = NamespaceScheduler.create(1);
        try (NetNamespace home = NamespaceRegistry.system().home()) {
            run(virtual, () -> {
                try {
                    NamespaceSwitch.system().run(home, () -> 1);
                    System.out.println("inline accepted");
                } catch (IllegalStateException e) {
                    System.out.println("inline refused: " + e.getMessage());
                } catch (Exception e) {
                    System.out.println("inline failed: " + e);
                }
                // Submitting from a virtual thread is fine: the switch happens on a platform worker.
                Integer v = scheduler.call(home, () -> 42).block(Duration.ofSeconds(10));
                System.out.println("call from virtual thread: " + v);
            });
        }
        scheduler.dispose();
    }

    private static void run(ThreadFactory factory, Runnable r) throws InterruptedException {
        Thread t = factory.newThread(r);
        t.start();
        t.join();
    }
}

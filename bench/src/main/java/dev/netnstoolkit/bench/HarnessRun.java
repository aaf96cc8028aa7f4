package dev.netnstoolkit.bench;

import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceRegistry;

import java.util.concurrent.Callable;

/**
 * How a harness that makes namespaces runs: every name it makes starts with its own prefix, and exactly
 * those are deleted on every exit path (a shutdown hook covers SIGTERM/SIGINT); without the privilege it
 * says so in one line. Then the JVM exits with the harness's status.
 */
final class HarnessRun {

    private HarnessRun() {
    }

    /** A prefix no other run uses: {@code ntk-WHAT-PID-}. */
    static String prefix(String what) {
        return "ntk-" + what + "-" + ProcessHandle.current().pid() + "-";
    }

    static void exitWith(String who, String prefix, Callable<Integer> body) throws Exception {
        Thread cleanup = new Thread(() -> removeAll(who, prefix), "ntk-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        int status;
        try {
            status = body.call();
        } catch (NamespacePermissionException e) {
            System.err.println(who + ": " + e.getMessage() + " (run as root)");
            status = 1;
        } finally {
            removeAll(who, prefix);
        }
        Runtime.getRuntime().removeShutdownHook(cleanup);
        System.exit(status);
    }

    /** Deletes every namespace whose name starts with {@code prefix}: only this run's. */
    static void removeAll(String who, String prefix) {
        NamespaceRegistry registry = NamespaceRegistry.system();
        for (String name : registry.list()) {
            if (name.startsWith(prefix)) {
                try {
                    registry.delete(name);
                } catch (RuntimeException e) {
                    System.err.println(who + ": could not remove " + name + ": " + e.getMessage());
                }
            }
        }
    }
}

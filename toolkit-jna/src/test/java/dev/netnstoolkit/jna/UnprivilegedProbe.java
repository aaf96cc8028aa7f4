package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;

import java.util.List;
import java.util.function.Supplier;

/**
 * Run by {@link UnprivilegedTest} in a child JVM without privileges: tries each operation and prints
 * one line per operation, {@code op ExceptionClass capability}.
 */
public final class UnprivilegedProbe {

    public static void main(String[] args) {
        String fresh = args[0];
        String existing = args[1];
        NamespaceRegistry registry = NamespaceRegistry.system();
        probe("create", () -> registry.create(fresh));
        probe("delete", () -> {
            registry.delete(existing);
            return null;
        });
        probe("exec", () -> {
            try (NetNamespace ns = registry.open(existing)) {
                return registry.exec(ns, List.of("true"), System.getenv());
            }
        });
        probe("list", () -> registry.list().contains(existing) ? "ok" : "missing");
    }

    private static void probe(String op, Supplier<Object> action) {
        try {
            System.out.println(op + " ok " + action.get());
        } catch (NamespacePermissionException e) {
            System.out.println(op + " " + e.getClass().getSimpleName() + " " + e.missingCapability()
                    + " | " + e.getMessage());
        } catch (NamespaceException e) {
            System.out.println(op + " " + e.getClass().getSimpleName() + " - | " + e.getMessage());
        } catch (Throwable e) {
            System.out.println(op + " CRASH " + e);
        }
    }
}

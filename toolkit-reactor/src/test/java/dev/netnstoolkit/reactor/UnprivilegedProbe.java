package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespacePermissionException;

/** Run by {@link UnprivilegedNetnsTest} as nobody with no capabilities: one line per entry point. */
public final class UnprivilegedProbe {

    public static void main(String[] args) {
        try {
            Netns.create().disposeNow();
            System.out.println("netns created");
        } catch (NamespacePermissionException e) {
            System.out.println("netns " + e.getClass().getSimpleName() + " " + e.missingCapability() + " | " + e.getMessage());
        }
        try {
            NamespaceScheduler.create(1).dispose();
            System.out.println("scheduler created");
        } catch (NamespacePermissionException e) {
            System.out.println("scheduler " + e.getClass().getSimpleName() + " " + e.missingCapability());
        }
        System.out.println("threads " + Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("ntk")).count());
    }
}

package dev.netnstoolkit.samples.scenarios;

import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import picocli.CommandLine.Command;

/** {@code ntk scenario ...}: the four classic multi-namespace scenarios, each a small readable class. */
@Command(name = "scenario", description = "Run one of the classic scenarios (each creates and removes its own namespaces; needs root).",
        subcommands = {HttpClientInNamespace.class, ListenersInManyNamespaces.class, ThreadInheritance.class,
                NamedNamespaceExec.class})
public final class Scenarios {

    /**
     * The namespaces a scenario makes ({@code ntk-PURPOSE-PID-N}), after reclaiming what killed runs left
     * behind (and saying so).
     */
    static OwnedNamespaces owned(String purpose) {
        OwnedNamespaces.reclaimDead(false).forEach(line -> System.out.println("ntk scenario: " + line));
        return OwnedNamespaces.forRun(purpose, "ntk scenario");
    }
}

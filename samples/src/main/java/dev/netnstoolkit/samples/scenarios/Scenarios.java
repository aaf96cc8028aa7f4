package dev.netnstoolkit.samples.scenarios;

import picocli.CommandLine.Command;

/** {@code ntk scenario ...}: the four classic multi-namespace scenarios, each a small readable class. */
@Command(name = "scenario", description = "Run one of the classic scenarios (each creates and removes its own namespaces; needs root).",
        subcommands = {HttpClientInNamespace.class, ListenersInManyNamespaces.class, ThreadInheritance.class,
                NamedNamespaceExec.class})
public final class Scenarios {
}

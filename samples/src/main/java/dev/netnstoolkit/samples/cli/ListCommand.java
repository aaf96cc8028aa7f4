package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.ProcessNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "list", description = "List named namespaces, one a line; with --processes, the namespaces of running processes (like lsns -t net).")
final class ListCommand implements Callable<Integer> {

    @Option(names = "--processes", description = "The distinct network namespaces of running processes: net:[INODE], pids, names.")
    boolean processes;

    @Override
    public Integer call() {
        NamespaceRegistry registry = NamespaceRegistry.system();
        if (!processes) {
            registry.list().forEach(System.out::println);
            return 0;
        }
        for (ProcessNamespace p : registry.processNamespaces()) {
            String pids = p.pids().size() <= 8 ? p.pids().stream().map(String::valueOf).collect(Collectors.joining(","))
                    : p.pids().subList(0, 8).stream().map(String::valueOf).collect(Collectors.joining(",")) + ",...";
            String names;
            try (var ns = registry.openPath(p.path())) {
                names = String.join(",", registry.identify(ns));
            } catch (RuntimeException gone) {
                names = "";
            }
            System.out.println("net:[" + p.id().ino() + "] " + p.pids().size() + " " + pids + (names.isEmpty() ? "" : " " + names));
        }
        return 0;
    }
}

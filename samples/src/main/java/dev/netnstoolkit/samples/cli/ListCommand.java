package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "list", description = "List named namespaces, one a line.")
final class ListCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        NamespaceRegistry.system().list().forEach(System.out::println);
        return 0;
    }
}

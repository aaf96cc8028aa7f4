package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.samples.owned.OwnedNamespaces;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ntk gc}: removes what killed runs of ntk left behind (namespaces whose owner marker names a
 * process that has ended) and empty, unmounted name files in /run/netns, which an interrupted
 * {@code ip netns add} or {@code ntk add} leaves (they make {@code add} say "exists already" and
 * {@code ip netns list} print an error). Nothing else is touched: a namespace of a running process, or
 * one ntk did not make, stays.
 */
@Command(name = "gc", description = "Remove namespaces left by killed ntk runs and empty stale name files in /run/netns.")
final class GcCommand implements Callable<Integer> {

    @Option(names = "--dry-run", description = "Only say what would be removed.")
    boolean dryRun;

    @Override
    public Integer call() {
        List<String> told = new ArrayList<>(OwnedNamespaces.reclaimDead(dryRun));
        NamespaceRegistry registry = NamespaceRegistry.system();
        for (String name : staleNameFiles()) {
            String what = "empty unmounted name file " + name + " (an interrupted creation)";
            if (dryRun) {
                told.add("would remove " + what);
                continue;
            }
            try {
                registry.delete(name);
                told.add("removed " + what);
            } catch (NamespaceException e) {
                told.add("could not remove " + what + ": " + e.getMessage());
            }
        }
        told.forEach(line -> System.out.println("gc: " + line));
        System.out.println("gc: " + (told.isEmpty() ? "nothing to remove" : told.size() + (dryRun ? " to remove" : " handled")));
        return told.stream().anyMatch(l -> l.startsWith("could not")) ? 1 : 0;
    }

    /** Regular, empty files under /run/netns (a mounted name reads as a namespace, not as an empty file). */
    static List<String> staleNameFiles() {
        List<String> stale = new ArrayList<>();
        Path dir = Path.of(NamespaceRegistry.runDir());
        for (String name : NamespaceRegistry.system().list()) {
            Path p = dir.resolve(name);
            try {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0 && !isMountPoint(p)) {
                    stale.add(name);
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        return stale;
    }

    private static boolean isMountPoint(Path p) throws IOException {
        // a bind-mounted namespace is on nsfs: its store differs from the directory's
        return !Files.getFileStore(p).equals(Files.getFileStore(p.getParent()));
    }
}

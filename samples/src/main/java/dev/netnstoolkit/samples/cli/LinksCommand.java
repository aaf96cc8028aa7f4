package dev.netnstoolkit.samples.cli;

import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.reactor.Netns;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code ntk links}: the links of each namespace (rtnetlink from inside, one socket each on the
 * toolkit's loops), then one line per change.
 */
@Command(name = "links", description = {"Print the links of each namespace (`NAME LINK present up|down`), then one line per",
        "change: `NAME LINK added|removed|up|down` and `NAME LINK address added|removed ADDRESS`."})
final class LinksCommand implements Callable<Integer> {

    static final class Which {
        @Option(names = "--ns", split = ",", paramLabel = "NAME", description = "Namespaces, comma-separated.")
        List<String> names;

        @ArgGroup(exclusive = false)
        ServeCommand.Prefix prefix;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long (default: until signalled).")
    Long duration;

    @Override
    public Integer call() throws InterruptedException {
        if (duration != null) {
            Args.range("--duration", duration, 1, 86_400 * 365L);
        }
        List<String> names = new ArrayList<>();
        if (which.names != null) {
            names.addAll(which.names);
        } else {
            Args.range("--count", which.prefix.count, 1, 100_000);
            for (int i = 0; i < which.prefix.count; i++) {
                names.add(which.prefix.prefix + i);
            }
        }
        Limits.requireDescriptors("links of " + names.size() + " namespaces", names.size() * 2L + 200,
                "a handle and a netlink socket per namespace");
        List<NetNamespace> spaces = new ArrayList<>();
        Netns netns = null;
        CountDownLatch done = new CountDownLatch(1);
        int[] status = {0};
        try {
            for (String name : names) {
                spaces.add(NamespaceRegistry.system().open(name));
            }
            netns = Netns.create();
            Netns toolkit = netns;
            Disposable watching = Flux.fromIterable(spaces).flatMap(toolkit::links, Math.max(1, spaces.size()))
                    .subscribe(e -> {
                        System.out.println(e);
                        System.out.flush();
                    }, error -> {
                        System.err.println("ntk: " + Ntk.Failures.oneLine(error));
                        status[0] = 1;
                        done.countDown();
                    });
            Runtime.getRuntime().addShutdownHook(new Thread(done::countDown, "ntk-links-stop"));
            if (duration != null) {
                done.await(duration, TimeUnit.SECONDS);
            } else {
                done.await();
            }
            watching.dispose();
        } finally {
            if (netns != null) {
                netns.disposeNow();
            }
            spaces.forEach(NetNamespace::close);
        }
        return status[0];
    }
}

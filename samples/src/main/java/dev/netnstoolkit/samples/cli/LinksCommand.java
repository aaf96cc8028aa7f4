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

/**
 * {@code ntk links}: the links of each namespace (rtnetlink from inside, one socket each on the
 * toolkit's loops), then one line per change.
 */
@Command(name = "links", description = {"Print the links of each namespace (`NAME LINK present up|down`), then one line per",
        "change: `NAME LINK added|removed|up|down` and `NAME LINK address added|removed ADDRESS`."})
final class LinksCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    NamespaceArgs which;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long (default: until signalled).")
    Long duration;

    @Override
    public Integer call() throws InterruptedException {
        UntilStopped.checkDuration(duration);
        List<String> names = which.names();
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
            UntilStopped.await(done, duration, "ntk-links-stop");
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

package dev.netnstoolkit.samples.owned;

import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;

/**
 * The namespaces one run of a command creates, and only those: each is marked with this process as its
 * owner before it is created ({@link Owners}), tracked once created, and deleted on {@link #close()}, by
 * a shutdown hook (SIGTERM, SIGINT) or, if the process is killed, by the next run or {@code ntk gc}.
 * Nothing is ever deleted by prefix alone. Creation and the clean-up exclude each other: a signal in the
 * middle of a creation waits for it to finish, then no more are made and every one that was is deleted.
 * Clean-up failures are told on stderr and never replace the error that ended the run.
 */
public final class OwnedNamespaces implements AutoCloseable {

    private final NamespaceRegistry registry = NamespaceRegistry.system();
    private final String who;
    private final String prefix;
    private final Object lock = new Object();
    private final Map<String, NetNamespace> owned = new LinkedHashMap<>();
    private final Thread hook;
    private boolean closing;

    /** Names {@code ntk-PURPOSE-PID-...}; {@code who} (e.g. "ntk tour") prefixes what it tells. */
    public static OwnedNamespaces forRun(String purpose, String who) {
        return new OwnedNamespaces(who, "ntk-" + purpose + "-" + ProcessHandle.current().pid() + "-");
    }

    /** With a prefix of the caller's choice (it is checked as a namespace name when used). */
    public static OwnedNamespaces withPrefix(String who, String prefix) {
        return new OwnedNamespaces(who, prefix);
    }

    private OwnedNamespaces(String who, String prefix) {
        this.who = who;
        this.prefix = prefix;
        this.hook = new Thread(this::removeAll, "ntk-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The prefix of every name this run makes. */
    public String prefix() {
        return prefix;
    }

    /**
     * Removes what killed runs of ntk left behind: namespaces whose owner marker names a process that is
     * no longer running, with their markers. Returns one line per namespace, for the caller to print.
     */
    public static List<String> reclaimDead(boolean dryRun) {
        NamespaceRegistry registry = NamespaceRegistry.system();
        List<String> told = new ArrayList<>();
        for (Owners.Marker m : Owners.all()) {
            if (m.ownerAlive()) {
                continue;
            }
            String what = m.name() + " (made by " + m.by() + ", pid " + m.pid() + ", which has ended)";
            if (dryRun) {
                told.add("would remove " + what);
                continue;
            }
            try {
                registry.delete(m.name());
                told.add("removed " + what);
            } catch (NamespaceNotFoundException e) {
                told.add("forgot " + what + ": it was gone already");
            } catch (NamespaceException e) {
                told.add("could not remove " + what + ": " + e.getMessage());
                continue;
            }
            Owners.unmark(m.name());
        }
        return told;
    }

    /** Creates {@code PREFIX + suffix} (lo up), owned by this run. */
    public NetNamespace create(String suffix) {
        String name = prefix + suffix;
        synchronized (lock) {
            if (closing) {
                throw new CancellationException(who + ": stopping, no more namespaces are created");
            }
            Owners.mark(name, who.replace(' ', '-'));
            try {
                NetNamespace ns = registry.create(name);
                owned.put(name, ns);
                return ns;
            } catch (RuntimeException | Error e) {
                Owners.unmark(name); // nothing was made (create leaves nothing): nothing to own
                throw e;
            }
        }
    }

    /**
     * Creates {@code PREFIX0 .. PREFIX(n-1)} (lo up), owned by this run, side by side on the cores
     * ({@link NamespaceRegistry#createAll}): all or none.
     */
    public List<NetNamespace> create(int n) {
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(prefix + i);
        }
        synchronized (lock) {
            if (closing) {
                throw new CancellationException(who + ": stopping, no more namespaces are created");
            }
            names.forEach(name -> Owners.mark(name, who.replace(' ', '-')));
            try {
                List<NetNamespace> made = registry.createAll(names, dev.netnstoolkit.api.CreateOptions.defaults());
                made.forEach(ns -> owned.put(ns.name().orElseThrow(), ns));
                return made;
            } catch (RuntimeException | Error e) {
                names.forEach(Owners::unmark); // createAll leaves nothing of its own on failure: nothing to own
                throw e;
            }
        }
    }

    /** Deletes a namespace this run made (its handle stays the caller's to close); refuses any other. */
    public void delete(NetNamespace ns) {
        String name = ns.name().orElseThrow(() -> new IllegalArgumentException("not a named namespace: " + ns));
        synchronized (lock) {
            if (owned.get(name) != ns) {
                throw new IllegalArgumentException(who + ": " + name + " was not created by this run; not deleted");
            }
            owned.remove(name);
            registry.delete(name);
            Owners.unmark(name);
        }
    }

    /** Leaves a namespace this run made to whoever asked for it: no longer tracked, never deleted by this run. */
    public void disown(NetNamespace ns) {
        String name = ns.name().orElseThrow(() -> new IllegalArgumentException("not a named namespace: " + ns));
        synchronized (lock) {
            if (owned.remove(name, ns)) {
                Owners.unmark(name);
            }
        }
    }

    /** Deletes everything this run made; never throws (failures are told on stderr). */
    @Override
    public void close() {
        removeAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down: the hook is running this
        }
    }

    private void removeAll() {
        synchronized (lock) {
            closing = true;
            for (Map.Entry<String, NetNamespace> e : owned.entrySet()) {
                e.getValue().close();
                try {
                    registry.delete(e.getKey());
                    Owners.unmark(e.getKey());
                } catch (NamespaceNotFoundException gone) {
                    Owners.unmark(e.getKey());
                } catch (RuntimeException failed) {
                    System.err.println(who + ": could not remove " + e.getKey() + ": " + failed.getMessage());
                }
            }
            owned.clear();
        }
    }
}

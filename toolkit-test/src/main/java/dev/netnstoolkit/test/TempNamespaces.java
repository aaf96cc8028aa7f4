package dev.netnstoolkit.test;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespaceRegistry;
import dev.netnstoolkit.api.NetNamespace;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Temporary named network namespaces for a test, with {@code lo} up, removed after each test (or after
 * all, when registered static) whatever the outcome. Every name carries a prefix unique to this
 * instance, {@code ntk-test-<random>-} or one of your choice followed by a random part, and only names
 * with that prefix are ever deleted.
 * Requires CAP_SYS_ADMIN: see {@link Privilege}.
 *
 * <pre>{@code
 * @RegisterExtension TempNamespaces netns = new TempNamespaces();
 * @Test void t() { NetNamespace a = netns.create(); ... }
 * }</pre>
 */
public final class TempNamespaces implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private final String prefix;
    private final AtomicInteger counter = new AtomicInteger();
    private final List<NetNamespace> handles = new ArrayList<>();

    /** Names {@code ntk-test-<random>-N}. */
    public TempNamespaces() {
        this("ntk-test-");
    }

    /**
     * Names {@code <prefix><random>-N}, e.g. {@code new TempNamespaces("myapp-it-")}: the random part keeps
     * two instances (or two runs) apart, so only names this instance made are ever deleted.
     *
     * @throws dev.netnstoolkit.api.InvalidNamespaceNameException if the prefix cannot start a namespace name
     */
    public TempNamespaces(String prefix) {
        this.prefix = prefix + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 30), 36) + "-";
        NamespaceRegistry.checkName(this.prefix + "0");
    }

    /** The prefix of every name this instance hands out. */
    public String prefix() {
        return prefix;
    }

    /** A fresh unique name with this instance's prefix, not created; cleaned up like the others if it is. */
    public String newName() {
        return prefix + counter.incrementAndGet();
    }

    /** Creates a namespace with a fresh name and {@code lo} up; the handle is closed and the name deleted after the test. */
    public NetNamespace create() {
        Privilege.require();
        NetNamespace ns = NamespaceRegistry.system().create(newName());
        synchronized (handles) {
            handles.add(ns);
        }
        return ns;
    }

    /** Creates {@code n} namespaces at once ({@link NamespaceRegistry#createAll}), each as {@link #create()} does. */
    public List<NetNamespace> create(int n) {
        Privilege.require();
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(newName());
        }
        List<NetNamespace> list = NamespaceRegistry.system().createAll(names, CreateOptions.defaults());
        synchronized (handles) {
            handles.addAll(list);
        }
        return list;
    }

    /** One end of a veth pair: the namespace, the interface name in it, and its address (CIDR). */
    public record VethEnd(NetNamespace namespace, String device, String cidr) {
        /** The address without the prefix length, e.g. {@code 10.199.0.1}. */
        public String address() {
            return cidr.substring(0, cidr.indexOf('/'));
        }
    }

    /**
     * Connects two of this instance's namespaces with a veth pair, assigns the addresses (CIDR, e.g.
     * {@code 10.199.0.1/30}) and brings both ends up, with iproute2. The pair lives in the test's own
     * namespaces only and disappears with them. Traffic to these addresses never leaves the machine.
     *
     * @return the two ends, {@code a} first
     */
    public List<VethEnd> veth(NetNamespace a, String cidrA, NetNamespace b, String cidrB) {
        Privilege.require();
        int n = counter.incrementAndGet();
        String devA = "ntkv" + n + "a";
        String devB = "ntkv" + n + "b";
        String nsA = a.name().orElseThrow(() -> new IllegalArgumentException("veth needs named namespaces"));
        String nsB = b.name().orElseThrow(() -> new IllegalArgumentException("veth needs named namespaces"));
        Commands.ok("ip", "link", "add", devA, "netns", nsA, "type", "veth", "peer", "name", devB, "netns", nsB);
        Commands.ok("ip", "-n", nsA, "addr", "add", cidrA, "dev", devA);
        Commands.ok("ip", "-n", nsB, "addr", "add", cidrB, "dev", devB);
        Commands.ok("ip", "-n", nsA, "link", "set", devA, "up");
        Commands.ok("ip", "-n", nsB, "link", "set", devB, "up");
        return List.of(new VethEnd(a, devA, cidrA), new VethEnd(b, devB, cidrB));
    }

    /** Closes every handle and deletes every name with this prefix; safe to call more than once. */
    public void cleanUp() {
        synchronized (handles) {
            handles.forEach(NetNamespace::close);
            handles.clear();
        }
        NamespaceException failure = null;
        for (String name : Invariants.namesWithPrefix(prefix)) {
            try {
                NamespaceRegistry.system().delete(name);
            } catch (NamespaceNotFoundException e) {
                // removed meanwhile
            } catch (NamespaceException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Privilege.require();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        cleanUp();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        cleanUp();
    }
}

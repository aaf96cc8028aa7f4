package dev.netnstoolkit.api;

import dev.netnstoolkit.api.spi.NamespaceBackend;
import dev.netnstoolkit.api.spi.NamespaceFd;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The one way the toolkit enters a network namespace: {@link #run} switches the calling thread into
 * a namespace, runs a task, and switches back home in a {@code finally}. Event loops, dedicated
 * workers, namespace creation and {@code exec} all go through it.
 *
 * <p>Only threads this switch owns may switch: a platform thread becomes owned by calling
 * {@link #adoptCurrentThread()} first thing, which moves it home (whatever namespace its creator was
 * in) and checks it. A thread that cannot come back home, even after a retry, is marked stranded: from
 * then on every {@code run} on it fails at once, and it must only end. It signals nothing, logs nothing
 * and starts nothing: a thread at home does that for it. Virtual threads are refused (switching one
 * would switch its carrier, which other virtual threads then run on).
 *
 * <p><b>What a task may do.</b> Between the switch and the switch back a task only creates descriptors
 * and the objects that wrap them. Anything that starts a thread, directly or lazily (a Reactor
 * scheduler, a first Netty event loop, a logging appender, ForkJoinPool.commonPool), would make that
 * thread live in the namespace forever.
 *
 * <pre>{@code
 * NamespaceSwitch sw = NamespaceSwitch.system();
 * Thread t = new Thread(() -> {
 *     sw.adoptCurrentThread();                       // home, checked
 *     ServerSocketChannel ch = sw.run(blue, ServerSocketChannel::open);   // socket(2) inside "blue"
 * });
 * }</pre>
 *
 * <p>(Over 300 lines because it is the one place that switches: ownership, the switch in and out with
 * its retry, stranding, and the short-lived thread of creation and exec belong together here.)
 */
public final class NamespaceSwitch {

    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
    private static final int ATTEMPTS_HOME = 2;

    private static final class Holder {
        private static final NamespaceBackend BACKEND = NamespaceBackend.load();
        // Held for the process's life: every owned thread of every switch goes back to it.
        static final NamespaceSwitch SYSTEM = new NamespaceSwitch(BACKEND, BACKEND.open("/proc/self/ns/net", true));
    }

    private final NamespaceBackend backend;
    private final NamespaceFd home;
    private final ThreadLocal<Owned> owned = new ThreadLocal<>();

    /** Per owned thread: stranded for good; away from home now, and in which handle's namespace (null: a new one). */
    private static final class Owned {
        boolean stranded;
        boolean away;
        NetNamespace inside;

        String where() {
            return inside != null ? inside.label() : "a new namespace";
        }
    }

    private NamespaceSwitch(NamespaceBackend backend, NamespaceFd home) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.home = home;
    }

    /** The switch over the native backend on the class path. */
    public static NamespaceSwitch system() {
        return Holder.SYSTEM;
    }

    /** A switch over another backend: one that injects faults, in tests and the soak. */
    public static NamespaceSwitch using(NamespaceBackend backend) {
        return new NamespaceSwitch(backend, Holder.SYSTEM.home);
    }

    /** The process's home namespace: that of its main thread. */
    public NamespaceId homeId() {
        return home.id();
    }

    /** The backend it switches with, for the registry. */
    NamespaceBackend backend() {
        return backend;
    }

    /**
     * Checks, on the calling platform thread, which must be at home, that this process may switch
     * namespaces at all: before a toolkit starts threads that would each fail.
     *
     * @throws NamespacePermissionException without CAP_SYS_ADMIN, naming it
     * @throws IllegalStateException on a virtual thread or a thread outside home
     */
    public void checkCanSwitch() {
        refuseVirtual("checkCanSwitch");
        if (!backend.threadId().equals(home.id())) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " is not in the home namespace "
                    + home.id() + ": create the toolkit from a thread at home, or its threads would start elsewhere");
        }
        try (NamespaceFd.Lease h = home.lease("home")) {
            backend.setns(h, "home"); // to where it is already: changes nothing, fails only without the privilege
        }
    }

    /**
     * Makes the calling platform thread one this switch owns: switches it home (one retry) and checks
     * it. Call it first thing in a thread the toolkit starts. Adopting an owned thread again does nothing.
     *
     * @throws ThreadStrandedException if it cannot get home: the thread must then end
     * @throws NamespacePermissionException without CAP_SYS_ADMIN: the thread must then end
     * @throws IllegalStateException on a virtual thread
     */
    public void adoptCurrentThread() {
        refuseVirtual("adoptCurrentThread");
        Owned st = owned.get();
        if (st != null) {
            if (st.stranded) {
                throw new ThreadStrandedException(Thread.currentThread().getName(), "home");
            }
            return;
        }
        st = new Owned();
        owned.set(st);
        NamespaceSwitchException failed = switchHome();
        if (failed == null && !backend.threadId().equals(home.id())) {
            failed = new NamespaceSwitchException("thread " + Thread.currentThread().getName()
                    + " is not at home after setns", "setns", 0, "home", null);
        }
        if (failed != null) {
            st.stranded = true;
            if (failed.getCause() instanceof NamespacePermissionException p) {
                throw p;
            }
            throw new ThreadStrandedException(Thread.currentThread().getName(), "its creator's namespace", failed);
        }
    }

    /** Whether the calling thread is owned by this switch. */
    public boolean ownsCurrentThread() {
        return owned.get() != null;
    }

    /** Whether the calling thread is owned and stranded: it must only end. */
    public boolean isCurrentThreadStranded() {
        Owned st = owned.get();
        return st != null && st.stranded;
    }

    /**
     * Runs {@code task} with the calling owned thread switched into {@code ns}, and switches back home
     * in a {@code finally} (one retry). Returns or throws only once the thread is home again, except
     * {@link ThreadStrandedException}: then the thread is marked and must only end, and the task's
     * result, if {@link AutoCloseable}, was closed. A nested call for the namespace the thread is in
     * runs the task directly.
     *
     * @throws IllegalStateException on a thread this switch does not own, or a nested switch elsewhere
     * @throws ClosedNamespaceException if the handle is closed
     * @throws NamespaceSwitchException if the switch in failed (the thread did not move)
     */
    public <T> T run(NetNamespace ns, Callable<T> task) throws Exception {
        Objects.requireNonNull(ns, "ns");
        Owned st = ownedState(ns.label());
        if (st.away) {
            if (ns.equals(st.inside)) {
                return task.call();
            }
            throw new IllegalStateException("nested switch into " + ns.label() + " while inside " + st.where());
        }
        try (NamespaceFd.Lease lease = ns.lease()) {
            backend.setns(lease, ns.label());
            return runInside(st, ns, ns.label(), task);
        }
    }

    /**
     * Runs {@code task} with the calling owned thread moved into a new, empty network namespace, and
     * switches back home after it, as {@link #run} does. For namespace creation.
     */
    <T> T runInNewNamespace(String label, Callable<T> task) throws Exception {
        Owned st = ownedState(label);
        if (st.away) {
            throw new IllegalStateException("unshare for " + label + " while inside " + st.where());
        }
        backend.unshareNetwork(label);
        return runInside(st, null, label, task);
    }

    /**
     * Runs {@code body} on a new platform thread owned by this switch, which ends right after, and
     * returns its result; the calling thread is never switched and waits (uninterruptibly: the body
     * is a handful of system calls). If the thread cannot get back home it still ends, and the caller,
     * at home, gets the {@link ThreadStrandedException}.
     */
    <T> T onNewThread(String name, Callable<T> body) {
        Object[] result = new Object[1];
        onNewThreads(name, 1, () -> {
            result[0] = body.call();
            return null;
        });
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }

    /**
     * Runs {@code body} on {@code count} new platform threads owned by this switch, side by side, each
     * ending right after; returns once all have ended (the caller is never switched and waits
     * uninterruptibly). The first failure is thrown, the others suppressed in it; an error starting a
     * thread is one (the threads started still run to their end).
     */
    void onNewThreads(String name, int count, Callable<Void> body) {
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Thread t = new Thread(() -> {
                    try {
                        adoptCurrentThread();
                        body.call();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, count == 1 ? name : name + "-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        } catch (Throwable cannotStart) { // OutOfMemoryError: unable to create native thread, say
            failures.add(cannotStart);
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failures.isEmpty()) {
            return;
        }
        Throwable first = failures.get(0);
        failures.subList(1, failures.size()).forEach(first::addSuppressed);
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(name + " failed: " + first.getMessage(), first);
    }

    private Owned ownedState(String target) {
        Thread self = Thread.currentThread();
        Owned st = owned.get();
        if (st == null) {
            refuseVirtual("run");
            throw new IllegalStateException("thread " + self.getName() + " is not owned by the namespace switch: only threads "
                    + "the toolkit started switch namespaces (use the toolkit's scheduler to run a task in " + target + ")");
        }
        if (st.stranded) {
            throw new ThreadStrandedException(self.getName(), target);
        }
        return st;
    }

    private <T> T runInside(Owned st, NetNamespace ns, String label, Callable<T> task) throws Exception {
        st.away = true;
        st.inside = ns;
        T value = null;
        Throwable failure = null;
        try {
            value = task.call();
        } catch (Throwable e) {
            failure = e;
        }
        NamespaceSwitchException back = switchHome();
        st.away = false;
        st.inside = null;
        if (back != null) {
            st.stranded = true;
            closeQuietly(value);
            ThreadStrandedException stranded = new ThreadStrandedException(Thread.currentThread().getName(), label, back);
            if (failure != null) {
                stranded.addSuppressed(failure);
            }
            throw stranded;
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure != null) {
            throw (Error) failure;
        }
        return value;
    }

    private NamespaceSwitchException switchHome() {
        NamespaceSwitchException last = null;
        try (NamespaceFd.Lease h = home.lease("home")) {
            for (int i = 0; i < ATTEMPTS_HOME; i++) {
                try {
                    backend.setns(h, "home");
                    return null;
                } catch (NamespaceSwitchException e) {
                    last = e;
                } catch (NamespaceException e) {
                    last = e instanceof NamespacePermissionException p ? permissionAsSwitch(p)
                            : new NamespaceSwitchException(e.getMessage(), e.syscall(), e.errno(), e.target(), e);
                }
            }
        }
        return last;
    }

    private static NamespaceSwitchException permissionAsSwitch(NamespacePermissionException p) {
        return new NamespaceSwitchException(p.getMessage(), p.syscall(), p.errno(), p.target(), p);
    }

    private static void closeQuietly(Object value) {
        if (value instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // a result nobody can use; nothing to report to from a stranded thread
            }
        }
    }

    private static void refuseVirtual(String what) {
        if (isVirtual(Thread.currentThread())) {
            throw new IllegalStateException(what + " refused on virtual thread " + Thread.currentThread()
                    + ": switching it would switch its carrier thread; use a platform thread");
        }
    }

    /** Whether {@code t} is a virtual thread (always false before Java 21). */
    public static boolean isVirtual(Thread t) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "NamespaceSwitch[home " + home.id() + "]";
    }
}

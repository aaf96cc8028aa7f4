package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.CreateOptions;
import dev.netnstoolkit.api.NamespaceId;
import dev.netnstoolkit.api.NetNamespace;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A backend that forwards every call to another: override what you want to observe or break, e.g. a
 * switch back home that fails, to test how a scheduler retires or fences its threads.
 */
public abstract class ForwardingNamespaceBackend implements NamespaceBackend {

    private final NamespaceBackend delegate;

    protected ForwardingNamespaceBackend(NamespaceBackend delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The backend calls go to. */
    protected NamespaceBackend delegate() {
        return delegate;
    }

    @Override
    public NetNamespace open(String path, String name) {
        return delegate.open(path, name);
    }

    @Override
    public NetNamespace create(String name, CreateOptions options) {
        return delegate.create(name, options);
    }

    @Override
    public void delete(String name) {
        delegate.delete(name);
    }

    @Override
    public NamespaceId idOf(String path) {
        return delegate.idOf(path);
    }

    @Override
    public NamespaceId homeId() {
        return delegate.homeId();
    }

    @Override
    public NamespaceId threadId() {
        return delegate.threadId();
    }

    @Override
    public void setns(int fd, String target) {
        delegate.setns(fd, target);
    }

    @Override
    public void setCloseOnExec(int fd) {
        delegate.setCloseOnExec(fd);
    }

    @Override
    public long spawn(NetNamespace ns, List<String> argv, Map<String, String> env) {
        return delegate.spawn(ns, argv, env);
    }

    @Override
    public int waitFor(long pid) {
        return delegate.waitFor(pid);
    }
}

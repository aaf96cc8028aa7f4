package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.NamespaceId;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A backend that forwards every call to another: override what you want to observe or break, e.g. a
 * switch back home that fails, to test how the toolkit retires or fences its threads.
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
    public NamespaceFd open(String path, boolean followLinks) {
        return delegate.open(path, followLinks);
    }

    @Override
    public NamespaceId idOf(String path, boolean followLinks) {
        return delegate.idOf(path, followLinks);
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
    public void setns(NamespaceFd.Lease ns, String target) {
        delegate.setns(ns, target);
    }

    @Override
    public void unshareNetwork(String target) {
        delegate.unshareNetwork(target);
    }

    @Override
    public void loopbackUp(String target) {
        delegate.loopbackUp(target);
    }

    @Override
    public long spawn(List<String> argv, Map<String, String> env) {
        return delegate.spawn(argv, env);
    }

    @Override
    public void prepareRunDir(String dir) {
        delegate.prepareRunDir(dir);
    }

    @Override
    public void createNameFile(String path) {
        delegate.createNameFile(path);
    }

    @Override
    public void bindThreadNamespace(String path) {
        delegate.bindThreadNamespace(path);
    }

    @Override
    public void removeName(String path) {
        delegate.removeName(path);
    }

    @Override
    public DirectoryWatch watchDirectory(String dir) {
        return delegate.watchDirectory(dir);
    }

    @Override
    public SocketFd socket(int family, int type, int protocol, String target) {
        return delegate.socket(family, type, protocol, target);
    }

    @Override
    public void setCloseOnExec(int fd) {
        delegate.setCloseOnExec(fd);
    }

    @Override
    public void awaitExit(long pid) {
        delegate.awaitExit(pid);
    }

    @Override
    public int reap(long pid) {
        return delegate.reap(pid);
    }

    @Override
    public void kill(long pid, int signal) {
        delegate.kill(pid, signal);
    }
}

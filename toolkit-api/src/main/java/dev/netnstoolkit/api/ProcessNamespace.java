package dev.netnstoolkit.api;

import java.util.List;

/**
 * A network namespace that running processes are in, as {@code lsns -t net} lists them.
 *
 * @param id its identity
 * @param pids the processes in it, lowest first
 * @param path {@code /proc/PID/ns/net} of the first of them, to open it with {@link NamespaceRegistry#openPath}
 */
public record ProcessNamespace(NamespaceId id, List<Long> pids, String path) {
}

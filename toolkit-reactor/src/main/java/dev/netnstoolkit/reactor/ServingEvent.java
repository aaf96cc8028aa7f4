package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceId;
import reactor.netty.DisposableChannel;

import java.util.List;

/** What {@link Netns#serve} did as namespaces came and went. */
public sealed interface ServingEvent {

    /** The namespace's name in the watched directory. */
    String name();

    /** Its identity. */
    NamespaceId id();

    /**
     * Bound in a namespace that appeared.
     *
     * @param name the namespace's name
     * @param id its identity
     * @param servers what was bound there
     */
    record Serving(String name, NamespaceId id, List<DisposableChannel> servers) implements ServingEvent {
    }

    /**
     * The namespace went: its servers were disposed, every connection made through it closed, its pool,
     * resolver and meters released and its handle closed, so nothing of the toolkit keeps it alive.
     *
     * @param name the namespace's name
     * @param id its identity
     */
    record Stopped(String name, NamespaceId id) implements ServingEvent {
    }

    /**
     * The namespace appeared but could not be served (deleted before the bind, a port taken there...):
     * nothing of it is left open.
     *
     * @param name the namespace's name
     * @param id its identity
     * @param error why
     */
    record Failed(String name, NamespaceId id, Throwable error) implements ServingEvent {
    }
}

package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NetNamespace;
import dev.netnstoolkit.api.SocketSpec;
import reactor.core.publisher.Mono;

/** How the protocols built on the generic path (ping, links, link requests) get their sockets: {@code Netns::openSocket}. */
@FunctionalInterface
interface SocketOpener {

    Mono<MessageSocket> open(NetNamespace ns, SocketSpec spec);
}

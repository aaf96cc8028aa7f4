package dev.netnstoolkit.api;

/**
 * A network link (interface) of a namespace, or a change to it, as rtnetlink reports it from inside.
 *
 * @param namespace the namespace the link is in
 * @param kind what is reported
 * @param index the link's index in its namespace
 * @param link its name, e.g. {@code lo}, {@code veth0}
 * @param address for address events, the address and prefix length ({@code 10.0.0.1/24}); else null
 */
public record LinkEvent(NetNamespace namespace, Kind kind, int index, String link, String address) {

    /** What happened. */
    public enum Kind {
        /** There when the subscription started, up. */
        PRESENT_UP,
        /** There when the subscription started, down. */
        PRESENT_DOWN,
        /** Created since. */
        ADDED,
        /** Deleted (or moved to another namespace). */
        REMOVED,
        /** Set administratively up. */
        UP,
        /** Set administratively down. */
        DOWN,
        /** An address was added to the link. */
        ADDRESS_ADDED,
        /** An address was removed from the link. */
        ADDRESS_REMOVED
    }

    @Override
    public String toString() {
        return namespace.label() + " " + link + " " + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                + (address != null ? " " + address : "");
    }
}

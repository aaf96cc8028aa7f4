package dev.netnstoolkit.reactor;

import io.netty.channel.Channel;

/** Closing what nobody will use: a task's result produced after its subscriber left, or stranded. */
final class Closing {

    private Closing() {
    }

    static void quietly(Object o) {
        if (o instanceof Channel ch) {
            if (ch.isRegistered()) {
                ch.close(); // on its loop: never under a read loop that still uses the descriptor number
            } else {
                ch.unsafe().closeForcibly(); // never registered: closes the descriptor here and now
            }
        } else if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to report to
            }
        }
    }
}

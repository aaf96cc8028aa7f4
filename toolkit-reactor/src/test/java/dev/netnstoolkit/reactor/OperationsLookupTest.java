package dev.netnstoolkit.reactor;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.AttributeKey;
import org.junit.jupiter.api.Test;
import reactor.netty.channel.ChannelOperations;

import static org.assertj.core.api.Assertions.assertThat;

/** How the toolkit finds a channel's Reactor Netty operations from threads other than the channel's loop. */
class OperationsLookupTest {

    private static final AttributeKey<Object> CONNECTION = AttributeKey.valueOf("$CONNECTION");

    @Test
    void lookingUpAChannelsOperationsBindsNothingToIt() {
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            assertThat(NamespaceLoopResources.operationsOf(ch)).isNull();
            assertThat(ch.hasAttr(CONNECTION)).as("a connection bound by the toolkit's lookup").isFalse();
            // Reactor Netty's own lookup binds a plain connection: off the channel's loop that can overwrite the
            // operations it binds meanwhile, which then never hear the channel's close
            assertThat(ChannelOperations.get(ch)).isNull();
            assertThat(ch.hasAttr(CONNECTION)).as("a connection bound by ChannelOperations.get").isTrue();
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}

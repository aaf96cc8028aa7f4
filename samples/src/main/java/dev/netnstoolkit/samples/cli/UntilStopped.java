package dev.netnstoolkit.samples.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** How the commands that run until told end: after {@code --duration}, on SIGTERM/SIGINT, or when their work ends. */
final class UntilStopped {

    private UntilStopped() {
    }

    /** Checks {@code --duration}: null (until signalled) or 1 s .. a year. */
    static void checkDuration(Long seconds) {
        if (seconds != null) {
            Args.range("--duration", seconds, 1, 86_400 * 365L);
        }
    }

    /** Waits until {@code done} counts down, the process is told to stop, or {@code seconds} pass (null: no limit). */
    static void await(CountDownLatch done, Long seconds, String threadName) throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(done::countDown, threadName));
        if (seconds != null) {
            done.await(seconds, TimeUnit.SECONDS);
        } else {
            done.await();
        }
    }
}

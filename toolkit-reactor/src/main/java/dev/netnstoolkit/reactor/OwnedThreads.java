package dev.netnstoolkit.reactor;

import dev.netnstoolkit.api.NamespaceSwitch;
import io.netty.util.concurrent.FastThreadLocalThread;
import reactor.core.scheduler.NonBlocking;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes the threads the toolkit owns: platform threads that adopt themselves into the namespace switch
 * first thing (moved home and checked, whatever thread made them) and run their body only if that
 * worked. Event-loop threads are Netty {@link FastThreadLocalThread}s and Reactor {@link NonBlocking},
 * so {@code block()} on them is refused as on Reactor Netty's own loops and BlockHound sees them as
 * non-blocking; the keeper and the dedicated workers may block.
 */
final class OwnedThreads {

    private final NamespaceSwitch sw;
    private final String prefix;
    private final AtomicInteger seq = new AtomicInteger();

    OwnedThreads(NamespaceSwitch sw, String prefix) {
        this.sw = sw;
        this.prefix = prefix;
    }

    NamespaceSwitch namespaceSwitch() {
        return sw;
    }

    /** How a thread's start went: awaited by its creator, at home, which reports a failure. */
    static final class Start {
        private final CountDownLatch latch = new CountDownLatch(1);
        private volatile Throwable failure;

        void ok() {
            latch.countDown();
        }

        void failed(Throwable e) {
            failure = e;
            latch.countDown();
        }

        /** Whether the thread reported that it could not get home, and so ends without running its body. */
        boolean ended() {
            return failure != null;
        }

        /** The failure, or null once started at home; a timeout is a failure too. */
        Throwable await(Duration timeout) {
            boolean interrupted = false;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    if (!latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        return new IllegalStateException("thread did not start within " + timeout.toSeconds() + " s");
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return failure;
        }
    }

    /** A started platform thread (keeper or dedicated worker) that runs {@code body} once at home. */
    Thread start(String role, Start start, Runnable body) {
        Thread t = new Thread(adopting(start, body), prefix + "-" + role + "-" + seq.incrementAndGet());
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The factory of event-loop threads; each reports its start to the {@code Start} the supplier gives. */
    ThreadFactory loopThreads(java.util.function.Supplier<Start> starts) {
        return r -> {
            LoopThread t = new LoopThread(adopting(starts.get(), r), prefix + "-loop-" + seq.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private Runnable adopting(Start start, Runnable body) {
        return () -> {
            try {
                sw.adoptCurrentThread();
            } catch (RuntimeException e) {
                start.failed(e); // this thread could not get home: it only ends; its creator reports it
                return;
            }
            start.ok();
            body.run();
        };
    }

    /** An event-loop thread: never blocks, never runs user code outside home. */
    static final class LoopThread extends FastThreadLocalThread implements NonBlocking {
        LoopThread(Runnable r, String name) {
            super(r, name);
        }
    }
}

package dev.netnstoolkit.api.spi;

import dev.netnstoolkit.api.ClosedNamespaceException;
import dev.netnstoolkit.api.NamespaceId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The descriptor is closed exactly once, never while a lease is open, and never handed out once closed. */
class NamespaceFdTest {

    private final List<Integer> closed = new ArrayList<>();

    private NamespaceFd fd() {
        return NamespaceFd.adopt(42, new NamespaceId(1, 2), closed::add);
    }

    @Test
    void closingTwiceAndReleasingTwiceCloseTheDescriptorOnce() {
        NamespaceFd fd = fd();
        NamespaceFd.Lease a = fd.lease("ns");
        a.close();
        a.close(); // a second release of the same lease does nothing: the count cannot go below zero
        assertThat(closed).isEmpty();
        fd.close();
        fd.close();
        assertThat(closed).containsExactly(42);
    }

    @Test
    void anOpenLeaseKeepsTheDescriptorUntilItIsReleased() {
        NamespaceFd fd = fd();
        NamespaceFd.Lease lease = fd.lease("ns");
        fd.close();
        assertThat(closed).isEmpty();
        assertThat(lease.fd()).isEqualTo(42);
        lease.close();
        assertThat(closed).containsExactly(42);
        assertThatThrownBy(lease::fd).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClosedOwnerNeverHandsOutANumber() {
        NamespaceFd fd = fd();
        fd.close();
        assertThatThrownBy(() -> fd.lease("blue")).isInstanceOf(ClosedNamespaceException.class).hasMessageContaining("blue");
    }

    @Test
    void concurrentLeasesAndCloseCloseExactlyOnce() throws InterruptedException {
        for (int round = 0; round < 200; round++) {
            AtomicInteger closes = new AtomicInteger();
            NamespaceFd fd = NamespaceFd.adopt(7, new NamespaceId(1, 2), n -> closes.incrementAndGet());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 100; i++) {
                            try (NamespaceFd.Lease l = fd.lease("ns")) {
                                assertThat(l.fd()).isEqualTo(7);
                                assertThat(closes.get()).isZero(); // never closed under an open lease
                            } catch (ClosedNamespaceException e) {
                                return;
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                th.start();
                threads.add(th);
            }
            go.countDown();
            fd.close();
            for (Thread th : threads) {
                th.join();
            }
            assertThat(closes).hasValue(1);
        }
    }
}

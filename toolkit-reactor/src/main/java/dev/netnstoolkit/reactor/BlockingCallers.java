package dev.netnstoolkit.reactor;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

import java.util.function.Function;

/**
 * Recognises a {@code call(...)} subscribed by Reactor's own {@code block()} family, whose thread parks
 * right after subscribing: only such a caller is worth waiting for awake. A burst of calls subscribed
 * from one thread (a {@code flatMap}) must not be paced by that wait, and is not marked.
 */
final class BlockingCallers {

    private static final String KEY = "dev.netnstoolkit.blockingCaller";

    private BlockingCallers() {
    }

    /** {@code source}, its subscription's context marked when the subscriber is one of Reactor's blocking subscribers. */
    static <T> Mono<T> marked(Mono<T> source) {
        Function<? super Publisher<T>, ? extends Publisher<T>> lift =
                Operators.<T, T>lift((scannable, actual) -> isReactorsBlockingSubscriber(actual) ? new Marked<>(actual) : actual);
        return Mono.from(lift.apply(source));
    }

    static boolean isMarked(ContextView context) {
        return context.getOrDefault(KEY, Boolean.FALSE);
    }

    /** {@code block()}, {@code blockOptional()}: Reactor's package-private Blocking*Subscriber classes. */
    private static boolean isReactorsBlockingSubscriber(CoreSubscriber<?> s) {
        return s.getClass().getName().startsWith("reactor.core.publisher.Blocking");
    }

    private record Marked<T>(CoreSubscriber<? super T> actual) implements CoreSubscriber<T> {
        @Override
        public Context currentContext() {
            return actual.currentContext().put(KEY, Boolean.TRUE);
        }

        @Override
        public void onSubscribe(Subscription s) {
            actual.onSubscribe(s);
        }

        @Override
        public void onNext(T t) {
            actual.onNext(t);
        }

        @Override
        public void onError(Throwable t) {
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            actual.onComplete();
        }
    }
}

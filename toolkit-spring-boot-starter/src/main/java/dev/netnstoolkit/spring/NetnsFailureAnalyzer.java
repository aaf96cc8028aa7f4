package dev.netnstoolkit.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Prints a {@link NetnsStartupException} as Boot's "APPLICATION FAILED TO START": what and what to do. */
class NetnsFailureAnalyzer extends AbstractFailureAnalyzer<NetnsStartupException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, NetnsStartupException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}

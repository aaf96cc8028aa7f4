package dev.netnstoolkit.samples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Hooks;
import reactor.util.Loggers;

import java.util.Arrays;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * {@code ntk}: the toolkit's command line. {@code java -jar samples/target/ntk.jar --help}.
 *
 * <p>Errors end with a non-zero exit status and one line on stderr naming the cause; {@code --verbose}
 * adds the stack trace and the libraries' warnings, which are otherwise quiet.
 */
@Command(name = "ntk", mixinStandardHelpOptions = true, version = "ntk 0.2.0",
        description = "Network namespaces from one JVM: create, list, enter, and (tour) serve in many at once.",
        subcommands = {AddCommand.class, DeleteCommand.class, ListCommand.class, IdentifyCommand.class,
                ExecCommand.class, GcCommand.class, MonitorCommand.class, TourCommand.class, ServeCommand.class, GetCommand.class,
                ConnectCommand.class, LoadCommand.class, PingCommand.class, LinksCommand.class, SoakCommand.class, dev.netnstoolkit.samples.scenarios.Scenarios.class})
public final class Ntk implements Runnable {

    @Option(names = "--verbose", description = "Print stack traces of errors and the libraries' warnings.",
            scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Ntk());
        cl.getSubcommands().get("exec").setStopAtPositional(true);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        if (!verbose) {
            quietLibraries();
        }
        cl.setParameterExceptionHandler((ex, a) -> {
            String msg = ex.getMessage();
            boolean dashed = Arrays.stream(a).anyMatch(arg -> arg.startsWith("-") && !arg.startsWith("--") && arg.length() > 1);
            if (msg != null && dashed && (msg.startsWith("Unknown option") || msg.startsWith("Missing required parameter"))) {
                msg += " (a name that starts with '-' goes after --, as in: ntk add -- -name)";
            }
            ex.getCommandLine().getErr().println("ntk: " + msg);
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println("ntk: " + Failures.oneLine(ex));
            if (verbose) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    /**
     * Without --verbose, Netty's and Reactor's warnings (a connection closed by its peer, an error after
     * cancellation) would print stack traces around the one line that matters: only severe ones remain.
     */
    private static void quietLibraries() {
        Loggers.useJdkLoggers();
        Logger root = LogManager.getLogManager().getLogger("");
        root.setLevel(Level.SEVERE);
        for (java.util.logging.Handler h : root.getHandlers()) {
            h.setLevel(Level.SEVERE);
        }
        Hooks.onErrorDropped(e -> { }); // errors after a subscriber left: the command reports its own outcome
    }

    /** One line for an error that ends a command. */
    static final class Failures {
        private Failures() {
        }

        static String oneLine(Throwable ex) {
            java.util.List<Throwable> all = causes(ex);
            String first = oneLineOf(all.get(0));
            return all.size() == 1 ? first : first + " (and " + (all.size() - 1) + " more)";
        }

        /** The errors behind {@code ex}: the parts of a Reactor composite, without block()'s own marker. */
        static java.util.List<Throwable> causes(Throwable ex) {
            java.util.List<Throwable> all = reactor.core.Exceptions.unwrapMultiple(reactor.core.Exceptions.unwrap(ex)).stream()
                    .filter(t -> !(t.getClass() == Exception.class && String.valueOf(t.getMessage()).startsWith("#block")))
                    .toList();
            return all.isEmpty() ? java.util.List.of(ex) : all;
        }

        private static String oneLineOf(Throwable ex) {
            Throwable cause = reactor.core.Exceptions.unwrap(ex);
            if (cause instanceof IllegalStateException && cause.getMessage() != null
                    && cause.getMessage().startsWith("Timeout on blocking read") ) {
                return "timed out (raise --timeout)";
            }
            if (cause instanceof TimeoutException && cause.getMessage() != null) {
                return cause.getMessage();
            }
            if (cause instanceof OutOfMemoryError oom && String.valueOf(oom.getMessage()).contains("native thread")) {
                return "cannot start a thread: the process reached its thread limit (pids.max or ulimit -u): " + oom.getMessage();
            }
            String msg = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getName();
            String line = msg.lines().findFirst().orElse(msg);
            if (line.contains("Too many open files")) {
                line += " (descriptor limit " + Limits.openFiles() + "; raise it with ulimit -n)";
            }
            return line;
        }
    }
}

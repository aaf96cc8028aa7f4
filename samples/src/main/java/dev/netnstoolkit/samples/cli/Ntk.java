package dev.netnstoolkit.samples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;

/**
 * {@code ntk}: the toolkit's command line. {@code java -jar samples/target/ntk.jar --help}.
 *
 * <p>Errors end with a non-zero exit status and one line on stderr naming the cause; {@code --verbose}
 * adds the stack trace.
 */
@Command(name = "ntk", mixinStandardHelpOptions = true, version = "ntk 0.1.0",
        description = "Network namespaces from one JVM: create, list, enter, and (tour) serve in many at once.",
        subcommands = {AddCommand.class, DeleteCommand.class, ListCommand.class, IdentifyCommand.class,
                ExecCommand.class, TourCommand.class, ServeCommand.class, GetCommand.class, ConnectCommand.class, LoadCommand.class, SoakCommand.class,
                dev.netnstoolkit.samples.scenarios.Scenarios.class})
public final class Ntk implements Runnable {

    @Option(names = "--verbose", description = "Print stack traces of errors.", scope = CommandLine.ScopeType.INHERIT)
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
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            Throwable cause = reactor.core.Exceptions.unwrap(ex);
            String msg = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getName();
            cmd.getErr().println("ntk: " + msg.lines().findFirst().orElse(msg));
            if (verbose) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }
}

package dev.netnstoolkit.api;

/**
 * A command could not be started inside a namespace: not found (exit status 127, as a shell says) or
 * not executable (126).
 */
public class CommandNotRunException extends NamespaceException {

    private static final long serialVersionUID = 1L;

    private final int exitStatus;

    /**
     * @param exitStatus what a shell would exit with: 127 not found, 126 not executable
     */
    public CommandNotRunException(String message, String syscall, int errno, String target, int exitStatus) {
        super(message, syscall, errno, target, null);
        this.exitStatus = exitStatus;
    }

    /** 127 if the command was not found, 126 if it could not be executed. */
    public int exitStatus() {
        return exitStatus;
    }
}

package dev.netnstoolkit.test;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JUnit 5 extension for tests that need CAP_SYS_ADMIN (creating namespaces, setns). Without it the
 * test class is skipped with a message that says why, unless {@code -Dntk.requirePrivileged=true} or
 * {@code CI=true}: then it fails, so a CI run can never pass by skipping them.
 *
 * <pre>{@code @ExtendWith(Privilege.class) class MyTest { ... }}</pre>
 */
public final class Privilege implements BeforeAllCallback {

    private static final int CAP_SYS_ADMIN = 21;

    @Override
    public void beforeAll(ExtensionContext context) {
        require();
    }

    /** Skips (or, when privilege is required, fails) the calling test unless the process has CAP_SYS_ADMIN. */
    public static void require() {
        if (hasSysAdmin()) {
            return;
        }
        String why = "needs CAP_SYS_ADMIN to create and enter network namespaces; run the tests as root";
        if (Boolean.getBoolean("ntk.requirePrivileged") || "true".equals(System.getenv("CI"))) {
            Assertions.fail(why + " (privileged tests are required here: ntk.requirePrivileged or CI=true)");
        }
        Assumptions.abort(why);
    }

    /** Whether CAP_SYS_ADMIN is in this process's effective set (/proc/self/status CapEff). */
    public static boolean hasSysAdmin() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & (1L << CAP_SYS_ADMIN)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }
}

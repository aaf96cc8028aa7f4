package dev.netnstoolkit.reactor;

import dev.netnstoolkit.test.Commands;
import dev.netnstoolkit.test.Privilege;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Virtual threads are refused: adopting one as a switching thread, creating the scheduler from one, and
 * switching one. Runs {@link VirtualThreadProbe} on the Temurin 25 JDK installed beside the
 * build JDK (the build targets Java 17, which has no virtual threads).
 */
@ExtendWith(Privilege.class)
class VirtualThreadRefusalTest {

    @Test
    void virtualThreadsAreRefused() {
        Path java = findJdkWithVirtualThreads().orElse(null);
        if (java == null) {
            String why = "needs a JDK 21+ under /usr/lib/jvm (e.g. temurin-25-jdk-amd64) to check virtual threads";
            if (Boolean.getBoolean("ntk.requirePrivileged") || "true".equals(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        String out = Commands.ok(java.toString(), "-cp", System.getProperty("java.class.path"), VirtualThreadProbe.class.getName());
        assertThat(out).contains("adopt refused: adoptCurrentThread refused on virtual thread");
        assertThat(out).contains("create refused: checkCanSwitch refused on virtual thread");
        assertThat(out).contains("inline refused: run refused on virtual thread");
        assertThat(out).contains("call from virtual thread: 42");
        assertThat(out).doesNotContain("accepted");
    }

    /** JAVA_VERSION="25.0.1" in the JDK's release file; 0 if unreadable. */
    private static int majorVersion(Path jdk) {
        try {
            for (String line : Files.readAllLines(jdk.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    static Optional<Path> findJdkWithVirtualThreads() {
        String override = System.getenv("NTK_JDK21_HOME");
        if (override != null) {
            return Optional.of(Path.of(override, "bin", "java"));
        }
        try (Stream<Path> jdks = Files.list(Path.of("/usr/lib/jvm"))) {
            return jdks.filter(p -> majorVersion(p) >= 21)
                    .map(p -> p.resolve("bin/java")).filter(Files::isExecutable).sorted().findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}

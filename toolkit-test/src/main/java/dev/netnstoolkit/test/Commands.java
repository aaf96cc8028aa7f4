package dev.netnstoolkit.test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.stream.Stream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a command (no shell: the arguments go to execve as they are) and returns what it printed, for
 * tests that check the toolkit against iproute2 and friends. Bounded: a command that runs over 60 s fails.
 */
public final class Commands {

    /** Exit status and combined stdout + stderr. */
    public record Result(int exit, String out) {
    }

    private Commands() {
    }

    /** Runs the command and returns its output; fails the test on a non-zero exit. */
    public static String ok(String... argv) {
        Result r = run(argv);
        if (r.exit() != 0) {
            fail(String.join(" ", argv) + " exited " + r.exit() + ": " + r.out());
        }
        return r.out();
    }

    /** Runs {@code commands} through one {@code ip -batch} (e.g. {@code netns add NAME} lines); fails the test if it fails. */
    public static void ipBatch(List<String> commands) throws IOException {
        Path file = Files.createTempFile("ntk-batch", ".txt");
        try {
            Files.write(file, commands);
            ok("ip", "-batch", file.toString());
        } finally {
            Files.delete(file);
        }
    }

    /** Starts a command with no pipes to this JVM (so it holds no descriptor of ours). */
    public static Process background(String... argv) throws IOException {
        return new ProcessBuilder(List.of(argv)).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Runs the command and returns its exit status and output. */
    public static Result run(String... argv) {
        try {
            Process p = new ProcessBuilder(List.of(argv)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", argv) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + argv[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * A copy of this JVM's class path under {@code dir} that any user can read, for child JVMs run as an
     * unprivileged user (the originals may sit under /root). Returns the new class path.
     */
    public static String readableClassPath(Path dir) throws IOException {
        dir.toFile().setReadable(true, false);
        dir.toFile().setExecutable(true, false);
        List<String> cp = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path src = Path.of(entry);
            if (!Files.exists(src)) {
                continue;
            }
            Path dst = dir.resolve("cp" + i++ + (Files.isDirectory(src) ? "" : ".jar"));
            try (Stream<Path> walk = Files.walk(src)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path target = dst.resolve(src.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                    } else {
                        Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                    }
                }
            }
            cp.add(dst.toString());
        }
        return String.join(File.pathSeparator, cp);
    }

    /** A directory under {@code dir} that anyone may write (JNA's native library goes there for other users). */
    public static Path worldWritable(Path dir, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        return d;
    }
}

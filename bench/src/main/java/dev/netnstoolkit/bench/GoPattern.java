package dev.netnstoolkit.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Go pattern as a peer of the toolkit: {@code bench/src/main/go/dialpattern.go} (a goroutine
 * locked to its OS thread switches into the namespace with vishvananda/netns, dials, switches back),
 * built where Go and Debian's golang-github-vishvananda-netns-dev are installed, and run as a process
 * per round. Where it cannot be built, {@link #skipped()} says why.
 */
final class GoPattern {

    private final Path binary;
    private final String skipped;

    private GoPattern(Path binary, String skipped) {
        this.binary = binary;
        this.skipped = skipped;
    }

    /** Builds the client into {@code out}; never throws (a peer that cannot be built is skipped, with the reason). */
    static GoPattern build(Path out) {
        Path source = Path.of("bench", "src", "main", "go", "dialpattern.go");
        if (!Files.isRegularFile(source)) {
            return new GoPattern(null, source + " not found (run from the repository's top directory)");
        }
        Path binary = out.resolve("dialpattern");
        try {
            ProcessBuilder pb = new ProcessBuilder("go", "build", "-o", binary.toAbsolutePath().toString(),
                    source.toAbsolutePath().toString()).redirectErrorStream(true).directory(out.toFile());
            Map<String, String> env = pb.environment();
            env.put("GO111MODULE", "off");
            env.put("GOPATH", "/usr/share/gocode");
            env.putIfAbsent("GOCACHE", out.toAbsolutePath().resolve("go-cache").toString());
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return new GoPattern(null, "go build failed: " + output.strip().lines().findFirst().orElse("exit " + p.exitValue()));
            }
            return new GoPattern(binary, null);
        } catch (IOException e) {
            return new GoPattern(null, "Go is not installed (apt-get install golang-go golang-github-vishvananda-netns-dev)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new GoPattern(null, "interrupted while building");
        }
    }

    /** Why the peer is skipped, or null if it was built. */
    String skipped() {
        return skipped;
    }

    /** Connects + closes {@code count} times at {@code concurrency} from inside {@code ns} (after {@code warmup}); connections/s. */
    double connectRate(String ns, String address, int count, int concurrency, int warmup) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(binary.toString(), "-ns", ns, "-addr", address, "-count", Integer.toString(count),
                "-concurrency", Integer.toString(concurrency), "-warmup", Integer.toString(warmup)))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0 || !output.endsWith("/s")) {
            throw new IllegalStateException("the Go pattern client failed: " + output);
        }
        return Double.parseDouble(output.substring(0, output.length() - 2));
    }
}

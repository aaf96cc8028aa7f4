package dev.netnstoolkit.samples.owned;

import dev.netnstoolkit.api.NamespacePermissionException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Owner markers of the namespaces {@code ntk} makes for a run (tour, soak, scenarios): one file per name
 * in {@code /run/ntk/owners}, written before the namespace is created and removed after it is deleted,
 * saying which process made it ({@code pid=P start=T by=WHAT}, T the process's start time in clock
 * ticks, so a reused pid is not taken for the owner). A namespace whose marker names a process that is
 * gone was left by a killed run: {@code ntk gc} and the next run remove it. Names without a marker are
 * not ntk's to remove. {@code /run} is a tmpfs, emptied at boot like {@code /run/netns}.
 */
public final class Owners {

    /** Where the markers live. */
    public static final Path DIR = Path.of("/run/ntk/owners");

    /** One marker: the namespace name and its owner. */
    public record Marker(String name, long pid, long start, String by) {
        /** Whether the process that wrote it is still running (same pid, same start time). */
        public boolean ownerAlive() {
            return startTimeOf(pid).map(s -> s == start).orElse(false);
        }
    }

    private Owners() {
    }

    /** Writes the marker of {@code name} for this process, before the namespace is created. */
    static void mark(String name, String by) {
        long pid = SELF_PID;
        long start = selfStart();
        try {
            if (!Files.isDirectory(DIR)) {
                Files.createDirectories(DIR, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            }
            Files.writeString(DIR.resolve(name), "pid=" + pid + " start=" + start + " by=" + by + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new NamespacePermissionException("permission denied, needs CAP_SYS_ADMIN and write access to " + DIR
                    + ": cannot mark " + name + " as this run's", "open", 13, name, "CAP_SYS_ADMIN");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the owner marker " + DIR.resolve(name) + ": " + e.getMessage(), e);
        }
    }

    /** Removes the marker of {@code name}, after the namespace is gone. */
    static void unmark(String name) {
        try {
            Files.deleteIfExists(DIR.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the owner marker " + DIR.resolve(name) + ": " + e.getMessage(), e);
        }
    }

    /** Every marker, unreadable ones left out. */
    public static List<Marker> all() {
        List<Marker> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(DIR)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                read(p).ifPresent(out::add);
            }
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + DIR + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static Optional<Marker> read(Path p) {
        try {
            String text = Files.readString(p, StandardCharsets.UTF_8).trim();
            long pid = -1;
            long start = -1;
            String by = "";
            for (String field : text.split(" ")) {
                if (field.startsWith("pid=")) {
                    pid = Long.parseLong(field.substring(4));
                } else if (field.startsWith("start=")) {
                    start = Long.parseLong(field.substring(6));
                } else if (field.startsWith("by=")) {
                    by = field.substring(3);
                }
            }
            return pid > 0 && start >= 0 ? Optional.of(new Marker(p.getFileName().toString(), pid, start, by)) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks since boot), if the process exists. */
    private static final long SELF_PID = ProcessHandle.current().pid();
    private static volatile long selfStart = -1;

    /** This process's start time, read once. */
    private static long selfStart() {
        long s = selfStart;
        if (s < 0) {
            s = startTimeOf(SELF_PID).orElseThrow(() -> new IllegalStateException("cannot read /proc/self/stat"));
            selfStart = s;
        }
        return s;
    }

    static Optional<Long> startTimeOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(after[19])); // field 22; fields after the comm start at 3
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}

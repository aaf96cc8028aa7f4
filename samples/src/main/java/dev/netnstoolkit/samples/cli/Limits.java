package dev.netnstoolkit.samples.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's limits as /proc/self/limits says them, for messages and checks. */
final class Limits {

    private Limits() {
    }

    /** The soft limit of open descriptors ("Max open files"), or -1 if unknown. */
    static long openFiles() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] cols = line.substring("Max open files".length()).trim().split("\\s+");
                    return cols[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(cols[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Refuses, in one line, a run that needs more descriptors than the limit allows: how many it needs,
     * the limit, what to do. {@code why} says what the descriptors are for.
     */
    static void requireDescriptors(String what, long needed, String why) {
        long limit = openFiles();
        if (limit > 0 && needed > limit) {
            throw new IllegalArgumentException(what + " needs about " + needed + " open descriptors (" + why
                    + "); the limit is " + limit + ": raise it (ulimit -n) or ask for fewer");
        }
    }
}

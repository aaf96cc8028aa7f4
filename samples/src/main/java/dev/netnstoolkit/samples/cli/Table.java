package dev.netnstoolkit.samples.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A two-column table, aligned, for summaries. */
final class Table {

    private final List<String[]> rows = new ArrayList<>();

    void row(String key, String value) {
        rows.add(new String[] {key, value});
    }

    void print(PrintStream out) {
        int w = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
        String rule = "-".repeat(w + 2) + "+" + "-".repeat(40);
        out.println(rule);
        for (String[] r : rows) {
            out.printf(" %-" + w + "s | %s%n", r[0], r[1]);
        }
        out.println(rule);
    }
}

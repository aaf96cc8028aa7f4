package dev.netnstoolkit.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** What a harness run found: the JSON document and the markdown table, filled section by section. */
final class Report {

    private final Map<String, Object> json = new LinkedHashMap<>();
    private final StringBuilder table = new StringBuilder("| measure | toolkit | baseline | ratio: median [IQR] (pairs; 95 % CI of the median) |\n|---|---|---|---|\n");

    void put(String key, Object value) {
        json.put(key, value);
    }

    /** A paired comparison: its JSON under {@code key} and a row. */
    void pairs(String key, String label, PairedRounds.Outcome o, String valueFormat) {
        json.put(key, o.json());
        double[] ci = PairedRounds.ci95(o.ratios());
        row(String.format(Locale.ROOT, "| %s | " + valueFormat + " | " + valueFormat + " | %.2f× [%.2f–%.2f] (%d; %.2f–%.2f) |",
                label, o.aMedian(), o.bMedian(), o.median(), o.q1(), o.q3(), o.ratios().size(), ci[0], ci[1]));
    }

    /** A note instead of a figure (a peer skipped, say). */
    void note(String key, String text) {
        json.put(key, text);
        row("| " + text + " | — | — | — |");
    }

    void row(String line) {
        table.append(line).append('\n');
    }

    Map<String, Object> json() {
        return json;
    }

    String table() {
        return table.toString();
    }
}

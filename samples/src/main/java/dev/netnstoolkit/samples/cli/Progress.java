package dev.netnstoolkit.samples.cli;

/** A one-line progress bar on stderr, redrawn in place when stderr is a terminal, else printed once at the end. */
final class Progress {

    private static final int WIDTH = 30;
    private final String label;
    private final int total;
    private final boolean tty = System.console() != null;
    private int done;
    private int lastDrawn = -1;

    Progress(String label, int total) {
        this.label = label;
        this.total = total;
    }

    synchronized void step() {
        done++;
        int filled = (int) ((long) done * WIDTH / total);
        if (tty && filled != lastDrawn) {
            lastDrawn = filled;
            System.err.print("\r" + line(filled));
            System.err.flush();
        }
    }

    synchronized void done() {
        System.err.println((tty ? "\r" : "") + line(WIDTH));
    }

    private String line(int filled) {
        return String.format("%-22s [%s%s] %d/%d", label, "#".repeat(filled), ".".repeat(WIDTH - filled), done, total);
    }
}

package dev.netnstoolkit.samples.cli;

/** Checks of command-line values, each failing with one line that names the option and what is allowed. */
final class Args {

    private Args() {
    }

    /** A {@code HOST:PORT} target ({@code [v6]:PORT} too). */
    record Target(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    static Target target(String option, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(option + " expects HOST:PORT, not '" + value + "'");
        }
        String host = value.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expects a port number after ':', not '" + value.substring(colon + 1) + "'");
        }
        return new Target(host, (int) range(option + " port", port, 1, 65_535));
    }

    /** {@code value} if it is within {@code min..max}, else an error naming the option and the range. */
    static long range(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be " + min + ".." + max + ", not " + value);
        }
        return value;
    }
}

package dev.netnstoolkit.api;

import java.nio.charset.StandardCharsets;

/**
 * The rules for names under {@code /run/netns}: not empty, not {@code .} or {@code ..}, no {@code /},
 * no NUL or other control character (iproute2 accepts tabs and newlines; they make listings ambiguous,
 * so the toolkit refuses them), at most 255 bytes (NAME_MAX) in UTF-8. A valid name never reaches
 * outside {@code /run/netns}.
 */
final class Names {

    /** Where iproute2 keeps named namespaces. */
    static final String RUN_DIR = "/run/netns";

    /** NAME_MAX. */
    static final int MAX_BYTES = 255;

    private Names() {
    }

    /**
     * Checks a name and returns its path under {@link #RUN_DIR}.
     *
     * @throws InvalidNamespaceNameException saying what is wrong with it
     */
    static String pathOf(String name) {
        String why = problem(name);
        if (why != null) {
            throw new InvalidNamespaceNameException("invalid namespace name " + shown(name) + ": it " + why,
                    null, 0, name, null);
        }
        return RUN_DIR + "/" + name;
    }

    /** What is wrong with a name, or null. */
    static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "is empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "is '" + name + "'";
        }
        if (name.indexOf('/') >= 0) {
            return "contains '/'";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return c == 0 ? "contains NUL" : "contains a control character (0x" + Integer.toHexString(c) + ")";
            }
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return "is longer than " + MAX_BYTES + " bytes";
        }
        return null;
    }

    /** The name quoted for a one-line message: control characters escaped, long names cut. */
    static String shown(String name) {
        if (name == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < name.length() && b.length() < 60; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (b.length() >= 60) {
            b.append("...");
        }
        return b.append('\'').toString();
    }
}

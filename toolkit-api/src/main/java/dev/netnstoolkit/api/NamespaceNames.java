package dev.netnstoolkit.api;

import java.nio.charset.StandardCharsets;

/**
 * The rules for names under {@code /run/netns}, as iproute2 applies them: not empty, not {@code .} or
 * {@code ..}, no {@code /}, no NUL, at most 255 bytes (NAME_MAX) in UTF-8. A valid name never reaches
 * outside {@code /run/netns}.
 */
public final class NamespaceNames {

    /** Where iproute2 keeps named namespaces. */
    public static final String RUN_DIR = "/run/netns";

    /** NAME_MAX. */
    public static final int MAX_BYTES = 255;

    private NamespaceNames() {
    }

    /**
     * Checks a name and returns its path under {@link #RUN_DIR}.
     *
     * @throws InvalidNamespaceNameException saying what is wrong with it
     */
    public static String pathOf(String name) {
        String why = null;
        if (name == null || name.isEmpty()) {
            why = "is empty";
        } else if (name.equals(".") || name.equals("..")) {
            why = "is '" + name + "'";
        } else if (name.indexOf('/') >= 0) {
            why = "contains '/'";
        } else if (name.indexOf('\0') >= 0) {
            why = "contains NUL";
        } else if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            why = "is longer than " + MAX_BYTES + " bytes";
        }
        if (why != null) {
            String shown = name == null ? "null" : "'" + name.replace("\0", "\\0") + "'";
            if (shown.length() > 60) {
                shown = shown.substring(0, 57) + "...";
            }
            throw new InvalidNamespaceNameException("invalid namespace name " + shown + ": it " + why,
                    null, 0, name, null);
        }
        return RUN_DIR + "/" + name;
    }
}

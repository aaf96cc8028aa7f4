package dev.netnstoolkit.bench;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A minimal JSON writer for the harness's results (maps, lists, numbers, strings, booleans). */
final class Json {

    private Json() {
    }

    /** JSON text written as it is (a document another program wrote). */
    record Raw(String text) {
    }

    /** A flat object of numbers and booleans (as {@code ntk tour --json} writes), keys in order. */
    static Map<String, Object> parseFlat(String text) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        java.util.regex.Matcher x = java.util.regex.Pattern.compile("\"([^\"]+)\"\\s*:\\s*([^,}\\s]+)").matcher(text);
        while (x.find()) {
            String v = x.group(2);
            m.put(x.group(1), v.equals("true") || v.equals("false") ? (Object) Boolean.valueOf(v) : (Object) Double.valueOf(v));
        }
        return m;
    }

    static String write(Object o) {
        StringBuilder sb = new StringBuilder();
        write(o, sb, "");
        return sb.append('\n').toString();
    }

    private static void write(Object o, StringBuilder sb, String indent) {
        if (o instanceof Raw raw) {
            sb.append(raw.text());
        } else if (o instanceof Map<?, ?> m) {
            sb.append("{\n");
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                sb.append(indent).append("  ").append(quote(String.valueOf(e.getKey()))).append(": ");
                write(e.getValue(), sb, indent + "  ");
                sb.append(it.hasNext() ? ",\n" : "\n");
            }
            sb.append(indent).append('}');
        } else if (o instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                write(l.get(i), sb, indent);
            }
            sb.append(']');
        } else if (o instanceof Double d) {
            sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d));
        } else if (o instanceof Number || o instanceof Boolean) {
            sb.append(o);
        } else {
            sb.append(quote(String.valueOf(o)));
        }
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}

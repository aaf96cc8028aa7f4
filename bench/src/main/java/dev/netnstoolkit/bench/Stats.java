package dev.netnstoolkit.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles and medians of measurements; nothing clever. */
final class Stats {

    private Stats() {
    }

    static double percentile(long[] samples, double p) {
        long[] s = samples.clone();
        Arrays.sort(s);
        if (s.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100.0 * s.length) - 1));
        return s[i];
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static long[] concat(List<long[]> parts) {
        return parts.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /** The q-quantile (0..1) of values, interpolated between the nearest ranks; NaN if empty. */
    static double quantile(List<Double> values, double q) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }
}

package dev.netnstoolkit.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A comparison of A with its baseline B in paired rounds: each round runs A and B back to back, the
 * order alternating from one round to the next, and the figure of the round is the ratio A/B. The
 * result is the median of those ratios and their spread (interquartile range): a slow spell of the
 * machine hits both halves of a pair, so the ratios hold where the raw figures drift.
 *
 * <p>Warm-up pairs run first and are discarded, until the last three ratios lie within ±5 % of their
 * median (at least two pairs, at most {@code maxWarmup}). Then at least {@code pairs} pairs, and more
 * while the median is not yet pinned down: until the distribution-free 95 % confidence interval of the
 * median is within ±{@value #CI_HALF_WIDTH} of it, at most {@value #MAX_FACTOR} × {@code pairs} pairs and
 * {@value #EXTEND_SECONDS} s. On a machine as noisy as this VM a run of fixed length gave medians that
 * moved by more than the differences it was meant to show.
 */
final class PairedRounds {

    /** What one comparison measured. */
    record Outcome(String a, String b, List<Double> aValues, List<Double> bValues, List<Double> ratios, int warmupPairs) {

        double median() {
            return Stats.quantile(ratios, 0.5);
        }

        double q1() {
            return Stats.quantile(ratios, 0.25);
        }

        double q3() {
            return Stats.quantile(ratios, 0.75);
        }

        double aMedian() {
            return Stats.quantile(aValues, 0.5);
        }

        double bMedian() {
            return Stats.quantile(bValues, 0.5);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("a", a);
            m.put("b", b);
            m.put("a_median", aMedian());
            m.put("b_median", bMedian());
            m.put("ratio_median", median());
            m.put("ratio_q1", q1());
            m.put("ratio_q3", q3());
            double[] ci = ci95(ratios);
            m.put("ratio_ci95_low", ci[0]);
            m.put("ratio_ci95_high", ci[1]);
            m.put("pairs", ratios.size());
            m.put("warmup_pairs", warmupPairs);
            m.put("ratios", ratios);
            m.put("a_values", aValues);
            m.put("b_values", bValues);
            return m;
        }
    }

    static final double CI_HALF_WIDTH = 0.02;
    static final int MAX_FACTOR = 4;
    static final long EXTEND_SECONDS = 60;

    private PairedRounds() {
    }

    static Outcome run(String a, Callable<Double> runA, String b, Callable<Double> runB, int pairs, int maxWarmup) throws Exception {
        List<Double> warm = new ArrayList<>();
        int warmupPairs = 0;
        while (warmupPairs < maxWarmup && !(warmupPairs >= 2 && stable(warm))) {
            double[] pair = pair(runA, runB, warmupPairs);
            warm.add(pair[0] / pair[1]);
            warmupPairs++;
        }
        List<Double> av = new ArrayList<>();
        List<Double> bv = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < pairs || i < MAX_FACTOR * pairs && !pinned(ratios)
                && System.nanoTime() - start < EXTEND_SECONDS * 1_000_000_000L; i++) {
            double[] pair = pair(runA, runB, i);
            av.add(pair[0]);
            bv.add(pair[1]);
            ratios.add(pair[0] / pair[1]);
            System.err.print(".");
        }
        System.err.println();
        return new Outcome(a, b, av, bv, ratios, warmupPairs);
    }

    /** A then B on even rounds, B then A on odd ones. */
    private static double[] pair(Callable<Double> runA, Callable<Double> runB, int round) throws Exception {
        double x;
        double y;
        if (round % 2 == 0) {
            x = runA.call();
            y = runB.call();
        } else {
            y = runB.call();
            x = runA.call();
        }
        return new double[] {x, y};
    }

    /** The order statistics that bound a 95 % confidence interval of the median (normal approximation of the binomial). */
    static double[] ci95(List<Double> ratios) {
        List<Double> sorted = ratios.stream().sorted().toList();
        int n = sorted.size();
        int j = Math.max(0, (int) Math.floor(n / 2.0 - 0.98 * Math.sqrt(n)));
        int k = Math.min(n - 1, (int) Math.ceil(n / 2.0 + 0.98 * Math.sqrt(n)));
        return new double[] {sorted.get(j), sorted.get(k)};
    }

    private static boolean pinned(List<Double> ratios) {
        if (ratios.size() < 5) {
            return false;
        }
        double[] ci = ci95(ratios);
        return (ci[1] - ci[0]) / 2 <= CI_HALF_WIDTH * Stats.quantile(ratios, 0.5);
    }

    private static boolean stable(List<Double> ratios) {
        if (ratios.size() < 3) {
            return false;
        }
        List<Double> last = ratios.subList(ratios.size() - 3, ratios.size());
        double m = Stats.quantile(last, 0.5);
        return last.stream().allMatch(r -> Math.abs(r - m) <= 0.05 * m);
    }
}

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
 * median (at least two pairs, at most {@code maxWarmup}).
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
            m.put("pairs", ratios.size());
            m.put("warmup_pairs", warmupPairs);
            m.put("ratios", ratios);
            m.put("a_values", aValues);
            m.put("b_values", bValues);
            return m;
        }
    }

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
        for (int i = 0; i < pairs; i++) {
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

    private static boolean stable(List<Double> ratios) {
        if (ratios.size() < 3) {
            return false;
        }
        List<Double> last = ratios.subList(ratios.size() - 3, ratios.size());
        double m = Stats.quantile(last, 0.5);
        return last.stream().allMatch(r -> Math.abs(r - m) <= 0.05 * m);
    }
}

package dev.netnstoolkit.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** PNG charts of the harness's results, for the README. */
final class Charts {

    private Charts() {
    }

    @SuppressWarnings("unchecked")
    static void write(Map<String, Object> json, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Map<String, Object>> scale = (List<Map<String, Object>>) json.get("scale");
        List<Double> n = new ArrayList<>();
        List<Double> threads = new ArrayList<>();
        List<Double> perJvmThreads = new ArrayList<>();
        List<Double> bringUp = new ArrayList<>();
        for (Map<String, Object> p : scale) {
            n.add(((Number) p.get("namespaces")).doubleValue());
            threads.add(((Number) p.get("jvm_threads")).doubleValue());
            perJvmThreads.add(((Number) p.get("one_jvm_per_namespace_threads")).doubleValue());
            bringUp.add(((Number) p.get("bring_up_ms")).doubleValue());
        }
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Threads and bring-up time vs namespaces")
                .xAxisTitle("namespaces").yAxisTitle("threads / ms").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.addSeries("toolkit: JVM threads", n, threads);
        chart.addSeries("one JVM per namespace: threads (measured x N)", n, perJvmThreads);
        chart.addSeries("toolkit: bring-up ms", n, bringUp);
        if (json.get("largest_count") instanceof Json.Raw raw) { // ntk tour at the largest count: TCP, UDP and HTTP
            Map<String, Object> tour = Json.parseFlat(raw.text());
            List<Double> at = List.of(((Number) tour.get("namespaces")).doubleValue());
            chart.addSeries("ntk tour, largest count: JVM threads", at, List.of(((Number) tour.get("jvm_threads")).doubleValue()));
            chart.addSeries("ntk tour, largest count: bring-up ms", at, List.of(((Number) tour.get("bring_up_ms")).doubleValue()));
        }
        BitmapEncoder.saveBitmap(chart, dir.resolve("compare-scale").toString(), BitmapEncoder.BitmapFormat.PNG);

        List<String> names = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> m && m.get("ratio_median") instanceof Number r) {
                names.add(e.getKey().replace('_', ' '));
                ratios.add(r.doubleValue());
            }
        }
        CategoryChart bars = new CategoryChartBuilder().width(1000).height(520)
                .title("Toolkit / baseline, median of paired rounds (same run)").yAxisTitle("ratio").build();
        bars.getStyler().setLegendVisible(false);
        bars.getStyler().setXAxisLabelRotation(30);
        bars.addSeries("ratio", names, ratios);
        BitmapEncoder.saveBitmap(bars, dir.resolve("compare-ratios").toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}

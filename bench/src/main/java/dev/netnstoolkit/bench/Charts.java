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
        BitmapEncoder.saveBitmap(chart, dir.resolve("compare-scale").toString(), BitmapEncoder.BitmapFormat.PNG);

        List<String> names = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (String key : List.of("socket_inline_vs_raw", "socket_call_vs_raw", "tcp_connect_close", "tcp_connect_vs_go",
                "http_keepalive", "create_delete", "batch_create")) {
            if (json.get(key) instanceof Map<?, ?> m) {
                names.add(key.replace('_', ' '));
                ratios.add(((Number) m.get("ratio_median")).doubleValue());
            }
        }
        CategoryChart bars = new CategoryChartBuilder().width(800).height(400).title("Toolkit / baseline (same run)")
                .yAxisTitle("ratio").build();
        bars.getStyler().setLegendVisible(false);
        bars.addSeries("ratio", names, ratios);
        BitmapEncoder.saveBitmap(bars, dir.resolve("compare-ratios").toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}

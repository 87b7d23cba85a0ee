package io.jenkins.plugins.qemu.engine.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Median, p95 and max of a sample, by nearest rank, so small samples give real observed values. */
public record Stats(int n, double median, double p95, double max) {

    public static Stats of(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        v.removeIf(d -> d == null || d.isNaN());
        if (v.isEmpty()) {
            return new Stats(0, Double.NaN, Double.NaN, Double.NaN);
        }
        Collections.sort(v);
        return new Stats(v.size(), median(v), rank(v, 0.95), v.get(v.size() - 1));
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double rank(List<Double> sorted, double q) {
        int idx = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx)));
    }
}

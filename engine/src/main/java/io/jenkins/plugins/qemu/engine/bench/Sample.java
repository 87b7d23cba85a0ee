package io.jenkins.plugins.qemu.engine.bench;

import java.util.Map;

/**
 * One measured boot. Times are seconds from the request (NaN where not observed); the phase map
 * holds the engine's own phase durations in seconds.
 */
public record Sample(String config, int index, boolean ok, double online, double firstConsole, double cloudInitDone,
        double destroy, long rssKiB, long overlayBytes, Map<String, Double> phases, String error) {

    static Sample failed(String config, int index, String error) {
        return new Sample(config, index, false, Double.NaN, Double.NaN, Double.NaN, Double.NaN, -1, -1, Map.of(), error);
    }
}

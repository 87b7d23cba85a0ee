package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the last lines of a log file for error messages, tolerating a missing or growing file. */
final class Tail {
    private static final int MAX_BYTES = 16 * 1024;

    private Tail() {}

    static String of(Path file, int lines) {
        if (file == null || !Files.isRegularFile(file)) {
            return "";
        }
        try {
            String text = FileTree.lastBytes(file, MAX_BYTES).text().replace("\r", "");
            String[] all = text.split("\n");
            int from = Math.max(0, all.length - lines);
            StringBuilder b = new StringBuilder();
            for (int i = from; i < all.length; i++) {
                b.append(clean(all[i])).append('\n');
            }
            return b.toString();
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Console output carries terminal escapes; strip them so the tail reads as text. */
    private static String clean(String line) {
        return line.replaceAll("\u001B\\[[0-9;?]*[A-Za-z]", "").replaceAll("[\\x00-\\x08\\x0B-\\x1F\\x7F]", "");
    }
}

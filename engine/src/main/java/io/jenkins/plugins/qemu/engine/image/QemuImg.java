package io.jenkins.plugins.qemu.engine.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code qemu-img} directly (argv, never a shell) and turns a failure into an exception
 * carrying its stderr. Only the few sub-commands the engine needs are exposed.
 */
public final class QemuImg {
    private final Path binary;

    public QemuImg(Path binary) {
        this.binary = binary;
    }

    /** Creates {@code overlay} as a qcow2 backed by {@code base}; QEMU writes only to the overlay. */
    public void createOverlay(Path base, String baseFormat, Path overlay) throws IOException {
        run(List.of("create", "-q", "-f", "qcow2", "-F", baseFormat, "-b", base.toString(), overlay.toString()));
    }

    /** {@code qemu-img info --output=json}, for inspection and tests. */
    public String infoJson(Path image) throws IOException {
        return run(List.of("info", "--output=json", "-U", image.toString()));
    }

    private String run(List<String> args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(binary.toString());
        argv.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + binary + " (is qemu-utils installed?): " + e.getMessage(), e);
        }
        try (InputStream out = p.getInputStream(); InputStream err = p.getErrorStream()) {
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            Thread errReader = new Thread(() -> copy(err, stderr), "qemu-img-stderr");
            errReader.setDaemon(true);
            errReader.start();
            copy(out, stdout);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not finish within 60 s");
            }
            errReader.join(5000);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + " failed with exit code " + p.exitValue() + ": "
                        + stderr.toString(StandardCharsets.UTF_8).trim());
            }
            return stdout.toString(StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", argv), e);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException ignored) {
            // The process ended or was killed; what was read so far is what we report.
        }
    }
}

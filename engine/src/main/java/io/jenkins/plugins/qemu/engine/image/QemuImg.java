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
        createOverlay(base, baseFormat, overlay, 0);
    }

    /**
     * As {@link #createOverlay(Path, String, Path)}, with a virtual size of {@code sizeBytes}
     * (0: the base's size). A larger overlay reads as zeros past the end of the base.
     */
    public void createOverlay(Path base, String baseFormat, Path overlay, long sizeBytes) throws IOException {
        run(overlayArgs(base, baseFormat, overlay, sizeBytes));
    }

    static List<String> overlayArgs(Path base, String baseFormat, Path overlay, long sizeBytes) {
        List<String> args = new ArrayList<>(List.of("create", "-q", "-f", "qcow2", "-F", baseFormat, "-b", base.toString(),
                overlay.toString()));
        if (sizeBytes > 0) {
            // Plain bytes: no unit for qemu-img to interpret differently from us.
            args.add(Long.toString(sizeBytes));
        }
        return args;
    }

    /** {@code qemu-img info --output=json}, for inspection and tests. */
    public String infoJson(Path image) throws IOException {
        return run(List.of("info", "--output=json", "-U", image.toString()));
    }

    /**
     * Inspects {@code image} read as {@code format}: naming the format stops qemu-img from probing,
     * so a downloaded file is never opened as vmdk or another format that references host files.
     */
    public DiskInfo info(Path image, String format) throws IOException {
        return DiskInfo.parse(run(List.of("info", "--output=json", "-U", "-f", format, image.toString())));
    }

    /**
     * Runs {@code qemu-img check} on a qcow2 and describes what it found wrong, or returns null if
     * the image is consistent. Leaked clusters are not an error: they only waste space.
     */
    public String checkProblems(Path qcow2) throws IOException {
        Result r = exec(List.of("check", "-U", "--output=json", "-f", "qcow2", qcow2.toString()));
        // Exit codes: 0 clean, 1 check could not complete, 2 corruptions, 3 leaks only.
        if (r.exitCode == 0 || r.exitCode == 3) {
            return null;
        }
        String detail = r.stderr.lines().filter(l -> !l.isBlank()).limit(3).reduce((a, b) -> a + "; " + b).orElse("");
        return (r.exitCode == 2 ? "qemu-img check found corruptions" : "qemu-img check could not complete (exit "
                + r.exitCode + ")") + (detail.isEmpty() ? "" : ": " + detail);
    }

    private String run(List<String> args) throws IOException {
        Result r = exec(args);
        if (r.exitCode != 0) {
            throw new IOException(binary + " " + String.join(" ", args) + " failed with exit code " + r.exitCode + ": "
                    + r.stderr.trim());
        }
        return r.stdout;
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private Result exec(List<String> args) throws IOException {
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
            return new Result(p.exitValue(), stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
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

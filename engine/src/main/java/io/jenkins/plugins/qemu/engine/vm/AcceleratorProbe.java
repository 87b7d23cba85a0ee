package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.QemuArgs;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Decides between KVM and TCG by watching KVM actually run a guest, because {@code /dev/kvm}
 * existing proves little: in nested or micro VMs it can be present while guests hang in early
 * boot, or {@code -cpu host} can abort. The probe boots the image's own kernel under KVM with the
 * flags a real VM would get and waits a few seconds for the kernel's banner on the serial port;
 * where it appears, KVM works, otherwise TCG is used. The result is cached per kernel.
 */
public final class AcceleratorProbe {
    private static final Logger LOG = Logger.getLogger(AcceleratorProbe.class.getName());
    /** Printed by start_kernel, after decompression and the switch to long mode: past where broken KVM hangs. */
    private static final String KERNEL_BANNER = "Linux version";
    private static final String BIOS_BANNER = "SeaBIOS";

    private final Path qemu;
    private final Path scratchDir;
    private final Duration timeout;
    private final Path kvmDevice;
    private final Map<String, AccelDecision> cache = new HashMap<>();

    public AcceleratorProbe(Path qemu, Path scratchDir, Duration timeout, Path kvmDevice) {
        this.qemu = qemu;
        this.scratchDir = scratchDir;
        this.timeout = timeout;
        this.kvmDevice = kvmDevice;
    }

    public AccelDecision decide(Accel requested, BaseImage image) {
        switch (requested) {
            case KVM:
                return new AccelDecision(Accel.KVM, "KVM requested explicitly");
            case TCG:
                return new AccelDecision(Accel.TCG, "TCG requested explicitly");
            default:
                String key = image.kernel() == null ? "(firmware)" : image.kernel().toString();
                synchronized (cache) {
                    AccelDecision d = cache.get(key);
                    if (d == null) {
                        d = probe(image.kernel());
                        LOG.info("accelerator: " + d.accel() + " (" + d.reason() + ")");
                        cache.put(key, d);
                    }
                    return d;
                }
        }
    }

    private AccelDecision probe(Path kernel) {
        if (!Files.isReadable(kvmDevice) || !Files.isWritable(kvmDevice)) {
            return new AccelDecision(Accel.TCG, kvmDevice + " is missing or not read-writable by this user");
        }
        Path dir = null;
        Process p = null;
        Instant start = Instant.now();
        try {
            Files.createDirectories(scratchDir);
            dir = Files.createTempDirectory(scratchDir, "accel-probe");
            Path console = dir.resolve("console.log");
            Path stderr = dir.resolve("stderr.log");
            List<String> argv = new ArrayList<>(List.of(qemu.toString(), "-nodefaults", "-no-user-config", "-display", "none",
                    "-machine", "pc", "-accel", "kvm", "-cpu", "host", "-m", "256", "-no-reboot",
                    "-chardev", "file,id=c0,path=" + QemuArgs.escape(console)));
            String banner;
            if (kernel != null) {
                banner = KERNEL_BANNER;
                argv.addAll(List.of("-serial", "chardev:c0", "-kernel", kernel.toString(),
                        "-append", "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1"));
            } else {
                banner = BIOS_BANNER;
                argv.addAll(List.of("-device", "isa-debugcon,iobase=0x402,chardev=c0"));
            }
            p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
            Instant deadline = start.plus(timeout);
            while (Instant.now().isBefore(deadline)) {
                if (contains(console, banner)) {
                    return new AccelDecision(Accel.KVM, "a probe guest printed '" + banner + "' under KVM after "
                            + Duration.between(start, Instant.now()).toMillis() + " ms");
                }
                if (!p.isAlive()) {
                    String err = Files.readString(stderr, StandardCharsets.UTF_8).strip();
                    return new AccelDecision(Accel.TCG, "QEMU with KVM exited with code " + p.exitValue()
                            + (err.isEmpty() ? "" : ": " + lastLine(err)));
                }
                Thread.sleep(25);
            }
            return new AccelDecision(Accel.TCG, "/dev/kvm is present but a probe guest printed no '" + banner
                    + "' within " + timeout.toMillis() + " ms under KVM (guests hang here)");
        } catch (IOException e) {
            return new AccelDecision(Accel.TCG, "the KVM probe could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new AccelDecision(Accel.TCG, "the KVM probe was interrupted");
        } finally {
            if (p != null) {
                p.destroyForcibly();
                try {
                    p.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            FileTree.deleteQuietly(dir);
        }
    }

    private static boolean contains(Path file, String text) throws IOException {
        return Files.exists(file) && new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(text);
    }

    private static String lastLine(String s) {
        String[] lines = s.split("\n");
        return lines[lines.length - 1];
    }
}

package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Small helpers the fault tests share: specs, background boots, waiting for a phase, making a folder unwritable. */
final class FaultFixtures {
    private FaultFixtures() {}

    static VmSpec.Builder spec() {
        return VmSpec.builder().image(IMAGE).cpus(1).memoryMiB(1024).bootTimeout(Duration.ofMinutes(8));
    }

    /** Boots on a thread of its own; the future completes with the boot's exception, or null if it booted. */
    static CompletableFuture<Throwable> bootInBackground(Vm vm) {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                vm.boot();
                f.complete(null);
            } catch (Throwable e) {
                f.complete(e);
            }
        }, "boot-" + vm.id());
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** Waits until QEMU runs and the boot waits for the guest (phase SSH), i.e. truly mid-boot. */
    static void awaitPhase(Vm vm, Phase phase, CompletableFuture<Throwable> boot, Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        while (vm.phase() != phase) {
            if (boot.isDone()) {
                fail("boot of " + vm.id() + " ended before reaching " + phase + ": " + boot.get());
            }
            if (Instant.now().isAfter(deadline)) {
                fail(vm.id() + " did not reach " + phase + " within " + timeout + " (phase " + vm.phase() + ")");
            }
            Thread.sleep(50);
        }
    }

    /** Mid-boot for real: QEMU runs, the boot waits for SSH, and the guest kernel is printing to the console. */
    static void awaitGuestBooting(Vm vm, CompletableFuture<Throwable> boot, Duration timeout) throws Exception {
        awaitPhase(vm, Phase.SSH, boot, timeout);
        Instant deadline = Instant.now().plus(timeout);
        while (!Files.exists(vm.consoleFile()) || Files.size(vm.consoleFile()) == 0) {
            if (boot.isDone()) {
                fail("boot of " + vm.id() + " ended before the guest printed anything: " + boot.get());
            }
            if (Instant.now().isAfter(deadline)) {
                fail(vm.id() + ": no console output within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    /** The boot must have failed with a VmBootException naming the VM; returns it. */
    static VmBootException bootFailure(Vm vm, CompletableFuture<Throwable> boot, Duration within) throws Exception {
        Throwable t = boot.get(within.toMillis(), TimeUnit.MILLISECONDS);
        if (!(t instanceof VmBootException e)) {
            throw new AssertionError("expected a VmBootException for " + vm.id() + " but got " + t, t);
        }
        assertEquals(vm.id(), e.vmId());
        assertTrue(e.getMessage().contains("VM " + vm.id() + " failed while"), e.getMessage());
        return e;
    }

    /** Root ignores permission bits, so for root the folder is made immutable instead. */
    static void makeUnwritable(Path dir) throws IOException, InterruptedException {
        if (isRoot()) {
            run("chattr", "+i", dir.toString());
        } else {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-x------"));
        }
    }

    static void makeWritable(Path dir) throws IOException, InterruptedException {
        if (isRoot()) {
            run("chattr", "-i", dir.toString());
        } else {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).inheritIO().start();
        assertEquals(0, p.waitFor(), String.join(" ", argv));
    }

    /** Kills a process this test started (by its handle, never by name) if it still runs. */
    static void killOwn(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
}

package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real guest that writes 200 MiB, holds 300 MiB of memory, moves 16 MiB each way over its SSH
 * connection and burns CPU: the engine's usage figures must show the overlay grown by at least
 * what was written; the guest's memory in use up by the 300 MiB while held, down again when
 * freed, and the peak kept; received and sent bytes of at least what was moved, and not much
 * more; vCPU time within 20% of the CPU time the guest measured for its own busy loop (on a
 * loaded host: vCPU time plus the time the host kept the vCPU waiting, which the guest cannot
 * tell from its own); and figures sampled by the engine's housekeeping tick survive a QEMU that
 * dies. Timing is never asserted, only amounts of work.
 */
class UsageRealQemuTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();

    private static final long MIB = 1 << 20;
    /** What the guest moves each way; a multiple of the 4 KiB it is written in. */
    private static final int MOVED = 16 << 20;
    /** bash's {@code times}: the shell's own user and system time on the first line. */
    private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s");

    @Test
    void writesAndCpuBurnOfTheGuestShowInItsUsage() throws Exception {
        Vm vm = ENGINE.engine().boot(TestImages.guestSpec().build(), line -> { });
        long pid = vm.pid();
        try {
            VmUsage online = vm.usage();
            assertNotNull(online);
            for (long figure : List.of(online.vcpuNanos(), online.qemuCpuNanos(), online.rssBytes(), online.peakRssBytes(),
                    online.diskWrittenBytes(), online.overlayBytes(), online.overlayGrowthBytes(), online.netRxBytes(),
                    online.netTxBytes())) {
                assertTrue(figure >= 0, "every figure is read from a running VM: " + online);
            }

            assertEquals("209715200", run(vm, "dd if=/dev/urandom of=/var/tmp/x bs=1M count=200 oflag=direct status=none"
                    + " && sync && stat -c %s /var/tmp/x"));
            VmUsage written = vm.usage();
            System.out.println("after writing 200 MiB: " + written.summary());
            assertTrue(written.overlayGrowthBytes() >= 200 * MIB, "overlay grew by at least what was written: " + written);
            assertTrue(written.diskWrittenBytes() - online.diskWrittenBytes() >= 200 * MIB,
                    "QEMU counted the guest's writes: " + online + " -> " + written);

            long start = System.nanoTime();
            guestMemoryIsCountedByTheGuest(vm);
            long memory = System.nanoTime();
            networkIsCountedByTheGuest(vm);
            System.out.printf("the guest memory steps took %.1f s, the network steps %.1f s%n", (memory - start) / 1e9,
                    (System.nanoTime() - memory) / 1e9);

            VmUsage before = vm.usage();
            String times = run(vm, "bash -c 'end=$((SECONDS+8)); while (( SECONDS < end )); do :; done; times'");
            VmUsage after = vm.usage();
            Matcher m = TIMES.matcher(times);
            assertTrue(m.find(), times);
            double guest = Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
                    + Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4));
            double vcpu = (after.vcpuNanos() - before.vcpuNanos()) / 1e9;
            double wait = (after.vcpuWaitNanos() - before.vcpuWaitNanos()) / 1e9;
            double process = (after.qemuCpuNanos() - before.qemuCpuNanos()) / 1e9;
            System.out.printf("busy loop: guest measured %.2f s user+sys; vCPU threads ran %.2f s (%+.1f%%) and waited"
                    + " %.2f s for a host CPU (run+wait %+.1f%%); QEMU process %.2f s%n",
                    guest, vcpu, 100 * (vcpu - guest) / guest, wait, 100 * (vcpu + wait - guest) / guest, process);
            assertTrue(guest >= 3, "the loop burned a few seconds: " + times);
            // Without steal time (TCG has none) the guest counts the time a busy host kept its vCPU
            // waiting as its own CPU time, so on a loaded host only run + wait matches its figure.
            assertTrue(Math.abs(vcpu + wait - guest) <= 0.2 * guest,
                    "vCPU run " + vcpu + " s + wait " + wait + " s is within 20% of the guest's own " + guest + " s");
            if (wait <= 0.05 * guest) {
                assertTrue(Math.abs(vcpu - guest) <= 0.2 * guest,
                        "on a host that hardly made it wait, vCPU time " + vcpu + " s is within 20% of the guest's " + guest + " s");
            }
            assertTrue(process >= vcpu - 0.05, "the process's CPU time includes its vCPU threads': " + process + " vs " + vcpu);
            assertTrue(after.peakRssBytes() >= after.rssBytes() && after.rssBytes() > 100 * MIB, after.toString());

            // Only the housekeeping tick samples from here on; QEMU then dies behind the engine's back.
            VmUsage lastAsked = vm.usage();
            Thread.sleep(2 * 15_000 + 5_000);
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            assertTrue(vm.awaitExit(Duration.ofSeconds(30)), "QEMU was killed");
            VmUsage kept = vm.usage();
            assertTrue(kept.sampledAt().isAfter(lastAsked.sampledAt()), "the tick sampled: " + lastAsked + " then " + kept);
            assertTrue(kept.vcpuNanos() >= lastAsked.vcpuNanos(), kept.toString());
        } finally {
            vm.destroy();
        }
        assertEquals(List.of(), TestImages.processesMentioning(vm.id()));
    }

    /**
     * 300 MiB in tmpfs (which the guest cannot reclaim without swap, and it has none), held past
     * QEMU's next poll of the balloon's statistics, then freed.
     */
    private static void guestMemoryIsCountedByTheGuest(Vm vm) throws Exception {
        VmUsage before = TestImages.awaitGuestMemory(vm);
        run(vm, "head -c 300M /dev/zero > /dev/shm/held && sleep " + 3 * BalloonStats.POLL_SECONDS);
        VmUsage held = vm.usage();
        run(vm, "rm /dev/shm/held && sleep " + 3 * BalloonStats.POLL_SECONDS);
        VmUsage freed = vm.usage();
        System.out.println("guest memory before, holding 300 MiB, freed: " + before.guestMemUsedBytes() / MIB + ", "
                + held.guestMemUsedBytes() / MIB + ", " + freed.guestMemUsedBytes() / MIB + " MiB; peak "
                + freed.guestMemPeakBytes() / MIB + " MiB");
        assertTrue(held.guestMemUsedBytes() >= before.guestMemUsedBytes() + 290 * MIB, before + " -> " + held);
        assertTrue(freed.guestMemUsedBytes() <= held.guestMemUsedBytes() - 250 * MIB, "read now, not kept: " + freed);
        assertTrue(freed.guestMemPeakBytes() >= held.guestMemUsedBytes(), "the peak is kept: " + freed);
    }

    /**
     * {@link #MOVED} random bytes from the guest and as many to it over the VM's SSH connection:
     * the guest's NICs count them, with the TCP, IP, Ethernet and SSH framing of each packet
     * (about 6%) and little else.
     */
    private static void networkIsCountedByTheGuest(Vm vm) throws Exception {
        VmUsage before = vm.usage();
        ByteCount down = new ByteCount();
        byte[] up = new byte[MOVED];
        new java.util.Random(19).nextBytes(up);
        try (var ssh = vm.connect(Duration.ofMinutes(1))) {
            assertEquals(0, ssh.exec("head -c " + MOVED + " /dev/urandom", null, down, System.err, Duration.ofMinutes(10)));
            assertEquals(0, ssh.exec("cat > /dev/null", new java.io.ByteArrayInputStream(up), OutputStream.nullOutputStream(),
                    System.err, Duration.ofMinutes(10)));
        }
        VmUsage after = vm.usage();
        long rx = after.netRxBytes() - before.netRxBytes();
        long tx = after.netTxBytes() - before.netTxBytes();
        System.out.printf("moved %d MiB each way: the guest received %.2f MiB, sent %.2f MiB%n", MOVED / MIB,
                rx / (double) MIB, tx / (double) MIB);
        assertEquals(MOVED, down.count);
        assertTrue(before.netRxBytes() >= 0 && tx >= MOVED && tx <= MOVED * 1.15, "sent " + tx + ": " + before + " -> " + after);
        assertTrue(rx >= MOVED && rx <= MOVED * 1.15, "received " + rx + ": " + before + " -> " + after);
    }

    private static final class ByteCount extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    private static String run(Vm vm, String command) throws Exception {
        // A 200 MB write and a CPU burn under TCG on a busy host take longer than TestImages' default.
        return TestImages.run(vm, command, Duration.ofMinutes(15));
    }
}

/**
 * What a running VM uses, read cheaply from the host: {@code /proc} of its QEMU process and, where
 * the caller holds the VM's QMP connection, QEMU's own counters. {@link
 * io.jenkins.plugins.qemu.engine.usage.VmUsage} is one snapshot, {@link
 * io.jenkins.plugins.qemu.engine.usage.UsageProbe} takes it and {@link
 * io.jenkins.plugins.qemu.engine.usage.UsageTracker} keeps a VM's last one. Points down only, to
 * {@code qmp}.
 */
package io.jenkins.plugins.qemu.engine.usage;

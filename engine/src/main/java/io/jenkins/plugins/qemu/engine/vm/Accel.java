package io.jenkins.plugins.qemu.engine.vm;

/**
 * Which accelerator a VM asks for. {@code AUTO} lets the engine probe: KVM only where it has been
 * seen to run a guest on this host, TCG otherwise.
 */
public enum Accel {
    AUTO, KVM, TCG
}

package io.jenkins.plugins.qemu.engine.seed;

import java.util.List;

/**
 * How a VM learns who it is (host name, agent user, authorized key, host key): a file or files
 * the VM owns and deletes when closed, plus what QEMU and the kernel command line need to hand
 * them to the guest. Two ways exist: the cloud-init NoCloud seed, which every cloud-init image
 * understands, and fw_cfg items for images that carry our small boot unit and can skip
 * cloud-init entirely.
 */
public interface GuestIdentity extends AutoCloseable {

    /** QEMU options that attach the identity to the VM. */
    List<String> qemuArgs();

    /** Words to add to the kernel command line, or an empty string. */
    String kernelArgs();

    @Override
    void close() throws java.io.IOException;
}

/**
 * The QEMU Agents engine. {@link io.jenkins.plugins.qemu.engine.QemuEngine} is the one entry point;
 * the packages below it follow a VM's life and only point down: {@code cli}, {@code bench},
 * {@code cloud} → {@code QemuEngine} → {@code warm}, {@code reaper} → {@code vm} → {@code image},
 * {@code seed}, {@code qmp}, {@code state} → {@code ssh} → {@code config}; {@code usage} sits between
 * {@code vm} and {@code qmp}; {@code guest} (code run in the guest's JVM) imports nothing. See
 * {@code engine/README.md}.
 */
package io.jenkins.plugins.qemu.engine;

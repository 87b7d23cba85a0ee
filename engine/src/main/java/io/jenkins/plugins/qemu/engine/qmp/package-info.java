/**
 * A QMP (QEMU Machine Protocol) client over Unix domain sockets using only the JDK's AF_UNIX support.
 * One {@link io.jenkins.plugins.qemu.engine.qmp.QmpReactor} thread multiplexes every connection of the
 * process; {@link io.jenkins.plugins.qemu.engine.qmp.QmpClient} is the per-VM handle that sends commands
 * and matches their replies. It keeps only what the engine uses: commands with a timeout, no events.
 */
package io.jenkins.plugins.qemu.engine.qmp;

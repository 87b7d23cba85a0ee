/**
 * A QMP (QEMU Machine Protocol) client over Unix domain sockets using only the JDK's AF_UNIX support.
 * One {@link io.jenkins.plugins.qemu.engine.qmp.QmpReactor} thread multiplexes every connection of the
 * process; {@link io.jenkins.plugins.qemu.engine.qmp.QmpClient} is the per-VM handle that sends commands and
 * surfaces events, and listener callbacks run on a caller-supplied executor so they can never stall the reader.
 */
package io.jenkins.plugins.qemu.engine.qmp;

package io.jenkins.plugins.qemu.engine.fault;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands every test the one {@link FaultReport} of this run. It lives in the root context's
 * store, so all test classes add to the same figures and it is closed (printed, written)
 * exactly once, after the last test.
 */
public final class FaultReportExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(FaultReportExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        return p.getParameter().getType() == FaultReport.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        return report(c);
    }

    public static FaultReport report(ExtensionContext c) {
        Path out = Path.of(System.getProperty("basedir", "."), "target", "fault-report.txt");
        return c.getRoot().getStore(NS).getOrComputeIfAbsent(FaultReport.class, k -> new FaultReport(out), FaultReport.class);
    }
}

package sun.hotspot;

import java.lang.reflect.Executable;

/**
 * The few HotSpot WhiteBox entry points the churn reproducer needs. HotSpot binds these natives by
 * name when -XX:+WhiteBoxAPI is on and this class is on the boot class path; JDK 17 looks for
 * this package name.
 */
public final class WhiteBox {
    private static native void registerNatives();

    static {
        registerNatives();
    }

    public native int deoptimizeMethod0(Executable method, boolean osr);

    public native boolean isMethodCompiled0(Executable method, boolean osr);

    public native int getMethodCompilationLevel0(Executable method, boolean osr);
}

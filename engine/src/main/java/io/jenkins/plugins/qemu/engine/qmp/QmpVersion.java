package io.jenkins.plugins.qemu.engine.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The QEMU version announced in the QMP greeting ({@code {"QMP": {"version": {"qemu": {"major": 7, "minor": 2,
 * "micro": 0}, "package": "Debian 1:7.2+dfsg-7"}}}}). Callers use it to gate features by version rather than by
 * probing commands; {@code packageInfo} is the distribution's build string and may be empty.
 */
public record QmpVersion(int major, int minor, int micro, String packageInfo) {

    static QmpVersion fromGreeting(JsonNode qmp) {
        JsonNode version = qmp.path("version");
        JsonNode qemu = version.path("qemu");
        return new QmpVersion(qemu.path("major").asInt(-1), qemu.path("minor").asInt(-1),
                qemu.path("micro").asInt(-1), version.path("package").asText("").trim());
    }

    /** {@code true} if this version is at least {@code major.minor}. */
    public boolean isAtLeast(int major, int minor) {
        return this.major > major || (this.major == major && this.minor >= minor);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + micro + (packageInfo.isEmpty() ? "" : " (" + packageInfo + ")");
    }
}

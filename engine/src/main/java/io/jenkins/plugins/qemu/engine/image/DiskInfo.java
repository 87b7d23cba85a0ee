package io.jenkins.plugins.qemu.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * What {@code qemu-img info --output=json} says about one disk file, reduced to what decides
 * whether it may enter the catalog: its format and virtual size, and every way a qcow2 can make
 * QEMU open another host file (a backing file, an external data file).
 */
public record DiskInfo(String format, long virtualSize, String backingFile, String dataFile, boolean corrupt,
        boolean encrypted) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static DiskInfo parse(String json) throws IOException {
        JsonNode n = JSON.readTree(json);
        JsonNode data = n.path("format-specific").path("data");
        // Both spellings: full-backing-filename is the resolved path, backing-filename the raw header.
        String backing = text(n, "full-backing-filename");
        if (backing == null) {
            backing = text(n, "backing-filename");
        }
        return new DiskInfo(text(n, "format"), n.path("virtual-size").asLong(-1), backing, text(data, "data-file"),
                data.path("corrupt").asBoolean(false), n.path("encrypted").asBoolean(false));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** Why QEMU would read something outside this one file, or null if it would not. */
    public String externalReference() {
        if (backingFile != null) {
            return "has a backing file '" + backingFile + "' (catalog images must be self-contained; flatten it with "
                    + "'qemu-img convert -O qcow2' first)";
        }
        if (dataFile != null) {
            return "has an external data file '" + dataFile + "' (catalog images must be self-contained)";
        }
        return null;
    }
}

package io.jenkins.plugins.qemu.engine.net;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What a guest may reach besides its own SSH forward. {@code default}: other machines (package
 * mirrors, git servers) but nothing on the host; {@code none}: nothing at all. Either may add
 * {@code allow:PORT[,PORT...]}: exactly those TCP ports of the host's 127.0.0.1, which the guest
 * sees on its own 127.0.0.1 (relayed by the engine over the VM's SSH connection, not routed).
 * The text form is what templates store and the CLI takes; {@link #parse} is the one place it
 * is validated.
 */
public record EgressPolicy(boolean internet, List<Integer> hostPorts) implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Internet yes, host no. */
    public static final EgressPolicy DEFAULT = new EgressPolicy(true, List.of());
    public static final EgressPolicy NONE = new EgressPolicy(false, List.of());
    /** More would be a sign that the host should not be isolated from this guest at all. */
    public static final int MAX_HOST_PORTS = 16;
    private static final String SYNTAX = "must be 'default' (internet, nothing on the host), 'none' (no network beyond SSH),"
            + " or either followed by '+allow:PORT[,PORT...]' (those TCP ports of the host's 127.0.0.1), e.g. 'default+allow:3142';"
            + " 'allow:PORT' alone means 'default+allow:PORT'";

    public EgressPolicy {
        hostPorts = List.copyOf(new TreeSet<>(hostPorts));
    }

    /** Parses the text form; blank means {@link #DEFAULT}, so a template saved before this field existed keeps working. */
    public static EgressPolicy parse(String field, String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        String t = text.strip().toLowerCase(Locale.ROOT);
        String base = t;
        String allow = null;
        int plus = t.indexOf('+');
        if (t.startsWith("allow:")) {
            base = "default";
            allow = t.substring("allow:".length());
        } else if (plus >= 0) {
            base = t.substring(0, plus);
            String rest = t.substring(plus + 1);
            if (!rest.startsWith("allow:")) {
                throw new InvalidInputException(field, text, SYNTAX);
            }
            allow = rest.substring("allow:".length());
        }
        boolean internet;
        switch (base) {
            case "default" -> internet = true;
            case "none" -> internet = false;
            default -> throw new InvalidInputException(field, text, SYNTAX);
        }
        return new EgressPolicy(internet, allow == null ? List.of() : ports(field, text, allow));
    }

    private static List<Integer> ports(String field, String text, String list) {
        if (list.isEmpty()) {
            throw new InvalidInputException(field, text, "names no port after 'allow:'; " + SYNTAX);
        }
        List<Integer> out = new ArrayList<>();
        TreeSet<Integer> seen = new TreeSet<>();
        for (String p : list.split(",", -1)) {
            int port;
            try {
                port = p.strip().matches("[0-9]{1,5}") ? Integer.parseInt(p.strip()) : -1;
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new InvalidInputException(field, text, "has '" + p + "' in its allow list, which is not a TCP port (1-65535)");
            }
            if (!seen.add(port)) {
                throw new InvalidInputException(field, text, "names port " + port + " twice");
            }
            out.add(port);
        }
        if (out.size() > MAX_HOST_PORTS) {
            throw new InvalidInputException(field, text, "allows " + out.size() + " host ports; at most " + MAX_HOST_PORTS);
        }
        return out;
    }

    /** The canonical text form, which {@link #parse} reads back to an equal policy. */
    public String text() {
        String base = internet ? "default" : "none";
        if (hostPorts.isEmpty()) {
            return base;
        }
        StringBuilder b = new StringBuilder(base).append("+allow:");
        for (int i = 0; i < hostPorts.size(); i++) {
            b.append(i == 0 ? "" : ",").append(hostPorts.get(i));
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return text();
    }
}

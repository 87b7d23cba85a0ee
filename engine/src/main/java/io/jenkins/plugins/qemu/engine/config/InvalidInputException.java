package io.jenkins.plugins.qemu.engine.config;

/**
 * Rejects one externally supplied value. Every validation in the engine throws this, so a user
 * always learns which field was wrong, what value was given and what would have been accepted;
 * the message is written for a person reading a Jenkins form or a CLI error, not for a developer.
 */
public final class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String value;

    public InvalidInputException(String field, Object value, String expectation) {
        super(field + ": " + describe(value) + " " + expectation);
        this.field = field;
        this.value = value == null ? null : String.valueOf(value);
    }

    public String field() {
        return field;
    }

    public String value() {
        return value;
    }

    /** Quotes the value and makes control characters visible, so a NUL or newline is seen. */
    static String describe(Object value) {
        if (value == null) {
            return "(missing)";
        }
        String s = String.valueOf(value);
        StringBuilder b = new StringBuilder("'");
        int shown = Math.min(s.length(), 80);
        for (int i = 0; i < shown; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > shown) {
            b.append("...(").append(s.length()).append(" chars)");
        }
        return b.append('\'').toString();
    }
}

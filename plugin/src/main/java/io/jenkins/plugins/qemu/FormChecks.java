package io.jenkins.plugins.qemu;

import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.util.function.Supplier;
import jenkins.model.Jenkins;

/**
 * Glue between the engine's validation and form validation: who may run checks (administrators,
 * as for the cloud configuration itself) and how an {@link InvalidInputException} becomes a
 * message next to its field.
 */
final class FormChecks {
    private FormChecks() {}

    /**
     * Clouds are configured by administrators; checks answer others with a silent OK so they
     * cannot probe the controller's file system or QEMU through the validation URLs.
     */
    private static boolean allowed() {
        return Jenkins.get().hasPermission(Jenkins.ADMINISTER);
    }

    /** The one preamble of every form check: {@code check} runs for administrators; others get {@code denied}. */
    static <T> T ifAllowed(T denied, Supplier<T> check) {
        return allowed() ? check.get() : denied;
    }

    /** {@link #ifAllowed(Object, Supplier)} for a check that answers with a {@link FormValidation}; others get OK. */
    static FormValidation ifAllowed(Supplier<FormValidation> check) {
        return ifAllowed(FormValidation.ok(), check);
    }

    /** A field's check by the engine's validation vocabulary: OK, or the error naming the field and value. */
    static FormValidation field(Supplier<?> validation) {
        return ifAllowed(() -> check(validation));
    }

    /** Like {@link #field}, for a check that needs other fields too: only an error about {@code field} itself is shown here. */
    static FormValidation field(String field, Supplier<?> validation) {
        return ifAllowed(() -> {
            try {
                validation.get();
                return FormValidation.ok();
            } catch (InvalidInputException e) {
                return field.equals(e.field()) ? FormValidation.error(e.getMessage()) : FormValidation.ok();
            }
        });
    }

    static FormValidation check(Supplier<?> validation) {
        try {
            validation.get();
            return FormValidation.ok();
        } catch (InvalidInputException e) {
            return FormValidation.error(e.getMessage());
        }
    }

    /** Form values arrive as text; blank counts as 0 like Jenkins' number fields. */
    static int parseInt(String field, String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(field, value, "is not a whole number");
        }
    }
}

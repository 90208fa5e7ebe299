/*
 * C test suite for the engine part of the mail2fa C API (include/mail2fa.h):
 * m2fa_engine*, m2fa_decision*, m2fa_issued_code*, m2fa_recovery_codes*.
 *
 * It walks the product scenarios (docs/behaviour.md, S1-S11 and
 * recovery codes) through the C ABI the way a mail server would: an engine,
 * a platform, accounts; a phone played by an m2fa_totp built from the
 * provisioning URI the engine hands out; explicit times (Unix seconds, from
 * T0 = 1800000000), never the clock. Then it calls every function wrongly
 * (NULL pointers, invalid UTF-8, bad names, unknown enum values, getters
 * that do not apply) and checks the conventions the header promises:
 *
 *   - a NULL pointer argument gives M2FA_NULL_ARGUMENT;
 *   - out-parameters are written only on M2FA_OK (so we preset them to a
 *     sentinel and check that errors leave it alone), except *needed on
 *     M2FA_BUFFER_TOO_SMALL and *retry_at on M2FA_RATE_LIMITED;
 *   - every *_free(NULL) is a no-op.
 *
 * Every decision the tests get goes through one checker (check_decision),
 * which also checks what any decision must satisfy: the reason fits the
 * outcome, exactly the getters that apply answer (the others give
 * M2FA_INVALID_ARGUMENT and write nothing), cacheable is 1 only without a
 * second factor, and the audit line names the account and never carries
 * the code, the URI or the secret.
 *
 * Finally 16 threads share one engine and race: the same code at the same
 * moment is accepted exactly once; wrong codes lock after exactly five.
 *
 * The program is this file (main: the tests in order) and tests/c/engine/:
 *
 *   fixture.h, fixture.c  users, the checked steps (enroll, log in, ...)
 *                         and check_decision; the store variant's interface
 *   tests.h               the test functions, by file
 *   decisions.c           enumeration values and names, audit lines
 *   enrollment.c          S1, S2, S4, S5: enablement, enrollment, TOTP logins
 *   check_login.c         the one-call login (input and the host's password
 *                         check in, decision out) and its two-step form,
 *                         raced by 16 threads
 *   lockout.c             S7, S8: lockout, suspension
 *   codes.c               S3, S6: e-mail and SMS codes; recovery codes
 *   account_changes.c     S9, S10, S11: reset, remove, self-service
 *   config.c              engine configuration, bounds, mandatory platforms
 *   misuse.c              every function called wrongly, *_free(NULL)
 *   names.c               names refused: label rules, other spellings
 *   threads.c             16 threads racing on one engine
 *   databases.c           SQLite and PostgreSQL openers, state fails closed
 *   config_file.c         an engine opened from a configuration file
 *   store/memory.c, store/table.c, store/postgres.c
 *                         the store every engine is made on: one of the
 *                         three is linked in (see fixture.h)
 *
 * scripts/test-c.sh builds it like tests/c/ffi_test.c: -Wall -Wextra
 * -Wpedantic -Werror, under AddressSanitizer, LeakSanitizer and UBSan,
 * against libmail2fa.so and against libmail2fa.a, and once more on each
 * other store. Exit status 0 means every check passed; the last line of
 * output counts the checks.
 */

#include "engine/fixture.h"

#include "engine/tests.h"

int main(void)
{
    test_enum_values();
    test_outcome_and_reason_names();
    test_enablement_and_enrollment();
    test_totp_logins();
    test_split_login();
    test_check_login();
    test_pending_login();
    test_lockout();
    test_delivered_codes();
    test_recovery_codes();
    test_suspend();
    test_bounds();
    test_reset_and_remove();
    test_self_service();
    test_audit();
    test_engine_config();
    test_misuse_account_functions();
    test_misuse_other_arguments();
    test_free_null();
    test_names_follow_label_rules();
    test_other_spellings_refused();
    test_threads();
    test_check_login_threads();
    test_mandatory_platform();
    test_postgres_entry_points();
    test_state_fails_closed();
    test_config_file();
    test_client_functions_refuse_bad_names();
    /* What only the store this program runs on can do (see fixture.h). */
    if (store.own_tests != NULL) {
        store.own_tests();
    }

    printf("engine_test (%s): %lu checks, %lu failed (mail2fa %s)\n", store.name, checks_run,
           checks_failed, m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

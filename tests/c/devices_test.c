/*
 * C test suite for the mail-client part of the mail2fa C API
 * (include/mail2fa.h; src/ffi/login.rs, device.rs, app_password.rs, ...): m2fa_login*,
 * m2fa_engine_authenticate, device tokens (m2fa_engine_devices,
 * m2fa_device_list*, m2fa_engine_device_*), notifications
 * (m2fa_decision_notification, m2fa_notification*,
 * m2fa_engine_notification_fallback), application passwords
 * (m2fa_engine_app_password*, m2fa_app_password_list*) and per-protocol
 * policies (m2fa_engine_set_*_policy, m2fa_engine_protocol_policy).
 *
 * It walks the product scenarios S12-S16 through the C ABI the way a mail
 * server would: an engine, a platform, enrolled accounts whose phone is an
 * m2fa_totp built from the provisioning URI the engine hands out, and
 * explicit times (Unix seconds, from T0 = 1800000000), never the clock:
 *
 *   - Outlook/ActiveSync: an unknown device with the right password is
 *     blocked (an INACTIVE token, a notification by SMS, or by e-mail when
 *     there is no phone or the SMS failed), gets in once activated, is
 *     blocked again when deactivated or deleted; wrong passwords create
 *     nothing; unidentifiable clients and too many pending devices are
 *     refused;
 *   - IMAP/POP3/SMTP: application passwords (created, scoped, listed,
 *     revoked);
 *   - platform and account policies, host-named protocols;
 *   - code in login with device binding (the same string from the same client
 *     and network; never the password alone; replays).
 *
 * Then it calls every new function wrongly (NULL pointers, invalid UTF-8,
 * unknown enum values, bad ids, indexes out of range, small buffers) and
 * checks the conventions of the header (out-parameters untouched on error,
 * *needed written on M2FA_BUFFER_TOO_SMALL, *_free(NULL) a no-op).
 *
 * Then 8 threads authenticate one ACTIVE device at once (all allowed),
 * and race the first login of one unknown device (exactly one token).
 *
 * Then the engine on a SQLite database (m2fa_engine_open,
 * m2fa_engine_config_set_sqlite): a code consumed through one handle is a
 * replay through another on the same file and after a restart; links and
 * missing files (without creation) are refused.
 *
 * Finally encryption keys from a key file (m2fa_engine_config_load_key_file):
 * NULL and non-UTF-8 arguments, missing files, directories, files open to
 * group or others, malformed lines, repeated ids, no key, over 64 KiB are
 * refused (a refused file leaves the keys as they were); the file's keys
 * open what they sealed, replace the keys set before, and compose with
 * m2fa_engine_config_add_encryption_key (rotation).
 *
 * The program is this file (main: the tests in order) and tests/c/devices/:
 *
 *   fixture.h, fixture.c  the engine, users, clients, checked logins
 *                         (AUTH), device tokens and notifications
 *   tests.h               the test functions, by file
 *   device_tokens.c       S12-S14: Outlook and ActiveSync devices
 *   app_passwords.c       S16: application passwords
 *   policies.c            S15: policies per protocol
 *   binding.c             code in login, the device binding
 *   misuse.c              every function called wrongly
 *   threads.c             8 threads on one device, the first login raced
 *   database.c            the engine on a SQLite database
 *   key_file.c            encryption keys from a key file
 *
 * scripts/test-c.sh builds it like tests/c/engine_test.c: -Wall -Wextra
 * -Wpedantic -Werror, under AddressSanitizer, LeakSanitizer and UBSan,
 * against libmail2fa.so and against libmail2fa.a. Exit status 0 means every
 * check passed; the last line of output counts the checks.
 */


#include "devices/fixture.h"

#include "devices/tests.h"

int main(void)
{
    test_outlook_device();
    test_device_refusals();
    test_app_passwords();
    test_policies();
    test_binding();
    test_misuse();
    test_threads();
    test_database();
    test_key_file();

    printf("devices_test: %lu checks, %lu failed (mail2fa %s)\n", checks_run, checks_failed,
           m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

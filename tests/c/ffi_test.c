/*
 * C test suite for the mail2fa C API (include/mail2fa.h).
 *
 * Every function of the header is called here twice over: the way a mail
 * server would call it (known answers from RFC 4226 and RFC 6238,
 * provisioning URIs, QR codes), and wrongly (NULL pointers, invalid UTF-8,
 * buffers too small, unknown enumeration values). The wrong calls check the
 * conventions the header promises for every function:
 *
 *   - a NULL pointer argument gives M2FA_NULL_ARGUMENT;
 *   - out-parameters are written only on M2FA_OK (so we preset them to a
 *     sentinel and check that errors leave it alone);
 *   - text goes to (buf, len) and *needed; a buffer that is too small is not
 *     touched, and *needed says how big it must be;
 *   - every *_free(NULL) is a no-op.
 *
 * The program is this file (main: the tests in order) and tests/c/ffi/:
 *
 *   fixture.h, fixture.c  test data (RFC seeds and known answers), small
 *                         constructors, the text-output protocol checked
 *                         in full (FETCH_TEXT, CHECK_TEXT_ERROR)
 *   tests.h               the test functions, by file
 *   conventions.c         m2fa_version, statuses and messages, *_free(NULL)
 *   secrets.c             m2fa_secret
 *   otp_config.c          m2fa_otp_config
 *   totp.c                m2fa_totp: known answers, verification, NULLs
 *   hotp.c                m2fa_hotp
 *   key_uri.c             m2fa_key_uri: writing, parsing, URIs refused
 *   qr.c                  QR codes
 *   threads.c             one TOTP and one HOTP shared by threads
 *
 * scripts/test-c.sh builds it with -Wall -Wextra -Wpedantic -Werror and runs
 * it under AddressSanitizer, LeakSanitizer and UBSan, once against
 * libmail2fa.so and once against libmail2fa.a. Exit status 0 means every
 * check passed; the last line of output counts the checks and the failures.
 *
 * It doubles as an example of the API, so the calls are written the way
 * production code would write them, status checked every time.
 */

#include "ffi/fixture.h"

#include "ffi/tests.h"

int main(void)
{
    test_version();
    test_status_messages();
    test_secrets();
    test_config();
    test_totp_known_answers();
    test_totp_verify();
    test_totp_null_arguments();
    test_hotp();
    test_key_uris();
    test_key_uri_errors();
    test_qr();
    test_free_null();
    test_threads();

    printf("ffi_test: %lu checks, %lu failed (mail2fa %s)\n", checks_run, checks_failed,
           m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * ffi_test: TOTP (m2fa_totp*): known answers of RFC 6238, steps and T0;
 * verification with windows, replays and malformed codes; NULL arguments.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * TOTP: known answers, steps, T0
 * ------------------------------------------------------------------------ */

void test_totp_known_answers(void)
{
    section = "totp known answers";
    m2fa_totp *sha1 = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_totp *sha256 = new_totp(SEED_SHA256, M2FA_ALGORITHM_SHA256, 8, 30, 0, 1);
    m2fa_totp *sha512 = new_totp(SEED_SHA512, M2FA_ALGORITHM_SHA512, 8, 30, 0, 1);

    for (size_t i = 0; i < sizeof rfc6238 / sizeof rfc6238[0]; i++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, totp_code(sha1, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha1);
        CHECK_STATUS(M2FA_OK, totp_code(sha256, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha256);
        CHECK_STATUS(M2FA_OK, totp_code(sha512, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha512);

        uint64_t step = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_totp_step(sha1, rfc6238[i].time, &step));
        CHECK(step == rfc6238[i].step);
    }
    /* The full protocol once, with the header's "at most 11 bytes". */
    free(FETCH_TEXT(call_totp_generate, TEXT_ARGS(.totp = sha1, .number = 59), M2FA_OK,
                    "94287082"));

    /* Without a config: the defaults (SHA-1, 6 digits, 30 s). The secret is
     * copied, so it may be freed right away. */
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_totp *defaults = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, NULL, &defaults));
    m2fa_secret_free(secret);
    char code[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(defaults, 59, code));
    CHECK_STR(code, "287082"); /* the last six digits of 94287082 */
    CHECK_STATUS(M2FA_OK, totp_code(defaults, 1111111109, code));
    CHECK_STR(code, "081804");

    /* A config changed after m2fa_totp_new does not affect the credential. */
    secret = secret_from_text(SEED_SHA1);
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_totp *copied = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, config, &copied));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(config, 6));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(config, M2FA_ALGORITHM_SHA256));
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    CHECK_STATUS(M2FA_OK, totp_code(copied, 59, code));
    CHECK_STR(code, "94287082");
    m2fa_totp_free(copied);

    /* 10 digits: leading zeros kept, 11 bytes with the NUL. */
    m2fa_totp *ten = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 10, 30, 0, 1);
    CHECK_STATUS(M2FA_OK, totp_code(ten, 59, code)); /* step 1 = HOTP counter 1 */
    CHECK_STR(code, rfc4226_ten[1]);
    CHECK_STATUS(M2FA_OK, totp_code(ten, 60, code)); /* step 2 */
    CHECK_STR(code, rfc4226_ten[2]);
    free(FETCH_TEXT(call_totp_generate, TEXT_ARGS(.totp = ten, .number = 60), M2FA_OK,
                    "0137359152"));
    m2fa_totp_free(ten);

    /* Period and T0 move the steps: T0 = 1000, period 60. */
    m2fa_totp *shifted = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 60, 1000, 1);
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000, &step));
    CHECK(step == 0);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000 + 59, &step));
    CHECK(step == 0);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000 + 60, &step));
    CHECK(step == 1);
    CHECK_STATUS(M2FA_OK, totp_code(shifted, 1000 + 60, code)); /* step 1, like t = 59 above */
    CHECK_STR(code, "94287082");

    /* Before T0: refused, out-parameters untouched. */
    step = SENTINEL_U64;
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_step(shifted, 999, &step));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_step(shifted, 0, &step));
    CHECK(step == SENTINEL_U64);
    CHECK_TEXT_ERROR(M2FA_TIME_BEFORE_T0, call_totp_generate,
                     TEXT_ARGS(.totp = shifted, .number = 999));
    uint64_t matched = SENTINEL_U64;
    uint64_t after = 0;
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_verify(shifted, "94287082", 999, &matched));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0,
                 m2fa_totp_verify_after(shifted, "94287082", 999, 0, &matched));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0,
                 m2fa_totp_verify_window(shifted, "94287082", 999, 5, &after, &matched));
    CHECK(matched == SENTINEL_U64);
    m2fa_totp_free(shifted);

    /* Step boundaries: step 0 starts at T0, step n at T0 + n * period; a
     * start beyond 64 bits is an error, nothing is written. */
    m2fa_totp *starts = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 60, 1000, 1);
    uint64_t start = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step_start(starts, 0, &start));
    CHECK(start == 1000);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step_start(starts, 2, &start));
    CHECK(start == 1120);
    start = SENTINEL_U64;
    CHECK_STATUS(M2FA_COUNTER_OUT_OF_RANGE, m2fa_totp_step_start(starts, UINT64_MAX / 60, &start));
    CHECK(start == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step_start(NULL, 0, &start));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step_start(starts, 0, NULL));
    CHECK(start == SENTINEL_U64);
    m2fa_totp_free(starts);

    /* The far end of time: period 1, t = UINT64_MAX is step UINT64_MAX, and
     * a window of ±2 around it must stop there instead of wrapping to 0. */
    m2fa_totp *edge = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 1, 0, 2);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(edge, UINT64_MAX, &step));
    CHECK(step == UINT64_MAX);
    CHECK_STATUS(M2FA_OK, totp_code(edge, UINT64_MAX, code));
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(edge, code, UINT64_MAX, &matched));
    CHECK(matched == UINT64_MAX);
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(edge, code, UINT64_MAX, UINT64_MAX, &matched));
    m2fa_totp_free(edge);

    m2fa_totp_free(defaults);
    m2fa_totp_free(sha512);
    m2fa_totp_free(sha256);
    m2fa_totp_free(sha1);
}

/* ------------------------------------------------------------------------
 * TOTP verification: windows, replays, malformed codes
 * ------------------------------------------------------------------------ */

void test_totp_verify(void)
{
    section = "totp verify";
    const uint64_t now = 1111111109; /* step 37037036, code 081804 */
    const uint64_t step = 37037036;
    m2fa_totp *totp = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 1);

    /* codes[k] is the code of step + k - 3, for k = 0..6 (steps -3..+3);
     * all seven differ, or the window checks below could pass by accident. */
    char codes[7][CODE_SIZE];
    for (int k = 0; k < 7; k++) {
        CHECK_STATUS(M2FA_OK, totp_code(totp, now + (uint64_t)k * 30 - 90, codes[k]));
        for (int j = 0; j < k; j++) {
            CHECK(strcmp(codes[j], codes[k]) != 0);
        }
    }
#define CODE_AT(offset) codes[(offset) + 3]
    CHECK_STR(CODE_AT(0), "081804");

    /* Within ±1 step: accepted, with the step that matched. */
    for (int offset = -1; offset <= 1; offset++) {
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, CODE_AT(offset), now, &matched));
        CHECK(matched == step + (uint64_t)(int64_t)offset);
    }
    /* ±2 and ±3: refused as a plain mismatch, matched_step untouched. */
    static const int outside[] = {-3, -2, 2, 3};
    for (size_t i = 0; i < 4; i++) {
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_CODE_MISMATCH,
                     m2fa_totp_verify(totp, CODE_AT(outside[i]), now, &matched));
        CHECK(matched == SENTINEL_U64);
    }
    uint64_t matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(totp, "000000", now, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Replay protection: store the matched step, then pass it back. */
    uint64_t last = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, CODE_AT(0), now, &last));
    CHECK(last == step);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify_after(totp, CODE_AT(0), now, last, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(totp, CODE_AT(-1), now, last, &matched)); /* older */
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(totp, CODE_AT(1), now, last, &matched));
    CHECK(matched == step + 1);
    /* Nothing is after the last possible step. */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(totp, CODE_AT(1), now, UINT64_MAX, &matched));
    CHECK(matched == SENTINEL_U64);
    /* A last step far in the past does not restrict anything. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(totp, CODE_AT(-1), now, 0, &matched));
    CHECK(matched == step - 1);

    /* The general form: an explicit window, an optional lower bound. */
    char far[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, now + 10 * 30, far)); /* 10 steps ahead */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(totp, far, now, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify_window(totp, far, now, 9, NULL, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, far, now, 10, NULL, &matched));
    CHECK(matched == step + 10);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, NULL, &matched));
    CHECK(matched == step + 10);
    uint64_t after = step + 9;
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, &after, &matched));
    CHECK(matched == step + 10);
    after = step + 10; /* that step was used: refused */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, &after, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK(after == step + 10); /* read, never written */
    /* The edge of the largest window, 50 steps back. */
    char oldest[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, now - 50 * 30, oldest));
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, oldest, now, M2FA_MAX_WINDOW, NULL, &matched));
    CHECK(matched == step - 50);
    /* Window 0: the current step only. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, CODE_AT(0), now, 0, NULL, &matched));
    CHECK(matched == step);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_window(totp, CODE_AT(1), now, 0, NULL, &matched));
    /* Windows above M2FA_MAX_WINDOW are refused. */
    CHECK_STATUS(M2FA_INVALID_WINDOW, m2fa_totp_verify_window(totp, CODE_AT(0), now,
                                                              M2FA_MAX_WINDOW + 1, NULL, &matched));
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_totp_verify_window(totp, CODE_AT(0), now, UINT32_MAX, NULL, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Near step 0 the window does not wrap around. */
    char first[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, 0, first));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, first, 29, &matched));
    CHECK(matched == 0);

    /* The configured window is the one m2fa_totp_verify uses. */
    m2fa_totp *wide = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 3);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(wide, CODE_AT(-3), now, &matched));
    CHECK(matched == step - 3);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(wide, CODE_AT(3), now, step, &matched));
    CHECK(matched == step + 3);
    m2fa_totp_free(wide);
    m2fa_totp *narrow = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 0);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(narrow, CODE_AT(-1), now, &matched));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(narrow, CODE_AT(0), now, &matched));
    CHECK(matched == step);
    m2fa_totp_free(narrow);
#undef CODE_AT

    /* Malformed codes: refused as such (never a mismatch), by every verifier. */
    for (size_t i = 0; i < MALFORMED_COUNT; i++) {
        const char *code = malformed_codes[i];
        matched = SENTINEL_U64;
        after = 0;
        bool ok = CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(totp, code, now, &matched));
        ok &= CHECK_STATUS(M2FA_MALFORMED_CODE,
                           m2fa_totp_verify_after(totp, code, now, 0, &matched));
        ok &= CHECK_STATUS(M2FA_MALFORMED_CODE,
                           m2fa_totp_verify_window(totp, code, now, 1, &after, &matched));
        ok &= CHECK(matched == SENTINEL_U64);
        if (!ok) {
            fprintf(stderr, "    malformed code #%zu: \"%s\"\n", i, code);
        }
    }
    /* An 8-digit credential refuses 6 digits, and vice versa. */
    m2fa_totp *eight = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(eight, "287082", 59, &matched));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(eight, "94287082", 59, &matched));
    CHECK(matched == 1);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(totp, "94287082", 59, &matched));
    m2fa_totp_free(eight);

    /* Not UTF-8: its own status, before the code is looked at. */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify(totp, not_utf8, now, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify(totp, not_utf8_six, now, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify_after(totp, not_utf8, now, 0, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8,
                 m2fa_totp_verify_window(totp, not_utf8, now, 1, NULL, &matched));
    CHECK(matched == SENTINEL_U64);

    m2fa_totp_free(totp);
}

/* NULL for every pointer argument of the TOTP functions. The other arguments
 * are valid (and the code right), so only the NULL can be the reason. */
void test_totp_null_arguments(void)
{
    section = "totp misuse";
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_totp *totp = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, NULL, &totp));

    m2fa_totp *out = SENTINEL_HANDLE;
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 6, 30, 0, 1);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(NULL, config, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(NULL, NULL, &out));
    CHECK(out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(secret, config, NULL));
    m2fa_otp_config_free(config);

    const char *code = "081804";
    const uint64_t now = 1111111109;
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_totp_generate,
                     TEXT_ARGS(.totp = NULL, .number = now));

    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step(NULL, now, &step));
    CHECK(step == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step(totp, now, NULL));

    uint64_t matched = SENTINEL_U64;
    uint64_t after = 0;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(NULL, code, now, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(totp, NULL, now, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(totp, code, now, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(NULL, code, now, 0, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(totp, NULL, now, 0, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(totp, code, now, 0, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_totp_verify_window(NULL, code, now, 1, &after, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_totp_verify_window(totp, NULL, now, 1, &after, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_window(totp, code, now, 1, &after, NULL));
    CHECK(matched == SENTINEL_U64);
    /* ...while the same calls with every pointer set succeed. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, code, now, 1, &after, &matched));
    CHECK(matched == 37037036);

    m2fa_totp_free(totp);
    m2fa_secret_free(secret);
}

/*
 * ffi_test: HOTP (m2fa_hotp*): known answers of RFC 4226, verification.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * HOTP
 * ------------------------------------------------------------------------ */

void test_hotp(void)
{
    section = "hotp";
    m2fa_hotp *hotp = new_hotp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6);

    /* RFC 4226 Appendix D, and each code found again by m2fa_hotp_verify. */
    for (uint64_t counter = 0; counter < 10; counter++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, hotp_code(hotp, counter, code));
        CHECK_STR(code, rfc4226_six[counter]);
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[counter], counter, 0, &matched));
        CHECK(matched == counter);
        /* Look-ahead from 0: the token was pressed `counter` times unseen. */
        matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[counter], 0, 9, &matched));
        CHECK(matched == counter);
    }
    free(FETCH_TEXT(call_hotp_generate, TEXT_ARGS(.hotp = hotp, .number = 0), M2FA_OK,
                    "755224"));

    /* Look-ahead bounds: counter..counter+look_ahead, never behind. */
    uint64_t matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, rfc4226_six[5], 0, 4, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, rfc4226_six[5], 6, 3, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, "000000", 0, 9, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[5], 0, 5, &matched));
    CHECK(matched == 5);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[2], 2, M2FA_MAX_WINDOW, &matched));
    CHECK(matched == 2);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_hotp_verify(hotp, rfc4226_six[2], 0, M2FA_MAX_WINDOW + 1, &matched));
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_hotp_verify(hotp, rfc4226_six[2], 0, UINT32_MAX, &matched));
    CHECK(matched == SENTINEL_U64);

    /* The top of the counter range: the look-ahead stops at UINT64_MAX. */
    char top[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, hotp_code(hotp, UINT64_MAX, top));
    CHECK(strlen(top) == 6);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, top, UINT64_MAX - 2, 5, &matched));
    CHECK(matched == UINT64_MAX);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, top, UINT64_MAX, M2FA_MAX_WINDOW, &matched));
    CHECK(matched == UINT64_MAX);

    /* Malformed codes and bad UTF-8. */
    for (size_t i = 0; i < MALFORMED_COUNT; i++) {
        matched = SENTINEL_U64;
        if (!CHECK_STATUS(M2FA_MALFORMED_CODE,
                          m2fa_hotp_verify(hotp, malformed_codes[i], 0, 5, &matched)) ||
            !CHECK(matched == SENTINEL_U64)) {
            fprintf(stderr, "    malformed code #%zu: \"%s\"\n", i, malformed_codes[i]);
        }
    }
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_hotp_verify(hotp, not_utf8, 0, 5, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_hotp_verify(hotp, not_utf8_six, 0, 5, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Of the config only algorithm and digits apply: period and T0 do not. */
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 10, 7, 123456, 0);
    m2fa_hotp *ten = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_hotp_new(secret, config, &ten));
    m2fa_otp_config_free(config);
    for (uint64_t counter = 0; counter < 10; counter++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, hotp_code(ten, counter, code));
        CHECK_STR(code, rfc4226_ten[counter]);
    }
    free(FETCH_TEXT(call_hotp_generate, TEXT_ARGS(.hotp = ten, .number = 7), M2FA_OK,
                    "0082162583"));
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(ten, "0082162583", 0, 10, &matched));
    CHECK(matched == 7);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_hotp_verify(ten, "82162583", 0, 10, &matched));
    m2fa_hotp_free(ten);

    /* No config: the defaults (SHA-1, 6 digits). */
    m2fa_hotp *defaults = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_hotp_new(secret, NULL, &defaults));
    char code[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, hotp_code(defaults, 1, code));
    CHECK_STR(code, "287082");
    m2fa_hotp_free(defaults);

    /* HOTP with SHA-256 is TOTP's inner function: counter = step. */
    m2fa_hotp *sha256 = new_hotp(SEED_SHA256, M2FA_ALGORITHM_SHA256, 8);
    CHECK_STATUS(M2FA_OK, hotp_code(sha256, 1, code));
    CHECK_STR(code, rfc6238[0].sha256);
    CHECK_STATUS(M2FA_OK, hotp_code(sha256, rfc6238[1].step, code));
    CHECK_STR(code, rfc6238[1].sha256);
    m2fa_hotp_free(sha256);
    m2fa_hotp *sha512 = new_hotp(SEED_SHA512, M2FA_ALGORITHM_SHA512, 8);
    CHECK_STATUS(M2FA_OK, hotp_code(sha512, rfc6238[5].step, code));
    CHECK_STR(code, rfc6238[5].sha512);
    m2fa_hotp_free(sha512);

    /* NULL for every pointer argument. */
    m2fa_hotp *out = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_new(NULL, NULL, &out));
    CHECK(out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_new(secret, NULL, NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_hotp_generate,
                     TEXT_ARGS(.hotp = NULL, .number = 0));
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(NULL, "755224", 0, 1, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(hotp, NULL, 0, 1, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(hotp, "755224", 0, 1, NULL));

    m2fa_secret_free(secret);
    m2fa_hotp_free(hotp);
}

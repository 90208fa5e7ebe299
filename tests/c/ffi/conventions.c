/*
 * ffi_test: m2fa_version, the statuses (numbers, names, messages) and
 * every *_free(NULL) a no-op.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * m2fa_version
 * ------------------------------------------------------------------------ */

void test_version(void)
{
    section = "version";
    const char *version = m2fa_version();
    if (!CHECK(version != NULL)) {
        return;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", M2FA_VERSION_MAJOR, M2FA_VERSION_MINOR,
             M2FA_VERSION_PATCH);
    CHECK_STR(version, expected);
    /* A static string: the same pointer every time. */
    CHECK(m2fa_version() == version);
}

/* ------------------------------------------------------------------------
 * Statuses and m2fa_status_message
 * ------------------------------------------------------------------------ */

void test_status_messages(void)
{
    section = "status";

    /* The numbers are ABI: they may never change. */
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        CHECK(statuses[i].status == statuses[i].abi_number);
    }
    CHECK(M2FA_ALGORITHM_SHA1 == 1 && M2FA_ALGORITHM_SHA256 == 2 && M2FA_ALGORITHM_SHA512 == 3);
    CHECK(M2FA_OTP_KIND_TOTP == 1 && M2FA_OTP_KIND_HOTP == 2);
    CHECK(M2FA_MAX_WINDOW == 50);

    /* Every status has its own non-empty message; the first one gets the full
     * protocol check, the others a plain call. */
    char *first = FETCH_TEXT(call_status_message, TEXT_ARGS(.number = M2FA_OK), M2FA_OK,
                             "success");
    free(first);
    char messages[STATUS_COUNT][200];
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        size_t needed = SENTINEL_SIZE;
        messages[i][0] = '\0';
        CHECK_STATUS(M2FA_OK, m2fa_status_message(statuses[i].status, messages[i],
                                                  sizeof messages[i], &needed));
        CHECK(needed == strlen(messages[i]) + 1);
        CHECK(strlen(messages[i]) > 0);
        CHECK(strcmp(messages[i], "unknown status") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(messages[i], messages[j]) != 0);
        }
    }

    /* Unknown numbers: the text "unknown status", and M2FA_UNKNOWN_ENUM_VALUE
     * where a known status gives M2FA_OK. */
    static const uint32_t unknown[] = {2, 99, 106, 199, 206, 304, 403, 501, 899, 901, UINT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        char buf[64];
        size_t needed = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE,
                     m2fa_status_message(unknown[i], buf, sizeof buf, &needed));
        CHECK_STR(buf, "unknown status");
        CHECK(needed == sizeof "unknown status");
    }
    char *text = FETCH_TEXT(call_status_message, TEXT_ARGS(.number = 12345),
                            M2FA_UNKNOWN_ENUM_VALUE, "unknown status");
    free(text);

    /* The library knows exactly the statuses of our table (which names each
     * status of the header): every other number of the documented groups
     * (0-999) is unknown to it. A status added to the library makes this
     * fail until it is added to the table, and so to these tests. */
    unsigned long disagreements = 0;
    for (uint32_t number = 0; number < 1000; number++) {
        char buf[200];
        size_t needed = 0;
        bool in_table = strcmp(status_name(number), "not a status") != 0;
        m2fa_status status = m2fa_status_message(number, buf, sizeof buf, &needed);
        if ((status == M2FA_OK) != in_table) {
            disagreements++;
            fprintf(stderr, "    status %u: %s in the test's table, library says %s\n",
                    (unsigned)number, in_table ? "present" : "absent", status_name(status));
        }
    }
    CHECK(disagreements == 0);
}

/* ------------------------------------------------------------------------
 * *_free(NULL)
 * ------------------------------------------------------------------------ */

void test_free_null(void)
{
    section = "free";
    /* No-ops. There is nothing to CHECK: returning is the test, and a crash
     * or a sanitizer report fails the run. */
    m2fa_secret_free(NULL);
    m2fa_otp_config_free(NULL);
    m2fa_totp_free(NULL);
    m2fa_hotp_free(NULL);
    m2fa_key_uri_free(NULL);
}

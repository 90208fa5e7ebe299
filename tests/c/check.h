/*
 * The checking scaffolding shared by the C test programs engine_test.c and
 * devices_test.c: CHECK* macros that count and report failures, status
 * names, sentinels for out-parameters, and a memset the compiler keeps.
 * Each program includes it once (everything is static to that program).
 */
#ifndef MAIL2FA_TESTS_CHECK_H
#define MAIL2FA_TESTS_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mail2fa.h>

/* ------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------ */
static unsigned long checks_run;
static unsigned long checks_failed;
static const char *section = "";       /* the test function running now */
static const char *helper_call = NULL; /* the API call a shared helper is checking */

static bool check_impl(bool ok, const char *expr, const char *file, int line)
{
    checks_run++;
    if (!ok) {
        checks_failed++;
        fprintf(stderr, "%s:%d: [%s] CHECK failed: %s%s%s\n", file, line, section, expr,
                helper_call ? " -- in the checks of " : "", helper_call ? helper_call : "");
    }
    return ok;
}

#define CHECK(expr) check_impl((expr), #expr, __FILE__, __LINE__)

static const struct {
    m2fa_status status;
    const char *name;
} statuses[] = {
#define STATUS(name) {name, #name}
    STATUS(M2FA_OK),
    STATUS(M2FA_CODE_MISMATCH),
    STATUS(M2FA_NULL_ARGUMENT),
    STATUS(M2FA_INVALID_UTF8),
    STATUS(M2FA_BUFFER_TOO_SMALL),
    STATUS(M2FA_UNKNOWN_ENUM_VALUE),
    STATUS(M2FA_UNSUPPORTED),
    STATUS(M2FA_INVALID_ARGUMENT),
    STATUS(M2FA_INVALID_DIGITS),
    STATUS(M2FA_INVALID_PERIOD),
    STATUS(M2FA_INVALID_WINDOW),
    STATUS(M2FA_TIME_BEFORE_T0),
    STATUS(M2FA_COUNTER_OUT_OF_RANGE),
    STATUS(M2FA_MALFORMED_CODE),
    STATUS(M2FA_SECRET_TOO_SHORT),
    STATUS(M2FA_SECRET_TOO_LONG),
    STATUS(M2FA_INVALID_BASE32),
    STATUS(M2FA_RANDOM_FAILURE),
    STATUS(M2FA_INVALID_URI),
    STATUS(M2FA_URI_ISSUER_MISMATCH),
    STATUS(M2FA_INVALID_LABEL),
    STATUS(M2FA_QR_TOO_LONG),
    STATUS(M2FA_STORAGE_FAILURE),
    STATUS(M2FA_CORRUPT_RECORD),
    STATUS(M2FA_STORAGE_CONTENTION),
    STATUS(M2FA_ENCRYPTION_FAILURE),
    STATUS(M2FA_INVALID_KEY_FILE),
    STATUS(M2FA_PLATFORM_DISABLED),
    STATUS(M2FA_ALREADY_ENABLED),
    STATUS(M2FA_NOT_ENABLED),
    STATUS(M2FA_INVALID_CONFIG),
    STATUS(M2FA_INVALID_INPUT),
    STATUS(M2FA_NO_CONTACT),
    STATUS(M2FA_RATE_LIMITED),
    STATUS(M2FA_NOT_FOUND),
    STATUS(M2FA_LIMIT_REACHED),
    STATUS(M2FA_INVALID_NAME),
    STATUS(M2FA_INTERNAL_PANIC),
#undef STATUS
};

static const char *status_name(m2fa_status status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        if (statuses[i].status == status) {
            return statuses[i].name;
        }
    }
    return "not a status";
}

static bool check_status_impl(m2fa_status got, m2fa_status want, const char *expr,
                              const char *file, int line)
{
    if (check_impl(got == want, expr, file, line)) {
        return true;
    }
    fprintf(stderr, "    returned %s (%u), expected %s (%u)\n", status_name(got), (unsigned)got,
            status_name(want), (unsigned)want);
    return false;
}

#define CHECK_STATUS(want, call) check_status_impl((call), (want), #call, __FILE__, __LINE__)

static bool check_str_impl(const char *got, const char *want, const char *expr, const char *file,
                           int line)
{
    bool ok = got != NULL && want != NULL && strcmp(got, want) == 0;
    if (!check_impl(ok, expr, file, line)) {
        fprintf(stderr, "    got \"%s\", expected \"%s\"\n", got ? got : "(NULL)",
                want ? want : "(NULL)");
    }
    return ok;
}

#define CHECK_STR(got, want) check_str_impl((got), (want), #got " == " #want, __FILE__, __LINE__)

static bool check_u64_impl(uint64_t got, uint64_t want, const char *expr, const char *file,
                           int line)
{
    if (check_impl(got == want, expr, file, line)) {
        return true;
    }
    fprintf(stderr, "    got %" PRIu64 ", expected %" PRIu64 "\n", got, want);
    return false;
}

/* CHECK_EQ(got, want) for unsigned numbers, printing both on failure. */
#define CHECK_EQ(got, want) \
    check_u64_impl((uint64_t)(got), (uint64_t)(want), #got " == " #want, __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Sentinels and wiping (as in ffi_test.c)
 * ------------------------------------------------------------------------ */

#define SENTINEL_U32 UINT32_C(0xA5A5A5A5)
#define SENTINEL_U64 UINT64_C(0xA5A5A5A5A5A5A5A5)
#define SENTINEL_I64 INT64_C(0x25A5A5A5A5A5A5A5)
#define SENTINEL_SIZE ((size_t)0xA5A5A5A5u)
#define SENTINEL_BYTE 0x5A

static max_align_t sentinel_object;
#define SENTINEL_HANDLE ((void *)&sentinel_object)

static bool all_bytes_are(const void *memory, size_t len, unsigned char value)
{
    const unsigned char *bytes = memory;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] != value) {
            return false;
        }
    }
    return true;
}

/* Secrets (URIs, codes, application passwords) are wiped before they are
 * freed; the volatile pointer keeps the compiler from dropping the dead
 * store. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

#endif /* MAIL2FA_TESTS_CHECK_H */

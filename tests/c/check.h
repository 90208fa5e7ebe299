/*
 * The checking scaffolding shared by the C test programs ffi_test,
 * engine_test and devices_test: CHECK* macros that count and report
 * failures, the table of statuses (names and ABI numbers), sentinels for
 * out-parameters, and a memset the compiler keeps. Each program is built
 * from several files; tests/c/check.c, linked into every program, holds the
 * one set of counters they all report to.
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
extern unsigned long checks_run;
extern unsigned long checks_failed;
extern const char *section;     /* the test function running now */
extern const char *helper_call; /* the API call a shared helper is checking */

/* Counts one check; on failure prints where it was and what was expected. */
bool check_impl(bool ok, const char *expr, const char *file, int line);

#define CHECK(expr) check_impl((expr), #expr, __FILE__, __LINE__)

/* Every status, with its name and its number, which is part of the ABI. */
static const struct {
    m2fa_status status;
    uint32_t abi_number;
    const char *name;
} statuses[] = {
#define STATUS(name, number) {name, number, #name}
    STATUS(M2FA_OK, 0),
    STATUS(M2FA_CODE_MISMATCH, 1),
    STATUS(M2FA_NULL_ARGUMENT, 100),
    STATUS(M2FA_INVALID_UTF8, 101),
    STATUS(M2FA_BUFFER_TOO_SMALL, 102),
    STATUS(M2FA_UNKNOWN_ENUM_VALUE, 103),
    STATUS(M2FA_UNSUPPORTED, 104),
    STATUS(M2FA_INVALID_ARGUMENT, 105),
    STATUS(M2FA_INVALID_DIGITS, 200),
    STATUS(M2FA_INVALID_PERIOD, 201),
    STATUS(M2FA_INVALID_WINDOW, 202),
    STATUS(M2FA_TIME_BEFORE_T0, 203),
    STATUS(M2FA_COUNTER_OUT_OF_RANGE, 204),
    STATUS(M2FA_MALFORMED_CODE, 205),
    STATUS(M2FA_SECRET_TOO_SHORT, 300),
    STATUS(M2FA_SECRET_TOO_LONG, 301),
    STATUS(M2FA_INVALID_BASE32, 302),
    STATUS(M2FA_RANDOM_FAILURE, 303),
    STATUS(M2FA_INVALID_URI, 400),
    STATUS(M2FA_URI_ISSUER_MISMATCH, 401),
    STATUS(M2FA_INVALID_LABEL, 402),
    STATUS(M2FA_QR_TOO_LONG, 500),
    STATUS(M2FA_STORAGE_FAILURE, 600),
    STATUS(M2FA_CORRUPT_RECORD, 601),
    STATUS(M2FA_STORAGE_CONTENTION, 602),
    STATUS(M2FA_ENCRYPTION_FAILURE, 603),
    STATUS(M2FA_INVALID_KEY_FILE, 604),
    STATUS(M2FA_PLATFORM_DISABLED, 700),
    STATUS(M2FA_ALREADY_ENABLED, 701),
    STATUS(M2FA_NOT_ENABLED, 702),
    STATUS(M2FA_INVALID_CONFIG, 703),
    STATUS(M2FA_INVALID_INPUT, 704),
    STATUS(M2FA_NO_CONTACT, 705),
    STATUS(M2FA_RATE_LIMITED, 706),
    STATUS(M2FA_NOT_FOUND, 707),
    STATUS(M2FA_LIMIT_REACHED, 708),
    STATUS(M2FA_INVALID_NAME, 709),
    STATUS(M2FA_PASSWORD_CHECK_FAILED, 710),
    STATUS(M2FA_INVALID_CONFIG_FILE, 711),
    STATUS(M2FA_INTERNAL_PANIC, 900),
#undef STATUS
};
#define STATUS_COUNT (sizeof statuses / sizeof statuses[0])

/* The status's name from the table above, or "not a status". */
const char *status_name(m2fa_status status);

bool check_status_impl(m2fa_status got, m2fa_status want, const char *expr, const char *file,
                       int line);

/* CHECK_STATUS(M2FA_OK, m2fa_something(...)): the call returns that status. */
#define CHECK_STATUS(want, call) check_status_impl((call), (want), #call, __FILE__, __LINE__)

bool check_str_impl(const char *got, const char *want, const char *expr, const char *file,
                    int line);

#define CHECK_STR(got, want) check_str_impl((got), (want), #got " == " #want, __FILE__, __LINE__)

bool check_u64_impl(uint64_t got, uint64_t want, const char *expr, const char *file, int line);

/* CHECK_EQ(got, want) for unsigned numbers, printing both on failure. */
#define CHECK_EQ(got, want) \
    check_u64_impl((uint64_t)(got), (uint64_t)(want), #got " == " #want, __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Sentinels: preset every out-parameter, so that we can tell whether a call
 * wrote it. The header promises writes only on success (and *needed also on
 * M2FA_BUFFER_TOO_SMALL).
 * ------------------------------------------------------------------------ */

#define SENTINEL_U32 UINT32_C(0xA5A5A5A5)
#define SENTINEL_U64 UINT64_C(0xA5A5A5A5A5A5A5A5)
#define SENTINEL_I64 INT64_C(0x25A5A5A5A5A5A5A5)
#define SENTINEL_SIZE ((size_t)0xA5A5A5A5u)
#define SENTINEL_BYTE 0x5A

/* A pointer no handle can equal, for handle out-parameters (one object for
 * the whole program: a sentinel set in one file is checked in another). */
extern max_align_t sentinel_object;
#define SENTINEL_HANDLE ((void *)&sentinel_object)

bool all_bytes_are(const void *memory, size_t len, unsigned char value);

/* ------------------------------------------------------------------------
 * Wiping
 * ------------------------------------------------------------------------ */

/* Secrets (URIs, codes, application passwords) are wiped before they are
 * freed; the memset goes through a volatile function pointer because a
 * plain memset just before free() is a dead store the compiler may remove. */
extern void *(*const volatile wipe_memset)(void *, int, size_t);

/* Frees text that held a secret (base32, a provisioning URI, its QR code)
 * after wiping it, as the header asks. NULL is a no-op. */
void free_wiped(char *text);

#endif /* MAIL2FA_TESTS_CHECK_H */

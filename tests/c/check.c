/*
 * The definitions behind tests/c/check.h: one set of counters per test
 * program, whichever of its files a check is in.
 */
#include "check.h"

#include <stdlib.h>

unsigned long checks_run;
unsigned long checks_failed;
const char *section = "";
const char *helper_call = NULL;

bool check_impl(bool ok, const char *expr, const char *file, int line)
{
    checks_run++;
    if (!ok) {
        checks_failed++;
        fprintf(stderr, "%s:%d: [%s] CHECK failed: %s%s%s\n", file, line, section, expr,
                helper_call ? " -- in the checks of " : "", helper_call ? helper_call : "");
    }
    return ok;
}

const char *status_name(m2fa_status status)
{
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (statuses[i].status == status) {
            return statuses[i].name;
        }
    }
    return "not a status";
}

bool check_status_impl(m2fa_status got, m2fa_status want, const char *expr, const char *file,
                       int line)
{
    if (check_impl(got == want, expr, file, line)) {
        return true;
    }
    fprintf(stderr, "    returned %s (%u), expected %s (%u)\n", status_name(got), (unsigned)got,
            status_name(want), (unsigned)want);
    return false;
}

bool check_str_impl(const char *got, const char *want, const char *expr, const char *file,
                    int line)
{
    bool ok = got != NULL && want != NULL && strcmp(got, want) == 0;
    if (!check_impl(ok, expr, file, line)) {
        fprintf(stderr, "    got \"%s\", expected \"%s\"\n", got ? got : "(NULL)",
                want ? want : "(NULL)");
    }
    return ok;
}

bool check_u64_impl(uint64_t got, uint64_t want, const char *expr, const char *file, int line)
{
    if (check_impl(got == want, expr, file, line)) {
        return true;
    }
    fprintf(stderr, "    got %" PRIu64 ", expected %" PRIu64 "\n", got, want);
    return false;
}

max_align_t sentinel_object;

bool all_bytes_are(const void *memory, size_t len, unsigned char value)
{
    const unsigned char *bytes = memory;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] != value) {
            return false;
        }
    }
    return true;
}

void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void free_wiped(char *text)
{
    if (text != NULL) {
        wipe_memset(text, 0, strlen(text));
        free(text);
    }
}

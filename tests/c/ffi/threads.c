/*
 * ffi_test: one m2fa_totp and one m2fa_hotp shared by several threads.
 */

#include "fixture.h"

#include <pthread.h>

#include "tests.h"

/* ------------------------------------------------------------------------
 * Threads: one m2fa_totp and one m2fa_hotp shared by several threads, each
 * verifying and generating, results compared with single-threaded answers.
 * ------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 1500
#define THREAD_BASE_TIME UINT64_C(1111111109) /* step 37037036 */

static char expected_totp[ROUNDS][CODE_SIZE]; /* code of step 37037036 + i */
static char expected_hotp[ROUNDS][CODE_SIZE]; /* code of counter i */

struct worker {
    pthread_t thread;
    unsigned id;
    const m2fa_totp *totp;
    const m2fa_hotp *hotp;
    /* Filled in by the thread, read by main after pthread_join. */
    unsigned long calls;
    unsigned long wrong;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (unsigned r = 0; r < ROUNDS; r++) {
        /* Each thread walks the rounds from a different place, so that they
         * compute different codes at the same moment. */
        unsigned i = (r + w->id * (ROUNDS / THREADS)) % ROUNDS;
        uint64_t time = THREAD_BASE_TIME + (uint64_t)i * 30;
        uint64_t step = 37037036 + (uint64_t)i;
        char code[CODE_SIZE];
        uint64_t matched = 0;

        w->wrong += totp_code(w->totp, time, code) != M2FA_OK;
        w->wrong += strcmp(code, expected_totp[i]) != 0;
        w->wrong += m2fa_totp_verify(w->totp, expected_totp[i], time + 29, &matched) != M2FA_OK;
        w->wrong += matched != step;
        w->wrong += m2fa_totp_verify_after(w->totp, expected_totp[i], time, step, &matched) !=
                    M2FA_CODE_MISMATCH;
        uint64_t after = step - 1;
        w->wrong += m2fa_totp_verify_window(w->totp, expected_totp[i], time + 60, 2, &after,
                                            &matched) != M2FA_OK;
        w->wrong += matched != step;

        w->wrong += hotp_code(w->hotp, i, code) != M2FA_OK;
        w->wrong += strcmp(code, expected_hotp[i]) != 0;
        uint64_t from = i >= 3 ? i - 3 : 0;
        w->wrong += m2fa_hotp_verify(w->hotp, expected_hotp[i], from, 3, &matched) != M2FA_OK;
        w->wrong += matched != i;

        /* Now and then, objects of our own next to the shared ones. */
        if (r % 100 == 0) {
            m2fa_secret *secret = NULL;
            m2fa_totp *own = NULL;
            w->wrong += m2fa_secret_from_bytes((const uint8_t *)SEED_SHA1, 20, &secret) != M2FA_OK;
            w->wrong += m2fa_totp_new(secret, NULL, &own) != M2FA_OK;
            w->wrong += totp_code(own, time, code) != M2FA_OK;
            w->wrong += strcmp(code, expected_totp[i] + 2) != 0; /* 6 of the 8 digits */
            m2fa_totp_free(own);
            m2fa_secret_free(secret);
            char message[128];
            size_t needed = 0;
            w->wrong += m2fa_status_message(M2FA_CODE_MISMATCH, message, sizeof message,
                                            &needed) != M2FA_OK;
            w->wrong += m2fa_version() == NULL;
            w->calls += 6;
        }
        w->calls += 9;
    }
    return NULL;
}

void test_threads(void)
{
    section = "threads";
    m2fa_totp *totp = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_hotp *hotp = new_hotp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6);
    if (totp == NULL || hotp == NULL) {
        CHECK(!"could not create the shared credentials");
        m2fa_totp_free(totp);
        m2fa_hotp_free(hotp);
        return;
    }

    /* The answers, computed on this thread alone. */
    unsigned long setup_failures = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        setup_failures += totp_code(totp, THREAD_BASE_TIME + (uint64_t)i * 30, expected_totp[i]) !=
                          M2FA_OK;
        setup_failures += hotp_code(hotp, i, expected_hotp[i]) != M2FA_OK;
    }
    CHECK(setup_failures == 0);
    CHECK_STR(expected_totp[0], "07081804");
    CHECK_STR(expected_hotp[9], rfc4226_six[9]);

    struct worker workers[THREADS];
    unsigned started = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){.id = t, .totp = totp, .hotp = hotp};
        if (CHECK(pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) == 0)) {
            started++;
        } else {
            break;
        }
    }
    for (unsigned t = 0; t < started; t++) {
        CHECK(pthread_join(workers[t].thread, NULL) == 0);
        CHECK(workers[t].wrong == 0);
        CHECK(workers[t].calls == ROUNDS * 9 + (ROUNDS + 99) / 100 * 6);
    }
    CHECK(started == THREADS);

    m2fa_hotp_free(hotp);
    m2fa_totp_free(totp);
}

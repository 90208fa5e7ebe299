/*
 * devices_test: 8 threads authenticate one ACTIVE device at once (all
 * allowed), and race the first login of one unknown device (exactly one
 * token).
 */

#include "fixture.h"

#include <pthread.h>

#include "tests.h"

/* ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 200

static struct {
    const m2fa_engine *engine;
    const char *account;
    const struct client *client;
    uint64_t now;
    pthread_barrier_t barrier;
    unsigned allowed[THREADS], pending[THREADS], errors[THREADS];
} race;

/* Authenticates without the CHECK macros (not thread-safe): tallies only. */
static void race_login(unsigned thread, uint64_t now)
{
    m2fa_login *login = NULL;
    m2fa_decision *d = NULL;
    uint32_t outcome = 0;
    if (m2fa_login_new(M2FA_PROTOCOL_ACTIVESYNC, NULL, &login) != M2FA_OK ||
        m2fa_login_set_password(login, 1) != M2FA_OK ||
        m2fa_login_set_client(login, race.client->device_id, race.client->device_type,
                              race.client->user_agent, race.client->remote_addr) != M2FA_OK ||
        m2fa_engine_authenticate(race.engine, PLATFORM, race.account, login, now, &d) != M2FA_OK ||
        m2fa_decision_outcome(d, &outcome) != M2FA_OK) {
        race.errors[thread]++;
    } else if (outcome == M2FA_OUTCOME_ALLOWED) {
        race.allowed[thread]++;
    } else if (outcome == M2FA_OUTCOME_DEVICE_PENDING) {
        race.pending[thread]++;
    }
    m2fa_decision_free(d);
    m2fa_login_free(login);
}

static void *many_logins(void *arg)
{
    unsigned thread = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&race.barrier);
    for (unsigned i = 0; i < ROUNDS; i++) {
        race_login(thread, race.now + i);
    }
    return NULL;
}

static void *first_login(void *arg)
{
    unsigned thread = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&race.barrier);
    race_login(thread, race.now);
    return NULL;
}

static void run_threads(void *(*body)(void *))
{
    pthread_t threads[THREADS];
    memset(race.allowed, 0, sizeof race.allowed);
    memset(race.pending, 0, sizeof race.pending);
    memset(race.errors, 0, sizeof race.errors);
    CHECK(pthread_barrier_init(&race.barrier, NULL, THREADS) == 0);
    for (unsigned t = 0; t < THREADS; t++) {
        CHECK(pthread_create(&threads[t], NULL, body, (void *)(uintptr_t)t) == 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    pthread_barrier_destroy(&race.barrier);
}

void test_threads(void)
{
    section = "threads";
    m2fa_engine *engine = new_engine(10);
    struct user ivy = {.engine = engine, .name = "ivy@example.com"};
    struct user jay = {.engine = engine, .name = "jay@example.com"};
    if (engine == NULL || !enroll(&ivy, T0) || !enroll(&jay, T0)) {
        user_free(&ivy);
        user_free(&jay);
        m2fa_engine_free(engine);
        return;
    }
    static const struct client phone = {"IPHONE42", "iPhone", "Apple-iPhone/2101", "203.0.113.7"};
    char id[M2FA_DEVICE_ID_SIZE];
    uint64_t now = T0 + 100;
    m2fa_decision *d = AUTH(&ivy, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phone, now,
                            M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    device_of(d, id);
    m2fa_decision_free(d);
    CHECK_STATUS(M2FA_OK, m2fa_engine_device_activate(engine, PLATFORM, ivy.name, id, now));

    /* 8 threads x 200 logins of one active device: all allowed. */
    race.engine = engine;
    race.account = ivy.name;
    race.client = &phone;
    race.now = now + 1;
    run_threads(many_logins);
    unsigned allowed = 0, errors = 0, pending = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        allowed += race.allowed[t];
        errors += race.errors[t];
    }
    CHECK_EQ(allowed, THREADS * ROUNDS);
    CHECK_EQ(errors, 0);
    CHECK_EQ(device_count(&ivy, now + ROUNDS), 1);

    /* 8 threads race the first login of one unknown device: one token. */
    race.account = jay.name;
    race.now = now;
    run_threads(first_login);
    allowed = errors = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        allowed += race.allowed[t];
        pending += race.pending[t];
        errors += race.errors[t];
    }
    CHECK_EQ(pending, THREADS);
    CHECK_EQ(allowed, 0);
    CHECK_EQ(errors, 0);
    CHECK_EQ(device_count(&jay, now), 1);
    user_free(&ivy);
    user_free(&jay);
    m2fa_engine_free(engine);
}

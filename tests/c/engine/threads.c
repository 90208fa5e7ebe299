/*
 * engine_test: 16 threads share one engine and race: the same code at
 * the same moment is accepted exactly once; wrong codes lock after exactly
 * five.
 */

#include "fixture.h"
#include <pthread.h>

#include "tests.h"

/* ------------------------------------------------------------------------
 * Threads: one engine, 16 threads, logins at the same moment
 * ------------------------------------------------------------------------ */

#define RACERS 16
#define REPLAY_ROUNDS 50
#define LOCK_ROUNDS 10

/* What main sets up before each round and reads after it; the barriers
 * order these accesses between the threads. */
static struct {
    const m2fa_engine *engine;
    const char *account;
    uint64_t now;
    char codes[RACERS][CODE_SIZE];
    struct {
        m2fa_status status;
        uint32_t outcome, reason;
        uint64_t step, until;
    } results[RACERS];
    pthread_barrier_t start, done;
    unsigned rounds;
} race;

static void *racer_main(void *arg)
{
    const unsigned id = *(const unsigned *)arg;
    for (unsigned round = 0; round < race.rounds; round++) {
        pthread_barrier_wait(&race.start);
        m2fa_decision *d = NULL;
        race.results[id].status =
            m2fa_engine_login(race.engine, PLATFORM, race.account, race.codes[id], race.now, &d);
        race.results[id].outcome = race.results[id].reason = SENTINEL_U32;
        race.results[id].step = race.results[id].until = SENTINEL_U64;
        if (race.results[id].status == M2FA_OK) {
            m2fa_decision_outcome(d, &race.results[id].outcome);
            m2fa_decision_reason(d, &race.results[id].reason);
            m2fa_decision_step(d, &race.results[id].step);
            m2fa_decision_until(d, &race.results[id].until);
        }
        m2fa_decision_free(d);
        pthread_barrier_wait(&race.done);
    }
    return NULL;
}

/* Runs `rounds` rounds of RACERS threads: prepare(round) sets race.now and
 * race.codes, the threads log in at once, tally(round) checks the results. */
static void run_race(unsigned rounds, void (*prepare)(unsigned), void (*tally)(unsigned))
{
    pthread_t threads[RACERS];
    unsigned ids[RACERS];
    race.rounds = rounds;
    if (!CHECK(pthread_barrier_init(&race.start, NULL, RACERS + 1) == 0 &&
               pthread_barrier_init(&race.done, NULL, RACERS + 1) == 0)) {
        return;
    }
    for (unsigned t = 0; t < RACERS; t++) {
        ids[t] = t;
        if (!CHECK(pthread_create(&threads[t], NULL, racer_main, &ids[t]) == 0)) {
            /* The barriers would never open: give up on the whole run. */
            fprintf(stderr, "engine_test: cannot start threads\n");
            exit(EXIT_FAILURE);
        }
    }
    for (unsigned round = 0; round < rounds; round++) {
        prepare(round);
        pthread_barrier_wait(&race.start);
        pthread_barrier_wait(&race.done);
        tally(round);
    }
    for (unsigned t = 0; t < RACERS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    pthread_barrier_destroy(&race.start);
    pthread_barrier_destroy(&race.done);
}

static struct user racer_user;
static uint64_t race_base;
static uint64_t race_step;
static unsigned wrong_counter;

/* Replays: every thread presents the same valid code. Rounds are 3 steps
 * apart, so that each round's ±1 window is past the last step used. */
static void prepare_replay(unsigned round)
{
    race.now = race_base + 90 * (uint64_t)(round + 1);
    code_at(&racer_user, race.now, race.codes[0]);
    for (unsigned t = 1; t < RACERS; t++) {
        memcpy(race.codes[t], race.codes[0], CODE_SIZE);
    }
    /* The step matched: the highest in the window with this code. */
    char next[CODE_SIZE];
    race_step = step_at(&racer_user, race.now);
    if (strcmp(code_at(&racer_user, race.now + 30, next), race.codes[0]) == 0) {
        race_step++;
    }
}

static void tally_replay(unsigned round)
{
    unsigned ok = 0, allowed = 0, replayed = 0;
    for (unsigned t = 0; t < RACERS; t++) {
        ok += race.results[t].status == M2FA_OK;
        if (race.results[t].outcome == M2FA_OUTCOME_ALLOWED &&
            race.results[t].reason == M2FA_REASON_CODE_ACCEPTED) {
            allowed++;
            CHECK_EQ(race.results[t].step, race_step);
        }
        replayed += race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
                    race.results[t].reason == M2FA_REASON_REPLAYED;
    }
    if (!CHECK(ok == RACERS && allowed == 1 && replayed == RACERS - 1)) {
        fprintf(stderr, "    round %u: %u OK, %u allowed, %u replayed\n", round, ok, allowed,
                replayed);
    }
}

/* Wrong codes: each thread its own. Exactly five are counted (and the
 * fifth locks); the other eleven find the account locked. */
static void prepare_lock(unsigned round)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(race.engine, PLATFORM, race.account));
    race.now = race_base + 600 * (uint64_t)(round + 1);
    for (unsigned t = 0; t < RACERS; t++) {
        wrong_code(&racer_user, race.now, &wrong_counter, race.codes[t]);
    }
}

static void tally_lock(unsigned round)
{
    unsigned ok = 0, wrong = 0, locked = 0;
    for (unsigned t = 0; t < RACERS; t++) {
        ok += race.results[t].status == M2FA_OK;
        wrong += race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
                 race.results[t].reason == M2FA_REASON_WRONG_CODE;
        if (race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
            race.results[t].reason == M2FA_REASON_LOCKED) {
            locked++;
            CHECK_EQ(race.results[t].until, race.now + 60);
        }
    }
    if (!CHECK(ok == RACERS && wrong == 5 && locked == RACERS - 5)) {
        fprintf(stderr, "    round %u: %u OK, %u wrong, %u locked\n", round, ok, wrong, locked);
    }
}

void test_threads(void)
{
    section = "threads";
    m2fa_engine *engine = new_engine(NULL);
    racer_user = (struct user){.engine = engine, .platform = PLATFORM, .name = "race@example.com"};
    if (!enroll(&racer_user, T0)) {
        user_free(&racer_user);
        m2fa_engine_free(engine);
        return;
    }
    race.engine = engine;
    race.account = racer_user.name;

    race_base = T0;
    run_race(REPLAY_ROUNDS, prepare_replay, tally_replay);

    race_base = T0 + 90 * (REPLAY_ROUNDS + 1);
    run_race(LOCK_ROUNDS, prepare_lock, tally_lock);
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, race.account));

    wipe_memset(race.codes, 0, sizeof race.codes);
    user_free(&racer_user);
    m2fa_engine_free(engine);
}

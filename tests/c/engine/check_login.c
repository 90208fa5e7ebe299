/*
 * engine_test: the one-call login (m2fa_engine_check_login: the input as
 * typed and the host's password check in, the decision out) and its
 * two-step form for PAM stacks (m2fa_engine_begin_login,
 * m2fa_pending_login_password, m2fa_pending_login_finish), and both raced
 * by 16 threads with the same password+code: accepted exactly once.
 */

#include "fixture.h"
#include <pthread.h>

#include "tests.h"

#define PASSWORD "T9D3K!px"

/* The host's password check the tests hand the engine: it records what it
 * was given and answers `answer` (-1: the directory is down) or, when
 * `answer` is 2, whether the password is PASSWORD. */
struct host_check {
    int answer;
    unsigned calls;
    char seen[64];     /* the last password it was given */
    size_t seen_len;
    bool terminated;   /* that password was NUL-terminated at its length */
};

static int host_check(void *user_data, const char *password, size_t password_len)
{
    struct host_check *h = user_data;
    h->calls++;
    h->terminated = password[password_len] == '\0' && strlen(password) == password_len;
    h->seen_len = password_len;
    snprintf(h->seen, sizeof h->seen, "%.*s", (int)(password_len < 63 ? password_len : 63),
             password);
    if (h->answer != 2) {
        return h->answer;
    }
    return strcmp(password, PASSWORD) == 0 ? 1 : 0;
}

/* A check that frees the engine handle it is called for (a Lua script
 * closing its engine inside its password check): the call goes on with the
 * engine it began with (AddressSanitizer watches). */
struct freeing_check {
    m2fa_engine *engine;
};

static int freeing_check(void *user_data, const char *password, size_t password_len)
{
    struct freeing_check *c = user_data;
    (void)password_len;
    m2fa_engine_free(c->engine);
    c->engine = NULL;
    return strcmp(password, PASSWORD) == 0 ? 1 : 0;
}

static m2fa_login *imap_login(uint32_t protocol, const char *remote_addr)
{
    m2fa_login *login = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_login_new(protocol, NULL, &login))) {
        return NULL;
    }
    CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, NULL, NULL, NULL, remote_addr));
    return login;
}

/* m2fa_engine_check_login, checked: the status; on M2FA_OK the decision
 * (check_decision), else *out untouched. `code` is what no audit line may
 * show. */
static void check_login_impl(const struct user *u, const m2fa_login *login, const char *input,
                             struct host_check *h, uint64_t now, m2fa_status want,
                             uint32_t outcome, uint32_t reason, const char *code,
                             const char *file, int line)
{
    m2fa_decision *d = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_check_login(u->engine, u->platform, u->name, login, input,
                                                 host_check, h, now, &d);
    if (want == M2FA_OK) {
        check_decision_impl(status, d, u, code, now, outcome, reason, false,
                            "m2fa_engine_check_login", file, line);
        m2fa_decision_free(d);
    } else {
        check_status_impl(status, want, "m2fa_engine_check_login", file, line);
        check_impl(d == SENTINEL_HANDLE, "*out untouched", file, line);
    }
}
#define CHECK_LOGIN(u, login, input, h, now, want, outcome, reason, code)                 \
    check_login_impl((u), (login), (input), (h), (now), (want), (outcome), (reason), (code), \
                     __FILE__, __LINE__)

/* An application password for `u`, into app (M2FA_APP_PASSWORD_SIZE). */
static bool app_password(const struct user *u, uint64_t now, char *app)
{
    uint32_t id = 0;
    size_t needed = 0;
    return CHECK_STATUS(M2FA_OK,
                        m2fa_engine_app_password_create(u->engine, u->platform, u->name, "phone",
                                                        NULL, now, &id, app,
                                                        M2FA_APP_PASSWORD_SIZE, &needed));
}

void test_check_login(void)
{
    section = "one-call login";
    m2fa_engine *engine = new_engine(NULL);
    struct user dave = {.engine = engine, .platform = PLATFORM, .name = "dave@example.com"};
    struct user erin = {.engine = engine, .platform = PLATFORM, .name = "erin@example.com"};
    m2fa_login *imap = imap_login(M2FA_PROTOCOL_IMAP, NULL);
    m2fa_login *smtp = imap_login(M2FA_PROTOCOL_SMTP, "203.0.113.7");
    char code[CODE_SIZE], input[64], app[M2FA_APP_PASSWORD_SIZE];
    if (engine == NULL || imap == NULL || smtp == NULL || !enroll(&dave, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM,
                                                               M2FA_PROTOCOL_IMAP, NULL,
                                                               M2FA_POLICY_CODE_IN_LOGIN))) {
        goto out;
    }
    uint64_t now = quiet_time(&dave, T0 + 600, 2);

    /* Password+code: the check sees the password part only, once, as a
     * NUL-terminated string; the code is consumed. */
    snprintf(input, sizeof input, PASSWORD "%s", code_at(&dave, now, code));
    struct host_check h = {.answer = 2};
    CHECK_LOGIN(&dave, imap, input, &h, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                M2FA_REASON_CODE_ACCEPTED, code);
    CHECK(h.calls == 1 && h.seen_len == strlen(PASSWORD) && h.terminated);
    CHECK_STR(h.seen, PASSWORD);
    CHECK_LOGIN(&dave, imap, input, &h, now + 1, M2FA_OK, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_REPLAYED, code);
    CHECK(h.calls == 2);

    /* 0: a wrong password, the code untouched (the right password with it
     * gets in afterwards). */
    now += 60;
    snprintf(input, sizeof input, "wrong-pw%s", code_at(&dave, now, code));
    h = (struct host_check){.answer = 2};
    CHECK_LOGIN(&dave, imap, input, &h, now, M2FA_OK, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_WRONG_PASSWORD, code);
    CHECK(h.calls == 1);
    CHECK_STR(h.seen, "wrong-pw");
    snprintf(input, sizeof input, PASSWORD "%s", code);
    CHECK_LOGIN(&dave, imap, input, &h, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                M2FA_REASON_CODE_ACCEPTED, code);

    /* Anything but 1 or 0: the check could not answer. Refused with
     * M2FA_PASSWORD_CHECK_FAILED, nothing recorded: the same code works
     * once the directory answers again. */
    now += 60;
    snprintf(input, sizeof input, PASSWORD "%s", code_at(&dave, now, code));
    const int failures[] = {-1, 3, 42};
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        h = (struct host_check){.answer = failures[i]};
        CHECK_LOGIN(&dave, imap, input, &h, now, M2FA_PASSWORD_CHECK_FAILED, 0, 0, code);
        CHECK(h.calls == 1);
    }
    h = (struct host_check){.answer = 2};
    CHECK_LOGIN(&dave, imap, input, &h, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                M2FA_REASON_CODE_ACCEPTED, code);

    /* An application password over SMTP (application passwords only, by
     * default): not the account password (0), so the engine tries it as an
     * application password, whole. */
    if (app_password(&dave, now, app)) {
        h = (struct host_check){.answer = 2};
        CHECK_LOGIN(&dave, smtp, app, &h, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                    M2FA_REASON_APP_PASSWORD, app);
        CHECK(h.calls == 1);
        CHECK_STR(h.seen, app);
        /* The account password itself is refused there. */
        CHECK_LOGIN(&dave, smtp, PASSWORD, &h, now, M2FA_OK, M2FA_OUTCOME_REFUSED,
                    M2FA_REASON_APP_PASSWORD_REQUIRED, NULL);
    }

    /* An account without 2FA: nothing is split off; the host decides. */
    h = (struct host_check){.answer = 1};
    CHECK_LOGIN(&erin, imap, "pw123456", &h, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                M2FA_REASON_NO_SECOND_FACTOR, NULL);
    CHECK_STR(h.seen, "pw123456");
    h.answer = 0;
    CHECK_LOGIN(&erin, imap, "pw123456", &h, now, M2FA_OK, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_WRONG_PASSWORD, NULL);

    /* Refused input never reaches the check. */
    char *big = malloc(4098);
    if (CHECK(big != NULL)) {
        memset(big, 'a', 4091);
        memcpy(big + 4091, "123456", 7); /* 4097 bytes and the NUL */
        h = (struct host_check){.answer = 1};
        CHECK_LOGIN(&dave, imap, big, &h, now, M2FA_INVALID_INPUT, 0, 0, NULL);
        CHECK_LOGIN(&erin, imap, big, &h, now, M2FA_INVALID_INPUT, 0, 0, NULL);
        free(big);
    }
    CHECK_LOGIN(&dave, imap, not_utf8_six, &h, now, M2FA_INVALID_UTF8, 0, 0, NULL);
    m2fa_login *bad_client = imap_login(M2FA_PROTOCOL_IMAP, NULL);
    if (bad_client != NULL) {
        CHECK_STATUS(M2FA_OK,
                     m2fa_login_set_client(bad_client, NULL, NULL, NULL, "not an address"));
        CHECK_LOGIN(&dave, bad_client, input, &h, now, M2FA_INVALID_INPUT, 0, 0, code);
        m2fa_login_free(bad_client);
    }
    CHECK(h.calls == 0);

    /* Every pointer is checked, the callback too. */
    m2fa_decision *d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_check_login(engine, PLATFORM, dave.name, imap,
                                                             input, NULL, &h, now, &d));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_check_login(engine, PLATFORM, dave.name, NULL,
                                                             input, host_check, &h, now, &d));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_check_login(engine, PLATFORM, dave.name, imap,
                                                             NULL, host_check, &h, now, &d));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_check_login(NULL, PLATFORM, dave.name, imap,
                                                             input, host_check, &h, now, &d));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_check_login(engine, PLATFORM, dave.name, imap,
                                                             input, host_check, &h, now, NULL));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_check_login(engine, PLATFORM, "Dave@example.com",
                                                            imap, input, host_check, &h, now,
                                                            &d));
    CHECK(d == SENTINEL_HANDLE && h.calls == 0);

    /* The check frees the engine handle: the code is still checked and
     * consumed on that engine, and the decision comes out. */
    m2fa_engine *closing = new_engine(NULL);
    struct user frank = {.engine = closing, .platform = PLATFORM, .name = "frank@example.com"};
    if (closing != NULL && enroll(&frank, T0) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(closing, PLATFORM,
                                                               M2FA_PROTOCOL_IMAP, NULL,
                                                               M2FA_POLICY_CODE_IN_LOGIN))) {
        uint64_t t = quiet_time(&frank, T0 + 600, 2);
        snprintf(input, sizeof input, PASSWORD "%s", code_at(&frank, t, code));
        struct freeing_check c = {.engine = closing};
        d = SENTINEL_HANDLE;
        uint32_t outcome = 0;
        CHECK_STATUS(M2FA_OK, m2fa_engine_check_login(closing, PLATFORM, frank.name, imap,
                                                      input, freeing_check, &c, t, &d));
        CHECK(c.engine == NULL && d != SENTINEL_HANDLE &&
              m2fa_decision_outcome(d, &outcome) == M2FA_OK &&
              outcome == M2FA_OUTCOME_ALLOWED);
        if (d != SENTINEL_HANDLE) {
            m2fa_decision_free(d);
        }
        closing = c.engine;
    }
    user_free(&frank);
    m2fa_engine_free(closing);
out:
    wipe_memset(input, 0, sizeof input);
    wipe_memset(app, 0, sizeof app);
    m2fa_login_free(imap);
    m2fa_login_free(smtp);
    user_free(&dave);
    user_free(&erin);
    m2fa_engine_free(engine);
}

/* m2fa_pending_login_finish, checked as CHECK_LOGIN. */
static void finish_impl(const struct user *u, const m2fa_pending_login *pending, uint32_t verdict,
                        uint64_t now, m2fa_status want, uint32_t outcome, uint32_t reason,
                        const char *code, const char *file, int line)
{
    m2fa_decision *d = SENTINEL_HANDLE;
    m2fa_status status = m2fa_pending_login_finish(pending, verdict, now, &d);
    if (want == M2FA_OK) {
        check_decision_impl(status, d, u, code, now, outcome, reason, false,
                            "m2fa_pending_login_finish", file, line);
        m2fa_decision_free(d);
    } else {
        check_status_impl(status, want, "m2fa_pending_login_finish", file, line);
        check_impl(d == SENTINEL_HANDLE, "*out untouched", file, line);
    }
}
#define FINISH(u, pending, verdict, now, want, outcome, reason, code)                       \
    finish_impl((u), (pending), (verdict), (now), (want), (outcome), (reason), (code), __FILE__, \
                __LINE__)

static m2fa_pending_login *begin(const struct user *u, const m2fa_login *login, const char *input,
                                 uint64_t now)
{
    m2fa_pending_login *pending = SENTINEL_HANDLE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_begin_login(u->engine, u->platform, u->name, login,
                                                       input, now, &pending))) {
        return NULL;
    }
    return pending;
}

/* The password part of a pending login, through the text protocol. */
static void check_password_part(const m2fa_pending_login *pending, const char *want)
{
    size_t needed = SENTINEL_SIZE;
    char small[4];
    memset(small, SENTINEL_BYTE, sizeof small);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_pending_login_password(pending, NULL, 0, &needed));
    CHECK(needed == strlen(want) + 1);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL,
                 m2fa_pending_login_password(pending, small, sizeof small, &needed));
    CHECK(all_bytes_are(small, sizeof small, SENTINEL_BYTE));
    char password[64];
    if (CHECK(needed <= sizeof password) &&
        CHECK_STATUS(M2FA_OK,
                     m2fa_pending_login_password(pending, password, sizeof password, &needed))) {
        CHECK_STR(password, want);
    }
    wipe_memset(password, 0, sizeof password);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_pending_login_password(NULL, password, 64, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_pending_login_password(pending, password, 64, NULL));
}

void test_pending_login(void)
{
    section = "pending login (PAM)";
    m2fa_engine *engine = new_engine(NULL);
    struct user dave = {.engine = engine, .platform = PLATFORM, .name = "dave@example.com"};
    m2fa_login *imap = imap_login(M2FA_PROTOCOL_IMAP, NULL);
    m2fa_login *smtp = imap_login(M2FA_PROTOCOL_SMTP, NULL);
    m2fa_pending_login *pending = NULL, *later = NULL;
    char code[CODE_SIZE], input[64], app[M2FA_APP_PASSWORD_SIZE] = "";
    if (engine == NULL || imap == NULL || smtp == NULL || !enroll(&dave, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM,
                                                               M2FA_PROTOCOL_IMAP, NULL,
                                                               M2FA_POLICY_CODE_IN_LOGIN))) {
        goto out;
    }
    uint64_t now = quiet_time(&dave, T0 + 600, 2);

    /* PAM's order: is it an application password (no), the host's module
     * checks the password part, then the decision with the code. */
    snprintf(input, sizeof input, PASSWORD "%s", code_at(&dave, now, code));
    pending = begin(&dave, imap, input, now);
    if (pending == NULL) {
        goto out;
    }
    check_password_part(pending, PASSWORD);
    FINISH(&dave, pending, M2FA_PASSWORD_WRONG, now, M2FA_OK, M2FA_OUTCOME_REFUSED,
           M2FA_REASON_WRONG_PASSWORD, code);
    FINISH(&dave, pending, M2FA_PASSWORD_UNAVAILABLE, now, M2FA_PASSWORD_CHECK_FAILED, 0, 0,
           code);
    FINISH(&dave, pending, 3, now, M2FA_UNKNOWN_ENUM_VALUE, 0, 0, code);
    FINISH(&dave, pending, M2FA_PASSWORD_CORRECT, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
           M2FA_REASON_CODE_ACCEPTED, code);
    /* Finished again on the records read before the code was used: the
     * engine's compare-and-swap sees the change, the code is not taken twice. */
    FINISH(&dave, pending, M2FA_PASSWORD_CORRECT, now + 1, M2FA_OK, M2FA_OUTCOME_REFUSED,
           M2FA_REASON_REPLAYED, code);
    /* Decided as of the records begin read: up to 60 s later, not after. */
    FINISH(&dave, pending, M2FA_PASSWORD_CORRECT, now + 60, M2FA_OK, M2FA_OUTCOME_REFUSED,
           M2FA_REASON_REPLAYED, code);
    FINISH(&dave, pending, M2FA_PASSWORD_CORRECT, now + 61, M2FA_INVALID_INPUT, 0, 0, code);
    FINISH(&dave, pending, M2FA_PASSWORD_WRONG, now + 3600, M2FA_INVALID_INPUT, 0, 0, code);
    m2fa_decision *d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_pending_login_finish(NULL, 1, now, &d));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_pending_login_finish(pending, 1, now, NULL));
    CHECK(d == SENTINEL_HANDLE);

    /* The password alone: no code split off, the whole input is checked. */
    later = begin(&dave, imap, PASSWORD, now);
    if (later != NULL) {
        check_password_part(later, PASSWORD);
        FINISH(&dave, later, M2FA_PASSWORD_CORRECT, now, M2FA_OK,
               M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE, NULL);
        m2fa_pending_login_free(later);
        later = NULL;
    }

    /* An application password ends a PAM stack at its first line. */
    if (app_password(&dave, now, app)) {
        later = begin(&dave, smtp, app, now);
        if (later != NULL) {
            check_password_part(later, app);
            FINISH(&dave, later, M2FA_PASSWORD_WRONG, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
                   M2FA_REASON_APP_PASSWORD, app);
        }
    }

    /* Refused input: nothing begun. */
    m2fa_pending_login *none = SENTINEL_HANDLE;
    char *big = malloc(4098);
    if (CHECK(big != NULL)) {
        memset(big, 'a', 4097);
        big[4097] = '\0';
        CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_begin_login(engine, PLATFORM, dave.name,
                                                                 imap, big, now, &none));
        free(big);
    }
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_begin_login(engine, PLATFORM, dave.name, imap,
                                                            not_utf8, now, &none));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_begin_login(engine, PLATFORM, dave.name, NULL,
                                                             input, now, &none));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_begin_login(engine, PLATFORM, dave.name, imap,
                                                             NULL, now, &none));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_begin_login(engine, PLATFORM, dave.name, imap,
                                                             input, now, NULL));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_begin_login(engine, PLATFORM, "Dave@example.com",
                                                            imap, input, now, &none));
    CHECK(none == SENTINEL_HANDLE);
    m2fa_pending_login_free(NULL);

    /* A pending login keeps its engine's store: it may be finished after
     * the engine handle is freed (AddressSanitizer watches). */
    now += 60;
    snprintf(input, sizeof input, PASSWORD "%s", code_at(&dave, now, code));
    m2fa_pending_login_free(pending);
    pending = begin(&dave, imap, input, now);
    m2fa_engine_free(engine);
    engine = NULL;
    if (pending != NULL) {
        FINISH(&dave, pending, M2FA_PASSWORD_CORRECT, now, M2FA_OK, M2FA_OUTCOME_ALLOWED,
               M2FA_REASON_CODE_ACCEPTED, code);
    }
out:
    wipe_memset(input, 0, sizeof input);
    wipe_memset(app, 0, sizeof app);
    m2fa_pending_login_free(pending);
    m2fa_pending_login_free(later);
    m2fa_login_free(imap);
    m2fa_login_free(smtp);
    user_free(&dave);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Threads: the same password+code from 16 threads at once, through
 * m2fa_engine_check_login and through one shared pending login
 * ------------------------------------------------------------------------ */

#define LOGIN_RACERS 16
#define LOGIN_ROUNDS 10

static struct {
    const m2fa_engine *engine;
    const char *account;
    const m2fa_login *login;
    const m2fa_pending_login *pending; /* NULL: m2fa_engine_check_login */
    char input[64];
    uint64_t now;
    uint32_t outcome[LOGIN_RACERS], reason[LOGIN_RACERS];
    m2fa_status status[LOGIN_RACERS];
    pthread_barrier_t start;
} login_race;

static int always_right(void *user_data, const char *password, size_t password_len)
{
    (void)user_data;
    (void)password;
    (void)password_len;
    return 1;
}

static void *login_racer(void *arg)
{
    const size_t id = (size_t)(uintptr_t)arg;
    m2fa_decision *d = NULL;
    pthread_barrier_wait(&login_race.start);
    login_race.status[id] =
        login_race.pending != NULL
            ? m2fa_pending_login_finish(login_race.pending, M2FA_PASSWORD_CORRECT,
                                        login_race.now, &d)
            : m2fa_engine_check_login(login_race.engine, PLATFORM, login_race.account,
                                      login_race.login, login_race.input, always_right, NULL,
                                      login_race.now, &d);
    login_race.outcome[id] = login_race.reason[id] = SENTINEL_U32;
    if (login_race.status[id] == M2FA_OK) {
        m2fa_decision_outcome(d, &login_race.outcome[id]);
        m2fa_decision_reason(d, &login_race.reason[id]);
    }
    m2fa_decision_free(d);
    return NULL;
}

/* One round: LOGIN_RACERS threads at once; exactly one gets in. */
static void login_round(void)
{
    pthread_t threads[LOGIN_RACERS];
    if (!CHECK(pthread_barrier_init(&login_race.start, NULL, LOGIN_RACERS) == 0)) {
        return;
    }
    for (size_t t = 0; t < LOGIN_RACERS; t++) {
        if (!CHECK(pthread_create(&threads[t], NULL, login_racer, (void *)(uintptr_t)t) == 0)) {
            fprintf(stderr, "engine_test: cannot start threads\n");
            exit(EXIT_FAILURE);
        }
    }
    unsigned allowed = 0, replayed = 0;
    for (size_t t = 0; t < LOGIN_RACERS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK_STATUS(M2FA_OK, login_race.status[t]);
        allowed += login_race.outcome[t] == M2FA_OUTCOME_ALLOWED &&
                   login_race.reason[t] == M2FA_REASON_CODE_ACCEPTED;
        replayed += login_race.outcome[t] == M2FA_OUTCOME_REFUSED &&
                    login_race.reason[t] == M2FA_REASON_REPLAYED;
    }
    CHECK_EQ(allowed, 1);
    CHECK_EQ(replayed, LOGIN_RACERS - 1);
    pthread_barrier_destroy(&login_race.start);
}

void test_check_login_threads(void)
{
    section = "one-call login, 16 threads";
    m2fa_engine *engine = new_engine(NULL);
    struct user ivy = {.engine = engine, .platform = PLATFORM, .name = "ivy@example.com"};
    m2fa_login *imap = imap_login(M2FA_PROTOCOL_IMAP, NULL);
    char code[CODE_SIZE];
    if (engine == NULL || imap == NULL || !enroll(&ivy, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM,
                                                               M2FA_PROTOCOL_IMAP, NULL,
                                                               M2FA_POLICY_CODE_IN_LOGIN))) {
        goto out;
    }
    login_race.engine = engine;
    login_race.account = ivy.name;
    login_race.login = imap;
    for (unsigned round = 0; round < 2 * LOGIN_ROUNDS; round++) {
        /* Rounds 3 steps apart: each round's code is past the last one's window. */
        login_race.now = T0 + 90 * (uint64_t)(round + 1);
        snprintf(login_race.input, sizeof login_race.input, PASSWORD "%s",
                 code_at(&ivy, login_race.now, code));
        m2fa_pending_login *pending = NULL;
        /* Odd rounds: one pending login, finished by every thread. */
        if (round % 2 == 1 &&
            !CHECK_STATUS(M2FA_OK, m2fa_engine_begin_login(engine, PLATFORM, ivy.name, imap,
                                                           login_race.input, login_race.now,
                                                           &pending))) {
            break;
        }
        login_race.pending = pending;
        login_round();
        m2fa_pending_login_free(pending);
        login_race.pending = NULL;
    }
out:
    wipe_memset(login_race.input, 0, sizeof login_race.input);
    m2fa_login_free(imap);
    user_free(&ivy);
    m2fa_engine_free(engine);
}

/*
 * engine_test on a host-provided store: every engine made by
 * m2fa_engine_with_store over the table of ../../table_store.h instead of
 * the built-in in-memory store (scripts/test-c.sh, "host store"), plus what
 * only a host store can do wrong.
 */

#include "../fixture.h"

#include "../../table_store.h"

/* What only a host store can do wrong: missing callbacks, failing ones. */
static void test_host_store(void)
{
    section = "host store";
    struct table *t = table_new();
    m2fa_engine *engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, NULL, table_cas, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, NULL, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, NULL));
    CHECK(engine == SENTINEL_HANDLE);
    /* The device key is read from the store when the engine is made: a
     * failing store refuses to make it, and the table stays ours. */
    t->fail_next = 1;
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_account(engine, PLATFORM, "ann@example.com",
                                                         UINT64_C(1800000000), &d));
        m2fa_decision_free(d);
        /* A host store cannot list its records: no maintenance. */
        uint64_t examined = SENTINEL_U64, changed = SENTINEL_U64;
        uint32_t finished = SENTINEL_U32;
        CHECK_STATUS(M2FA_UNSUPPORTED, m2fa_engine_maintain(engine, UINT64_C(1800000000), 10,
                                                            &examined, &changed, &finished));
        CHECK(examined == SENTINEL_U64 && changed == SENTINEL_U64 && finished == SENTINEL_U32);
        /* A backend failure refuses the login: never "no 2FA". */
        t->fail_next = 1;
        d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_STORAGE_FAILURE,
                     m2fa_engine_login(engine, PLATFORM, "ann@example.com", "123456",
                                       UINT64_C(1800000000), &d));
        CHECK(d == SENTINEL_HANDLE);
        m2fa_engine_free(engine); /* frees the table */
    } else {
        table_free(t);
    }
}

static int password_is_pw(void *user_data, const char *password, size_t password_len)
{
    (void)user_data;
    return password_len == 2 && memcmp(password, "pw", 2) == 0;
}

/* A code login reads each record at most once: the account's and its
 * platform's, and the clients record where a binding is looked for — with
 * m2fa_engine_check_login and with the PAM form (begin, finish as "not the
 * password", finish as "the password"). The host's three steps (split,
 * its check, authenticate) read the account twice: the counter sees it. */
static void test_code_login_reads_once(void)
{
    section = "host store: one read per record";
    struct table *t = table_new();
    m2fa_engine *engine = NULL;
    if (!CHECK(t != NULL) ||
        !CHECK_STATUS(M2FA_OK,
                      m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine))) {
        if (t != NULL) {
            table_free(t);
        }
        return;
    }
    struct user ann = {.engine = engine, .platform = PLATFORM, .name = "ann@example.com"};
    m2fa_login *login = NULL;
    char code[CODE_SIZE], input[32];
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1)) ||
        !CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM,
                                                               M2FA_PROTOCOL_IMAP, NULL,
                                                               M2FA_POLICY_CODE_IN_LOGIN)) ||
        !enroll(&ann, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_new(M2FA_PROTOCOL_IMAP, NULL, &login)) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, "dev-1", "Phone", "Mail/1.0",
                                                     "203.0.113.7"))) {
        goto out;
    }
    uint64_t now = quiet_time(&ann, T0 + 600, 2);
    const uint32_t allowed = M2FA_OUTCOME_ALLOWED;

    /* One call. */
    snprintf(input, sizeof input, "pw%s", code_at(&ann, now, code));
    m2fa_decision *d = NULL;
    uint32_t outcome = 0;
    table_count_loads(t);
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_check_login(engine, PLATFORM, ann.name, login, input,
                                                      password_is_pw, NULL, now, &d))) {
        CHECK(m2fa_decision_outcome(d, &outcome) == M2FA_OK && outcome == allowed);
    }
    m2fa_decision_free(d);
    d = NULL;
    CHECK_EQ(t->reloads, 0);
    CHECK_EQ(t->loads, 3); /* account, platform, clients (binding) */

    /* The PAM form: three lines of the stack, one read of each record. */
    now += 60;
    snprintf(input, sizeof input, "pw%s", code_at(&ann, now, code));
    m2fa_pending_login *pending = NULL;
    table_count_loads(t);
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_begin_login(engine, PLATFORM, ann.name, login, input,
                                                      now, &pending))) {
        CHECK_STATUS(M2FA_OK, m2fa_pending_login_finish(pending, M2FA_PASSWORD_WRONG, now, &d));
        m2fa_decision_free(d);
        d = NULL;
        if (CHECK_STATUS(M2FA_OK,
                         m2fa_pending_login_finish(pending, M2FA_PASSWORD_CORRECT, now, &d))) {
            CHECK(m2fa_decision_outcome(d, &outcome) == M2FA_OK && outcome == allowed);
        }
        m2fa_decision_free(d);
        d = NULL;
    }
    m2fa_pending_login_free(pending);
    CHECK_EQ(t->reloads, 0);
    CHECK_EQ(t->loads, 3);

    /* The host's three steps: the account is read by the split and again
     * by authenticate. */
    now += 60;
    snprintf(input, sizeof input, "pw%s", code_at(&ann, now, code));
    size_t password_len = 0;
    uint32_t has_code = 0;
    table_count_loads(t);
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_split_login_for(engine, PLATFORM, ann.name,
                                                          M2FA_PROTOCOL_IMAP, NULL, input, now,
                                                          &password_len, &has_code)) &&
        CHECK(has_code == 1) &&
        CHECK_STATUS(M2FA_OK,
                     m2fa_login_set_password_and_code(login, 1, input + password_len)) &&
        CHECK_STATUS(M2FA_OK,
                     m2fa_engine_authenticate(engine, PLATFORM, ann.name, login, now, &d))) {
        CHECK(m2fa_decision_outcome(d, &outcome) == M2FA_OK && outcome == allowed);
    }
    m2fa_decision_free(d);
    CHECK(t->reloads > 0);
out:
    wipe_memset(input, 0, sizeof input);
    m2fa_login_free(login);
    user_free(&ann);
    m2fa_engine_free(engine); /* frees the table */
}

static void own_tests(void)
{
    test_host_store();
    test_code_login_reads_once();
}

const struct store_variant store = {
    .name = "host table store",
    .engine_new = table_engine_new,
    .fresh_postgres_url = NULL,
    .own_tests = own_tests,
};

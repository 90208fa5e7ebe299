/*
 * engine_test on PostgreSQL: every engine made by m2fa_engine_open_postgres
 * in a fresh schema of $MAIL2FA_TEST_POSTGRES (../../pg_store.h;
 * scripts/test-c.sh, "PostgreSQL"), plus the fail-closed checks of a
 * PostgreSQL schema.
 */

#include "../fixture.h"

#include "../../pg_store.h"

/* Opening url with config (NULL: defaults) is refused; had it opened, no
 * login of `name` may pass without a code. */
static void expect_postgres_refused(const char *url, const m2fa_engine_config *config,
                                    const char *name, uint64_t now)
{
    m2fa_engine *engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open_postgres(url, config, &engine));
    if (!CHECK(engine == SENTINEL_HANDLE) && engine != NULL) {
        uint32_t outcome = SENTINEL_U32;
        CHECK(codeless_login(engine, name, now, &outcome) != M2FA_OK ||
              outcome != M2FA_OUTCOME_ALLOWED);
        m2fa_engine_free(engine);
    }
}

/* The same on PostgreSQL (issue 14): m2fa_engine_open_postgres creates no
 * schema by default, so a fresh schema or dropped mail2fa tables refuse to
 * open (never M2FA_OK and then "no second factor"); only create = 1 builds
 * the schema. */
static void test_postgres_state_fails_closed(void)
{
    section = "PostgreSQL state fails closed";
    char url[4096];
    pg_fresh_schema_url(url, sizeof url);
    m2fa_engine_config *config = NULL, *creating = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creating));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(creating, 1, 5000, 1));
    m2fa_engine *engine = NULL;
    uint32_t outcome = SENTINEL_U32;
    struct user alice = {.platform = PLATFORM, .name = "alice@example.com"};

    /* A schema without the mail2fa tables: the defaults (NULL config, a
     * new config) create nothing; only create = 1 does. */
    expect_postgres_refused(url, NULL, alice.name, T0);
    expect_postgres_refused(url, config, alice.name, T0);
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, creating, &engine))) {
        alice.engine = engine;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        CHECK(enroll(&alice, T0));
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 60, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);
    user_free(&alice);

    /* Reopened by default: the code is still asked for. */
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, NULL, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* The mail2fa tables dropped: refused by the defaults, not rebuilt. */
    pg_sql(url, "DROP TABLE m2fa_records, m2fa_meta; DROP SEQUENCE m2fa_versions");
    expect_postgres_refused(url, NULL, alice.name, T0 + 120);
    expect_postgres_refused(url, config, alice.name, T0 + 120);
    m2fa_engine_config_free(creating);
    m2fa_engine_config_free(config);
}

const struct store_variant store = {
    .name = "PostgreSQL",
    .engine_new = pg_engine_new,
    .fresh_postgres_url = pg_fresh_schema_url,
    .own_tests = test_postgres_state_fails_closed,
};

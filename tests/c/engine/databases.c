/*
 * engine_test: engines on databases. m2fa_engine_open_postgres and its
 * settings; state cannot turn 2FA off (issue 14): m2fa_engine_open creates
 * nothing by default, a truncated or deleted database refuses to open.
 */

#include "fixture.h"

#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* truncate, unlink, rmdir, access */

#include "tests.h"

/* m2fa_engine_open_postgres and its settings. Misuse is checked on every
 * store; on PostgreSQL (store.fresh_postgres_url) also opening a real
 * database. */
void test_postgres_entry_points(void)
{
    section = "PostgreSQL entry points";
    m2fa_engine_config *config = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_postgres(NULL, 4, 5000, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_postgres(config, 0, 5000, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_postgres(config, 4, 0, 1));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(config, 2, 2000, 0));

    m2fa_engine *engine = SENTINEL_HANDLE;
    const char not_utf8[] = {'h', 'o', 's', 't', '=', (char)0xff, '\0'};
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open_postgres(NULL, config, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_open_postgres("host=127.0.0.1", config, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_open_postgres(not_utf8, config, &engine));
    /* Bad strings and unreachable servers: a storage failure, no handle. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_open_postgres("host=127.0.0.1 sslmode=allow", config, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_open_postgres("postgres://u:p@127.0.0.1:1/db", config, &engine));
    CHECK(engine == SENTINEL_HANDLE);

    if (store.fresh_postgres_url == NULL) {
        m2fa_engine_config_free(config);
        return;
    }
    char url[4096];
    store.fresh_postgres_url(url, sizeof url);
    /* create = 0: an empty database is refused, and stays empty. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open_postgres(url, config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    /* Created by an engine that asks for it (create = 1), then shared: what
     * one engine consumes, the other refuses. */
    m2fa_engine_config *creator = NULL;
    m2fa_engine *first = NULL, *second = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creator)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(creator, 2, 5000, 1)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, creator, &first)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, config, &second))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(first, PLATFORM, 1));
        struct user on_first = {.engine = first, .platform = PLATFORM, .name = "pg@example.com"};
        if (enroll(&on_first, T0)) {
            struct user on_second = on_first;
            on_second.engine = second;
            char code[CODE_SIZE];
            uint64_t q = quiet_time(&on_first, T0 + 600, 12);
            /* Consumed through the second engine, replayed on the first. */
            EXPECT_LOGIN(&on_second, code_at(&on_first, q, code), q, M2FA_OUTCOME_ALLOWED,
                         M2FA_REASON_CODE_ACCEPTED);
            EXPECT_LOGIN(&on_first, code, q, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
            EXPECT_LOGIN(&on_second, code, q, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
        }
        user_free(&on_first);
    }
    m2fa_engine_free(second);
    m2fa_engine_free(first);
    m2fa_engine_config_free(creator);
    m2fa_engine_config_free(config);
}

/* ------------------------------------------------------------------------
 * State cannot turn 2FA off (issue 14): m2fa_engine_open creates nothing by
 * default, a truncated or deleted database refuses to open (never M2FA_OK
 * and then "no second factor"), and with encryption keys a record written
 * in clear is refused unless m2fa_engine_config_set_require_sealed(0).
 * ------------------------------------------------------------------------ */

void test_state_fails_closed(void)
{
    section = "state fails closed";
    char dir[128], db[192], wal[200], shm[200];
    snprintf(dir, sizeof dir, "/tmp/m2fa-c-state-%ld", (long)getpid());
    if (!CHECK(mkdir(dir, 0700) == 0)) {
        return;
    }
    snprintf(db, sizeof db, "%s/mail2fa.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);

    m2fa_engine_config *config = NULL, *creating = NULL, *sealed = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creating));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&sealed));
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_config_set_sqlite(creating, M2FA_SYNCHRONOUS_FULL, 5000, 1));
    m2fa_engine *engine = SENTINEL_HANDLE;
    uint32_t outcome = SENTINEL_U32;

    /* A missing file: the defaults (NULL config, a new config) create
     * nothing; only create = 1 does. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    CHECK(access(db, F_OK) != 0);
    struct user alice = {.platform = PLATFORM, .name = "alice@example.com"};
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, creating, &engine))) {
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
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, NULL, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* With keys, the record written in clear is refused (copied over a
     * sealed one, it must not be used); require_sealed = 0 reads it. */
    static const uint8_t key[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(sealed, 1, key, 32, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_require_sealed(NULL, 1));
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, sealed, &engine))) {
        CHECK_STATUS(M2FA_ENCRYPTION_FAILURE,
                     codeless_login(engine, alice.name, T0 + 90, &outcome));
    }
    m2fa_engine_free(engine);
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_require_sealed(sealed, 0));
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, sealed, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* `truncate -s 0`, then opened with create = 0 (what the PAM and Lua
     * modules do) and with the defaults: refused, the file left empty. */
    CHECK(truncate(db, 0) == 0);
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, 5000, 0));
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, config, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    if (engine != SENTINEL_HANDLE && engine != NULL) {
        /* Had it opened: no login may pass without a code. */
        CHECK(codeless_login(engine, alice.name, T0 + 120, &outcome) != M2FA_OK ||
              outcome != M2FA_OUTCOME_ALLOWED);
        m2fa_engine_free(engine);
    }
    struct stat st;
    CHECK(stat(db, &st) == 0 && st.st_size == 0);

    /* Deleted: refused by the default opener, and not created. */
    CHECK(unlink(db) == 0);
    unlink(wal);
    unlink(shm);
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    CHECK(access(db, F_OK) != 0);

    m2fa_engine_config_free(sealed);
    m2fa_engine_config_free(creating);
    m2fa_engine_config_free(config);
    unlink(db);
    unlink(wal);
    unlink(shm);
    CHECK(rmdir(dir) == 0);
}

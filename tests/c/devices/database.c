/*
 * devices_test: the engine on a SQLite database (m2fa_engine_open,
 * m2fa_engine_config_set_sqlite): a code consumed through one handle is a
 * replay through another on the same file and after a restart; links and
 * missing files (without creation) are refused.
 */

#include "fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

/* ------------------------------------------------------------------------
 * The engine on a SQLite database (m2fa_engine_open): durable across
 * handles and restarts, shared by two handles at once, refusing links.
 * ------------------------------------------------------------------------ */

void test_database(void)
{
    section = "database";
    char path[256], wal[270], shm[270], link[270], missing[270];
    snprintf(path, sizeof path, "/tmp/m2fa-c-test-%ld.db", (long)getpid());
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    snprintf(link, sizeof link, "%s.link", path);
    snprintf(missing, sizeof missing, "%s.missing", path);
    unlink(path);
    unlink(link);

    m2fa_engine_config *config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, 2000, 1));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_config_set_sqlite(config, 9, 2000, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_config_set_sqlite(NULL, M2FA_SYNCHRONOUS_NORMAL, 1, 1));

    m2fa_engine *first = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open(NULL, config, &first));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_open(not_utf8, config, &first));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open(path, config, NULL));
    CHECK(first == SENTINEL_HANDLE);
    first = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_open(path, config, &first))) {
        m2fa_engine_config_free(config);
        return;
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(first, PLATFORM, 1));
    struct user kim = {first, "kim@example.com", NULL};
    const uint64_t now = T0;
    char code[CODE_SIZE], next[CODE_SIZE];
    if (enroll(&kim, now)) {
        /* A second handle on the same file, as another auth process. */
        m2fa_engine *second = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_engine_open(path, NULL, &second));
        struct user kim2 = {second, kim.name, kim.phone};
        code_at(&kim, now + 30, code);
        login_expect(&kim, code, now + 30, M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);
        login_expect(&kim2, code, now + 31, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
        m2fa_engine_free(second);

        /* A restart: everything closed, then opened again. */
        m2fa_engine_free(first);
        first = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_engine_open(path, config, &first));
        kim.engine = first;
        login_expect(&kim, code, now + 32, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
        login_expect(&kim, code_at(&kim, now + 60, next), now + 60, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_CODE_ACCEPTED);
        /* Maintenance walks the database in batches. */
        uint64_t examined = SENTINEL_U64, changed = SENTINEL_U64, total = 0;
        uint32_t finished = 0;
        for (int call = 0; call < 100 && !finished; call++) {
            if (!CHECK_STATUS(M2FA_OK, m2fa_engine_maintain(first, now + 60, 1, &examined,
                                                            &changed, &finished))) {
                break;
            }
            CHECK(examined <= 1);
            CHECK_EQ(changed, 0);
            total += examined;
        }
        CHECK(finished == 1);
        CHECK(total >= 3); /* device key, platform, account at least */
        CHECK_STATUS(M2FA_INVALID_CONFIG,
                     m2fa_engine_maintain(first, now, 0, &examined, &changed, &finished));
        CHECK_STATUS(M2FA_NULL_ARGUMENT,
                     m2fa_engine_maintain(first, now, 1, NULL, &changed, &finished));
        CHECK_STATUS(M2FA_NULL_ARGUMENT,
                     m2fa_engine_maintain(NULL, now, 1, &examined, &changed, &finished));
    }
    user_free(&kim);

    /* A link to the database, and a missing file without creation: refused. */
    m2fa_engine *refused = SENTINEL_HANDLE;
    if (CHECK(symlink(path, link) == 0)) {
        CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(link, NULL, &refused));
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_NORMAL, 100, 0));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(missing, config, &refused));
    CHECK(refused == SENTINEL_HANDLE);
    CHECK(access(missing, F_OK) != 0);

    m2fa_engine_free(first);
    m2fa_engine_config_free(config);
    unlink(link);
    unlink(path);
    unlink(wal);
    unlink(shm);

    /* Encryption at rest: sealed with a key, refused without it. */
    static const uint8_t key1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint8_t key2[32] = {32, 31, 30};
    config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_add_encryption_key(config, 1, key1, 32, 0));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_add_encryption_key(config, 1, key1, 31, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_add_encryption_key(config, 1, NULL, 32, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_add_encryption_key(NULL, 1, key1, 32, 1));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(config, 1, key1, 32, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_add_encryption_key(config, 1, key2, 32, 0));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(config, 2, key2, 32, 1));
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, 5000, 1));
    m2fa_engine *sealed = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(path, config, &sealed))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(sealed, PLATFORM, 1));
        struct user lee = {sealed, "lee@example.com", NULL};
        if (enroll(&lee, T0)) {
            m2fa_engine *keyless = NULL;
            m2fa_decision *d = SENTINEL_HANDLE;
            CHECK_STATUS(M2FA_OK, m2fa_engine_open(path, NULL, &keyless));
            CHECK_STATUS(M2FA_ENCRYPTION_FAILURE,
                         m2fa_engine_login(keyless, PLATFORM, lee.name, code_at(&lee, T0 + 30, code),
                                           T0 + 30, &d));
            CHECK(d == SENTINEL_HANDLE);
            m2fa_engine_free(keyless);
            login_expect(&lee, code_at(&lee, T0 + 30, code), T0 + 30, M2FA_OUTCOME_ALLOWED,
                         M2FA_REASON_CODE_ACCEPTED);
        }
        user_free(&lee);
    }
    m2fa_engine_free(sealed);
    m2fa_engine_config_free(config);
    unlink(path);
    unlink(wal);
    unlink(shm);
}

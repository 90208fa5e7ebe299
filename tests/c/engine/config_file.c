/*
 * engine_test: an engine opened from a configuration file
 * (m2fa_engine_open_config, m2fa_engine_open_config_message): the store,
 * the TOTP digits and the lockout the file names are the ones the engine
 * uses; a damaged file is refused with its line and column, a missing one
 * and one others may write are refused naming the file.
 */

#include "fixture.h"

#include <sys/stat.h> /* mkdir, chmod */
#include <unistd.h>   /* unlink, rmdir, access */

#include "tests.h"

/* Writes `text` to `path` with `mode`; true on success. */
static bool write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return false;
    }
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok && chmod(path, mode) == 0;
}

/* Opens `path` with the message variant; the status, and the message in `msg`. */
static m2fa_status open_explained(const char *path, m2fa_engine **engine, char *msg,
                                  size_t len, size_t *needed)
{
    msg[0] = '\0';
    return m2fa_engine_open_config_message(path, engine, msg, len, needed);
}

void test_config_file(void)
{
    section = "configuration file";
    char dir[128], db[192], file[192], text[1024], msg[512];
    snprintf(dir, sizeof dir, "/tmp/m2fa-c-config-%ld", (long)getpid());
    if (!CHECK(mkdir(dir, 0700) == 0)) {
        return;
    }
    snprintf(db, sizeof db, "%s/mail2fa.db", dir);
    snprintf(file, sizeof file, "%s/mail2fa.toml", dir);
    size_t needed = SIZE_MAX;
    m2fa_engine *engine = SENTINEL_HANDLE;

    /* Misuse: NULL arguments, invalid UTF-8. */
    const char not_utf8[] = {'/', 't', (char)0xff, '\0'};
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open_config(NULL, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open_config(file, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_open_config(not_utf8, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_open_config_message(file, &engine, msg, sizeof msg, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_open_config_message(file, NULL, msg, sizeof msg, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, open_explained(NULL, &engine, msg, sizeof msg, &needed));
    CHECK(strlen(msg) > 0 && needed == strlen(msg) + 1);
    CHECK(engine == SENTINEL_HANDLE);

    /* A missing file: refused, named. */
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE, m2fa_engine_open_config(file, &engine));
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE,
                 open_explained(file, &engine, msg, sizeof msg, &needed));
    CHECK(strstr(msg, file) != NULL);
    CHECK(engine == SENTINEL_HANDLE);

    /* A good file: 8-digit codes, a lock after 3 wrong codes, its SQLite
     * database created (the file says so). */
    snprintf(text, sizeof text,
             "# a test configuration\n"
             "[store]\n"
             "sqlite_path = \"%s\"\n"
             "create = true\n"
             "\n"
             "[totp]\n"
             "digits = 8\n"
             "\n"
             "[lockout]\n"
             "max_failures = 3\n",
             db);
    CHECK(write_file(file, text, 0600));
    engine = NULL;
    struct user alice = {.platform = PLATFORM, .name = "alice@example.com"};
    if (CHECK_STATUS(M2FA_OK, open_explained(file, &engine, msg, sizeof msg, &needed))) {
        CHECK(msg[0] == '\0'); /* nothing written on success */
        alice.engine = engine;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        if (CHECK(enroll(&alice, T0))) {
            CHECK_EQ(alice.digits, 8);
            char code[CODE_SIZE], wrong[CODE_SIZE];
            unsigned counter = 0;
            uint64_t now = quiet_time(&alice, T0 + 600, 12);
            CHECK_EQ(strlen(code_at(&alice, now, code)), 8);
            EXPECT_LOGIN(&alice, code, now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);
            now += 600;
            for (int i = 0; i < 3; i++) {
                EXPECT_LOGIN(&alice, wrong_code(&alice, now, &counter, wrong), now,
                             M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
            }
            /* Locked after the third (the default would wait for five). */
            EXPECT_LOGIN(&alice, code_at(&alice, now, code), now, M2FA_OUTCOME_REFUSED,
                         M2FA_REASON_LOCKED);
        }
    }
    m2fa_engine_free(engine);
    user_free(&alice);
    CHECK(access(db, F_OK) == 0);

    /* Reopened through the two-argument form: the same state. */
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open_config(file, &engine))) {
        uint32_t outcome = SENTINEL_U32;
        CHECK_STATUS(M2FA_OK, codeless_login(engine, "alice@example.com", T0 + 4000, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* Others may write it: refused, with the fix. */
    CHECK(chmod(file, 0666) == 0);
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE,
                 open_explained(file, &engine, msg, sizeof msg, &needed));
    CHECK(strstr(msg, file) != NULL && strstr(msg, "chmod") != NULL);
    CHECK(engine == SENTINEL_HANDLE);

    /* Damaged: a misspelt key on line 4, column 1. */
    snprintf(text, sizeof text,
             "[store]\nsqlite_path = \"%s\"\ncreate = false\nsyncronous = \"full\"\n", db);
    CHECK(write_file(file, text, 0600));
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE,
                 open_explained(file, &engine, msg, sizeof msg, &needed));
    char where[256];
    snprintf(where, sizeof where, "%s:4:1:", file);
    if (!CHECK(strstr(msg, where) == msg && strstr(msg, "syncronous") != NULL)) {
        printf("    message: %s\n", msg);
    }
    CHECK(needed == strlen(msg) + 1);
    /* Cut to a small buffer: still NUL-terminated, the whole size told. */
    size_t whole = needed;
    char small[8];
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE,
                 open_explained(file, &engine, small, sizeof small, &needed));
    CHECK(strlen(small) == sizeof small - 1 && needed == whole);
    CHECK_STATUS(M2FA_INVALID_CONFIG_FILE,
                 m2fa_engine_open_config_message(file, &engine, NULL, 0, &needed));
    CHECK(needed == whole);
    CHECK(engine == SENTINEL_HANDLE);

    /* A store that does not exist, and may not be created: a storage
     * failure, nothing created. */
    unlink(db);
    snprintf(text, sizeof text, "[store]\nsqlite_path = \"%s\"\n", db);
    CHECK(write_file(file, text, 0600));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, open_explained(file, &engine, msg, sizeof msg, &needed));
    CHECK(strstr(msg, file) != NULL);
    CHECK(access(db, F_OK) != 0);
    CHECK(engine == SENTINEL_HANDLE);

    char wal[200], shm[200];
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);
    unlink(wal);
    unlink(shm);
    unlink(file);
    CHECK(rmdir(dir) == 0);
}

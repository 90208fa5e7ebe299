/*
 * devices_test: encryption keys from a key file
 * (m2fa_engine_config_load_key_file).
 */

#include "fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

/* ------------------------------------------------------------------------
 * Encryption keys from a key file (m2fa_engine_config_load_key_file): the
 * file's keys are the ones the engine uses, they replace the keys set
 * before and compose with m2fa_engine_config_add_encryption_key; bad files
 * are refused and leave the configuration's keys alone.
 * ------------------------------------------------------------------------ */

#define KEY_PATH_SIZE 320

/* "ID:<64 hex digits>\n" */
static void key_line(char *out, size_t size, uint32_t id, const uint8_t key[32])
{
    int n = snprintf(out, size, "%" PRIu32 ":", id);
    for (size_t i = 0; i < 32 && n > 0 && (size_t)n + 3 < size; i++) {
        n += snprintf(out + n, size - (size_t)n, "%02x", key[i]);
    }
    if (n > 0 && (size_t)n + 1 < size) {
        out[n] = '\n';
        out[n + 1] = '\0';
    }
}

/* Writes `len` bytes of `text` to dir/name, then gives it `mode`. */
static const char *write_key_file(char path[KEY_PATH_SIZE], const char *dir, const char *name,
                                  const char *text, size_t len, mode_t mode)
{
    snprintf(path, KEY_PATH_SIZE, "%s/%s", dir, name);
    unlink(path);
    FILE *file = fopen(path, "w");
    if (!CHECK(file != NULL)) {
        return path;
    }
    CHECK(fwrite(text, 1, len, file) == len);
    CHECK(fclose(file) == 0);
    CHECK(chmod(path, mode) == 0);
    return path;
}

#define KEY_FILE(path, name, text, mode) \
    write_key_file((path), dir, (name), (text), strlen(text), (mode))

/* An engine on the database with `config`, or NULL (checked). */
static m2fa_engine *open_keyed(const char *db, const m2fa_engine_config *config)
{
    m2fa_engine *engine = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, config, &engine));
    return engine;
}

/* A code login of `u` on `engine`: allowed (want M2FA_OK), or the status. */
static void keyed_login(const m2fa_engine *engine, const struct user *u, uint64_t now,
                        m2fa_status want)
{
    struct user on = {engine, u->name, u->phone};
    char code[CODE_SIZE];
    if (engine == NULL) {
        return;
    }
    if (want == M2FA_OK) {
        login_expect(&on, code_at(&on, now, code), now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_CODE_ACCEPTED);
    } else {
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(want, m2fa_engine_login(engine, PLATFORM, u->name, code_at(&on, now, code),
                                             now, &d));
        if (!CHECK(d == SENTINEL_HANDLE)) {
            m2fa_decision_free(d);
        }
    }
}

void test_key_file(void)
{
    section = "key file";
    static const uint8_t key1[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                     0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                     0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17,
                                     0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f};
    static const uint8_t key2[32] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 2};
    static const uint8_t key3[32] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    char dir[128], db[KEY_PATH_SIZE], wal[KEY_PATH_SIZE + 8], shm[KEY_PATH_SIZE + 8];
    char line1[80], line2[80], line3[80], text[1024];
    char good[KEY_PATH_SIZE], one[KEY_PATH_SIZE], rotated[KEY_PATH_SIZE], bad[KEY_PATH_SIZE];
    char missing[KEY_PATH_SIZE];
    snprintf(dir, sizeof dir, "/tmp/m2fa-c-keys-%ld", (long)getpid());
    if (!CHECK(mkdir(dir, 0700) == 0)) {
        return;
    }
    snprintf(db, sizeof db, "%s/mail2fa.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);
    snprintf(missing, sizeof missing, "%s/missing.keys", dir);
    key_line(line1, sizeof line1, 1, key1);
    key_line(line2, sizeof line2, 2, key2);
    key_line(line3, sizeof line3, 3, key3);
    snprintf(text, sizeof text, "# mail2fa keys: the current key first\n\n  %s# older:\n%s",
             line2, line1);
    KEY_FILE(good, "good.keys", text, 0600);
    KEY_FILE(one, "one.keys", line1, 0400);
    snprintf(text, sizeof text, "%s%s", line3, line2);
    KEY_FILE(rotated, "rotated.keys", text, 0600);

    /* NULL arguments and a path that is not UTF-8. */
    m2fa_engine_config *config = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_load_key_file(NULL, good));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_load_key_file(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_load_key_file(NULL, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_config_load_key_file(config, not_utf8));

    /* Refused: missing, not a regular file, open to group or others. */
    CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, missing));
    CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, dir));
    static const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0601, 0660, 0666};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        KEY_FILE(bad, "open.keys", line1, open_modes[i]);
        if (!CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, bad))) {
            fprintf(stderr, "    mode %04o\n", (unsigned)open_modes[i]);
        }
    }
    /* Refused: lines that are not ID:KEY, a key id twice, no key at all. */
    const char *bad_texts[] = {
        "1:abcd\n",
        "1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
        "x:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "4294967296:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef # new\n",
        "",
        "# no key here\n\n",
    };
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        snprintf(text, sizeof text, "%s%s", i < 6 ? line2 : "", bad_texts[i]);
        KEY_FILE(bad, "bad.keys", text, 0600);
        if (!CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, bad))) {
            fprintf(stderr, "    file: %s", text);
        }
    }
    snprintf(text, sizeof text, "%s%s%s", line1, line2, line1);
    KEY_FILE(bad, "twice.keys", text, 0600);
    CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, bad));
    /* Refused: over 64 KiB, even of comments. */
    size_t big_len = 64 * 1024 + 1;
    char *big = malloc(big_len);
    if (CHECK(big != NULL)) {
        memset(big, '#', big_len);
        memcpy(big, line1, strlen(line1));
        write_key_file(bad, dir, "big.keys", big, big_len, 0600);
        CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, bad));
        free(big);
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_load_key_file(config, good));
    m2fa_engine_config_free(config);

    /* Records sealed with key 2 (added by hand). */
    m2fa_engine_config *writer = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&writer));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(writer, 2, key2, 32, 1));
    /* Creating the database is explicit (the default creates nothing). */
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_config_set_sqlite(writer, M2FA_SYNCHRONOUS_FULL, 5000, 1));
    m2fa_engine *engine = open_keyed(db, writer);
    struct user lee = {engine, "lee@example.com", NULL};
    bool enrolled = engine != NULL &&
                    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1)) &&
                    enroll(&lee, T0);
    m2fa_engine_free(engine);
    uint64_t now = T0;
    if (enrolled) {
        /* The good file (current key 2, older key 1) opens them. */
        config = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_load_key_file(config, good));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_OK);
        m2fa_engine_free(engine);
        /* A refused file leaves the keys as they were. */
        KEY_FILE(bad, "open.keys", line3, 0644);
        CHECK_STATUS(M2FA_INVALID_KEY_FILE, m2fa_engine_config_load_key_file(config, bad));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_OK);
        m2fa_engine_free(engine);
        m2fa_engine_config_free(config);

        /* The file's keys replace the keys added before: key 1 alone does
         * not open what key 2 sealed... */
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_load_key_file(writer, one));
        engine = open_keyed(db, writer);
        keyed_login(engine, &lee, now += 30, M2FA_ENCRYPTION_FAILURE);
        m2fa_engine_free(engine);
        /* ...until key 2 is added back, as the current key (the file's key
         * becomes an older one); an id of the file cannot be added twice. */
        CHECK_STATUS(M2FA_INVALID_CONFIG,
                     m2fa_engine_config_add_encryption_key(writer, 1, key3, 32, 0));
        CHECK_STATUS(M2FA_INVALID_CONFIG,
                     m2fa_engine_config_add_encryption_key(writer, 1, key3, 32, 1));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(writer, 2, key2, 32, 1));
        engine = open_keyed(db, writer);
        keyed_login(engine, &lee, now += 30, M2FA_OK);
        m2fa_engine_free(engine);
        m2fa_engine_config_free(writer);
        writer = NULL;

        /* Rotation by file: current key 3, older key 2. The login re-seals
         * the account with key 3, which key 2 alone no longer opens. */
        config = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_load_key_file(config, rotated));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_OK);
        m2fa_engine_free(engine);
        m2fa_engine_config_free(config);
        config = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(config, 2, key2, 32, 1));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_ENCRYPTION_FAILURE);
        m2fa_engine_free(engine);
        /* Loading the good file replaces key 2 by 2 and 1: still refused;
         * adding key 3 as an older key after it: opened. */
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_load_key_file(config, good));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_ENCRYPTION_FAILURE);
        m2fa_engine_free(engine);
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(config, 3, key3, 32, 0));
        engine = open_keyed(db, config);
        keyed_login(engine, &lee, now += 30, M2FA_OK);
        m2fa_engine_free(engine);
        m2fa_engine_config_free(config);
    }
    m2fa_engine_config_free(writer);
    user_free(&lee);
    wipe_memset(line1, 0, sizeof line1);
    wipe_memset(line2, 0, sizeof line2);
    wipe_memset(line3, 0, sizeof line3);
    wipe_memset(text, 0, sizeof text);
    const char *files[] = {good, one, rotated, db, wal, shm};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        unlink(files[i]);
    }
    static const char *const others[] = {"open.keys", "bad.keys", "twice.keys", "big.keys"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        snprintf(bad, sizeof bad, "%s/%s", dir, others[i]);
        unlink(bad);
    }
    CHECK(rmdir(dir) == 0);
}

/*
 * devices_test: S16, application passwords for IMAP, POP3 and SMTP
 * (created, scoped, listed, revoked).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S16: application passwords
 * ------------------------------------------------------------------------ */

static size_t app_count(const struct user *u)
{
    m2fa_app_password_list *list = NULL;
    size_t count = SENTINEL_SIZE;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_app_passwords(u->engine, PLATFORM, u->name, &list))) {
        CHECK_STATUS(M2FA_OK, m2fa_app_password_list_count(list, &count));
    }
    m2fa_app_password_list_free(list);
    return count;
}

void test_app_passwords(void)
{
    section = "app passwords";
    m2fa_engine *engine = new_engine(10);
    struct user dave = {.engine = engine, .name = "dave@example.com"};
    if (engine == NULL || !enroll(&dave, T0)) {
        user_free(&dave);
        m2fa_engine_free(engine);
        return;
    }
    uint64_t now = T0 + 100;
    static const struct client thunderbird = {NULL, NULL, "Thunderbird/115.0", "203.0.113.7"};
    /* The account password alone is not enough for IMAP, POP3, SMTP. */
    static const uint32_t mail[] = {M2FA_PROTOCOL_IMAP, M2FA_PROTOCOL_POP3, M2FA_PROTOCOL_SMTP};
    for (size_t i = 0; i < sizeof mail / sizeof mail[0]; i++) {
        EXPECT_AUTH(&dave, mail[i], NULL, PASSWORD, NULL, &thunderbird, now, M2FA_OUTCOME_REFUSED,
                    M2FA_REASON_APP_PASSWORD_REQUIRED);
    }
    CHECK_EQ(device_count(&dave, now), 0);

    /* Too small a buffer: *needed, and nothing created. */
    char password[M2FA_APP_PASSWORD_SIZE + 8];
    uint32_t id = SENTINEL_U32;
    size_t needed = SENTINEL_SIZE;
    memset(password, SENTINEL_BYTE, sizeof password);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL,
                 m2fa_engine_app_password_create(engine, PLATFORM, dave.name, "thunderbird",
                                                 "imap", now, &id, password, 10, &needed));
    CHECK_EQ(needed, M2FA_APP_PASSWORD_SIZE);
    CHECK_EQ(id, SENTINEL_U32);
    CHECK(all_bytes_are(password, sizeof password, SENTINEL_BYTE));
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL,
                 m2fa_engine_app_password_create(engine, PLATFORM, dave.name, "thunderbird",
                                                 "imap", now, &id, NULL, 0, &needed));
    CHECK_EQ(needed, M2FA_APP_PASSWORD_SIZE);
    CHECK_EQ(app_count(&dave), 0);

    /* Created, limited to IMAP. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_app_password_create(engine, PLATFORM, dave.name,
                                                          "thunderbird", "imap", now, &id,
                                                          password, sizeof password, &needed));
    CHECK_EQ(needed, M2FA_APP_PASSWORD_SIZE);
    CHECK_EQ(strlen(password), M2FA_APP_PASSWORD_SIZE - 1);
    CHECK(password[5] == '-' && password[11] == '-' && password[17] == '-');
    /* The same name again: taken. */
    char other[M2FA_APP_PASSWORD_SIZE];
    uint32_t other_id = SENTINEL_U32;
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_app_password_create(engine, PLATFORM, dave.name, "thunderbird", NULL,
                                                 now, &other_id, other, sizeof other, &needed));
    CHECK_EQ(other_id, SENTINEL_U32);
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_app_password_create(engine, PLATFORM, dave.name, "phone", "imap,b@d",
                                                 now, &other_id, other, sizeof other, &needed));

    m2fa_decision *d = AUTH(&dave, M2FA_PROTOCOL_IMAP, NULL, APP_PASSWORD, password, &thunderbird,
                            now + 10, M2FA_OUTCOME_ALLOWED, M2FA_REASON_APP_PASSWORD);
    if (d != NULL) {
        uint32_t used = SENTINEL_U32;
        CHECK_STATUS(M2FA_OK, m2fa_decision_app_password_id(d, &used));
        CHECK_EQ(used, id);
    }
    m2fa_decision_free(d);
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_SMTP, NULL, APP_PASSWORD, password, &thunderbird, now + 20,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE);
    /* Not the account password on a code-in-login protocol. */
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_WEBMAIL, NULL, APP_PASSWORD, password, &thunderbird, now + 20,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED);
    /* Another well-formed password: wrong. */
    char wrong[M2FA_APP_PASSWORD_SIZE];
    memcpy(wrong, password, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_IMAP, NULL, APP_PASSWORD, wrong, &thunderbird, now + 20,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_APP_PASSWORD);

    /* Listed: number, times, name, scope; never the password. */
    m2fa_app_password_list *list = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_app_passwords(engine, PLATFORM, dave.name, &list))) {
        size_t count = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_OK, m2fa_app_password_list_count(list, &count));
        if (CHECK_EQ(count, 1)) {
            uint32_t got = SENTINEL_U32;
            uint64_t created = SENTINEL_U64, last_used = SENTINEL_U64;
            CHECK_STATUS(M2FA_OK, m2fa_app_password_list_get(list, 0, &got, &created, &last_used));
            CHECK_EQ(got, id);
            CHECK_EQ(created, now);
            CHECK(last_used >= now + 10 && last_used <= now + 20);
            char text[64];
            CHECK_STATUS(M2FA_OK, m2fa_app_password_list_text(list, 0, M2FA_APP_PASSWORD_FIELD_NAME, text,
                                                              sizeof text, &needed));
            CHECK_STR(text, "thunderbird");
            CHECK_EQ(needed, strlen("thunderbird") + 1);
            CHECK_STATUS(M2FA_OK, m2fa_app_password_list_text(list, 0, M2FA_APP_PASSWORD_FIELD_SCOPE, text,
                                                              sizeof text, &needed));
            CHECK_STR(text, "imap");
        }
    }
    m2fa_app_password_list_free(list);

    /* Revoked: refused at once; revoking again: not found. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_app_password_revoke(engine, PLATFORM, dave.name, id));
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_IMAP, NULL, APP_PASSWORD, password, &thunderbird, now + 30,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_APP_PASSWORD);
    CHECK_STATUS(M2FA_NOT_FOUND, m2fa_engine_app_password_revoke(engine, PLATFORM, dave.name, id));
    CHECK_EQ(app_count(&dave), 0);

    /* No scope: any protocol that takes application passwords. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_app_password_create(engine, PLATFORM, dave.name, "phone",
                                                          NULL, now, &id, password,
                                                          sizeof password, &needed));
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_SMTP, NULL, APP_PASSWORD, password, &thunderbird, now + 40,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_APP_PASSWORD);
    EXPECT_AUTH(&dave, M2FA_PROTOCOL_ACTIVESYNC, NULL, APP_PASSWORD, password, &thunderbird, now + 40,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_APP_PASSWORD);
    list = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_app_passwords(engine, PLATFORM, dave.name, &list))) {
        char text[64];
        CHECK_STATUS(M2FA_OK, m2fa_app_password_list_text(list, 0, M2FA_APP_PASSWORD_FIELD_SCOPE, text,
                                                          sizeof text, &needed));
        CHECK_STR(text, "");
    }
    m2fa_app_password_list_free(list);
    wipe_memset(password, 0, sizeof password);
    user_free(&dave);
    m2fa_engine_free(engine);
}

/*
 * devices_test: every function of the clients API called wrongly (NULL
 * pointers, invalid UTF-8, unknown enum values, bad ids, indexes out of range,
 * small buffers): out-parameters untouched on error, *needed written on
 * M2FA_BUFFER_TOO_SMALL, *_free(NULL) a no-op.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Misuse of every new function, in steps by object family (test_misuse at
 * the end runs them on one engine)
 * ------------------------------------------------------------------------ */

/* Engine configuration setters. */
static void misuse_config_setters(void)
{
    m2fa_engine_config *config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_devices(NULL, 10, 1, 1, 1, 1, 0));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_device_key(NULL, device_key, 32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_device_key(config, NULL, 32));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_device_key(config, device_key, 31));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_device_key(config, device_key, 33));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_portal_link(NULL, PORTAL_LINK));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_config_set_portal_link(config, not_utf8));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_portal_link(config, NULL));
    /* Ranges are checked by m2fa_engine_new. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_devices(config, 0, 1, 1, 1, 1, 0));
    m2fa_engine *bad = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_new(config, &bad));
    CHECK(bad == SENTINEL_HANDLE);
    m2fa_engine_config_free(config);
}

/* Logins, and m2fa_engine_authenticate. */
static void misuse_logins(const m2fa_engine *engine, const char *acct, uint64_t now)
{
    char buf[320];
    m2fa_login *login = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_new(M2FA_PROTOCOL_IMAP, NULL, NULL));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_login_new(0, NULL, &login));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_login_new(42, NULL, &login));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_new(M2FA_PROTOCOL_OTHER, NULL, &login));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_new(M2FA_PROTOCOL_OTHER, not_utf8, &login));
    CHECK(login == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_password(NULL, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_password_and_code(NULL, 1, "123456"));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_app_password(NULL, "x"));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_client(NULL, NULL, NULL, NULL, NULL));
    login = make_login(M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_password_and_code(login, 1, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_password_and_code(login, 1, not_utf8));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_login_set_app_password(login, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_app_password(login, not_utf8));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_client(login, not_utf8, NULL, NULL, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_client(login, NULL, not_utf8, NULL, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_client(login, NULL, NULL, not_utf8, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_login_set_client(login, NULL, NULL, NULL, not_utf8));

    /* Authenticate. */
    m2fa_decision *out = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_authenticate(NULL, PLATFORM, acct, login, now, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_authenticate(engine, NULL, acct, login, now, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_authenticate(engine, PLATFORM, NULL, login, now, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_authenticate(engine, PLATFORM, acct, NULL, now, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_authenticate(engine, PLATFORM, acct, login, now, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_authenticate(engine, not_utf8, acct, login, now, &out));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_authenticate(engine, PLATFORM, not_utf8, login, now, &out));
    CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, NULL, NULL, OUTLOOK_UA, "not-an-ip"));
    CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_authenticate(engine, PLATFORM, acct, login, now, &out));
    CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, NULL, NULL, "bad\nagent", NULL));
    CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_authenticate(engine, PLATFORM, acct, login, now, &out));
    memset(buf, 'a', 300);
    buf[300] = '\0'; /* over MAX_CLIENT_FIELD (256) */
    CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, buf, NULL, NULL, NULL));
    CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_authenticate(engine, PLATFORM, acct, login, now, &out));
    CHECK(out == SENTINEL_HANDLE);
    m2fa_login_free(login);
}

/* Split login. */
static void misuse_split_login(const m2fa_engine *engine, const char *acct, uint64_t now)
{
    uint32_t u32 = SENTINEL_U32;
    size_t plen = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_split_login_for(NULL, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, "pw123456", now, &plen, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_split_login_for(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, NULL, now, &plen, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_split_login_for(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, "pw123456", now, NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_split_login_for(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, "pw123456", now, &plen, NULL));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_split_login_for(engine, PLATFORM, acct, 0, NULL, "pw123456", now, &plen, &u32));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_split_login_for(engine, PLATFORM, acct, 42, NULL, "pw123456", now, &plen, &u32));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_split_login_for(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, not_utf8, now, &plen, &u32));
    CHECK_EQ(plen, SENTINEL_SIZE);
    CHECK_EQ(u32, SENTINEL_U32);
}

/* Decision getters and notifications, on d (a pending device's decision,
 * freed here). */
static void misuse_decision_getters(m2fa_decision *d)
{
    char buf[320];
    size_t needed = SENTINEL_SIZE;
    uint32_t u32 = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_device(NULL, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_device(d, buf, sizeof buf, NULL));
    memset(buf, SENTINEL_BYTE, sizeof buf);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_decision_device(d, buf, M2FA_DEVICE_ID_SIZE - 1, &needed));
    CHECK_EQ(needed, M2FA_DEVICE_ID_SIZE);
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_app_password_id(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_app_password_id(d, NULL));
    m2fa_notification *n = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_notification(NULL, &n));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_notification(d, NULL));
    CHECK(n == SENTINEL_HANDLE);
    n = notification_of(d);
    m2fa_decision_free(d);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_destination(NULL, &u32, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_destination(n, NULL, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_destination(n, &u32, buf, sizeof buf, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_subject(NULL, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_subject(n, buf, sizeof buf, NULL));
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_notification_subject(n, buf, 4, &needed));
    CHECK(needed > 4 && needed != SENTINEL_SIZE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_text(NULL, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_notification_text(n, buf, sizeof buf, NULL));
    m2fa_notification_free(n);
}

/* Notification fallback, for device id. */
static void misuse_notification_fallback(const m2fa_engine *engine, const char *acct,
                                         const char *id, uint64_t now)
{
    m2fa_notification *n;
    n = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(NULL, PLATFORM, acct, id, now, &n));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, NULL, now, &n));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, id, now, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_notification_fallback(engine, PLATFORM, acct, not_utf8, now, &n));
    CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, "not-a-device", now, &n));
    CHECK_STATUS(M2FA_NOT_FOUND, m2fa_engine_notification_fallback(engine, PLATFORM, acct, "00000000000000000000000000000000", now, &n));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_notification_fallback(engine, PLATFORM, "nobody@example.com", id, now, &n));
    CHECK(n == SENTINEL_HANDLE);
}

/* Device lists (hal has one device). */
static void misuse_device_lists(const m2fa_engine *engine, const struct user *hal, uint64_t now)
{
    const char *acct = hal->name;
    char buf[320];
    size_t needed, count = SENTINEL_SIZE;
    uint32_t u32;
    uint64_t u64 = SENTINEL_U64, u64b = SENTINEL_U64;
    m2fa_device_list *list = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(NULL, PLATFORM, acct, now, &list));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(engine, NULL, acct, now, &list));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(engine, PLATFORM, acct, now, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_devices(engine, PLATFORM, not_utf8, now, &list));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_devices(engine, PLATFORM, "nobody@example.com", now, &list));
    CHECK(list == SENTINEL_HANDLE);
    list = devices_of(hal, now, &count);
    CHECK_EQ(count, 1);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_count(NULL, &count));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_count(list, NULL));
    u32 = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_get(NULL, 0, &u32, &u64, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_get(list, 0, NULL, &u64, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_get(list, 0, &u32, NULL, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_get(list, 0, &u32, &u64, NULL));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_device_list_get(list, 1, &u32, &u64, &u64b));
    CHECK(u32 == SENTINEL_U32 && u64 == SENTINEL_U64 && u64b == SENTINEL_U64);
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_text(NULL, 0, M2FA_DEVICE_FIELD_ID, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_device_list_text(list, 0, M2FA_DEVICE_FIELD_ID, buf, sizeof buf, NULL));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_device_list_text(list, 1, M2FA_DEVICE_FIELD_ID, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_device_list_text(list, 0, 0, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_device_list_text(list, 0, 7, buf, sizeof buf, &needed));
    CHECK_EQ(needed, SENTINEL_SIZE);
    memset(buf, SENTINEL_BYTE, sizeof buf);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_device_list_text(list, 0, M2FA_DEVICE_FIELD_ID, buf, 32, &needed));
    CHECK_EQ(needed, M2FA_DEVICE_ID_SIZE);
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    m2fa_device_list_free(list);
}

/* Device operations, on device id of hal. */
static void misuse_device_operations(const m2fa_engine *engine, const struct user *hal,
                                     const char *id, uint64_t now)
{
    const char *acct = hal->name;
    typedef m2fa_status (*device_op)(const m2fa_engine *, const char *, const char *, const char *,
                                     uint64_t);
    static const struct {
        const char *name;
        device_op op;
    } ops[] = {
        {"m2fa_engine_device_activate", m2fa_engine_device_activate},
        {"m2fa_engine_device_deactivate", m2fa_engine_device_deactivate},
        {"m2fa_engine_device_delete", m2fa_engine_device_delete},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        helper_call = ops[i].name;
        CHECK_STATUS(M2FA_NULL_ARGUMENT, ops[i].op(NULL, PLATFORM, acct, id, now));
        CHECK_STATUS(M2FA_NULL_ARGUMENT, ops[i].op(engine, NULL, acct, id, now));
        CHECK_STATUS(M2FA_NULL_ARGUMENT, ops[i].op(engine, PLATFORM, NULL, id, now));
        CHECK_STATUS(M2FA_INVALID_UTF8, ops[i].op(engine, not_utf8, acct, id, now));
        CHECK_STATUS(M2FA_INVALID_UTF8, ops[i].op(engine, PLATFORM, not_utf8, id, now));
        /* The device id: NULL and bad text are "not a device id". */
        CHECK_STATUS(M2FA_INVALID_INPUT, ops[i].op(engine, PLATFORM, acct, NULL, now));
        CHECK_STATUS(M2FA_INVALID_INPUT, ops[i].op(engine, PLATFORM, acct, not_utf8, now));
        CHECK_STATUS(M2FA_INVALID_INPUT, ops[i].op(engine, PLATFORM, acct, "xyz", now));
        CHECK_STATUS(M2FA_INVALID_INPUT, ops[i].op(engine, PLATFORM, acct, "0123456789abcdef0123456789abcdeg", now));
        CHECK_STATUS(M2FA_NOT_FOUND, ops[i].op(engine, PLATFORM, acct, "00000000000000000000000000000000", now));
        CHECK_STATUS(M2FA_NOT_ENABLED, ops[i].op(engine, PLATFORM, "nobody@example.com", id, now));
    }
    helper_call = NULL;
    CHECK_EQ(device_count(hal, now), 1);
}

/* Application passwords. */
static void misuse_app_passwords(const m2fa_engine *engine, const char *acct, uint64_t now)
{
    char buf[320];
    size_t needed = SENTINEL_SIZE, count = SENTINEL_SIZE;
    uint32_t u32, u32b;
    uint64_t u64, u64b;
    char pw[M2FA_APP_PASSWORD_SIZE];
    u32 = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(NULL, PLATFORM, acct, "a", NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(engine, NULL, acct, "a", NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(engine, PLATFORM, NULL, "a", NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(engine, PLATFORM, acct, NULL, NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(engine, PLATFORM, acct, "a", NULL, now, NULL, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_create(engine, PLATFORM, acct, "a", NULL, now, &u32, pw, sizeof pw, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_app_password_create(engine, PLATFORM, acct, not_utf8, NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_app_password_create(engine, PLATFORM, acct, "a", not_utf8, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_app_password_create(engine, PLATFORM, acct, "", NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_app_password_create(engine, PLATFORM, "nobody@example.com", "a", NULL, now, &u32, pw, sizeof pw, &needed));
    CHECK_EQ(u32, SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_revoke(NULL, PLATFORM, acct, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_password_revoke(engine, PLATFORM, NULL, 1));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_app_password_revoke(engine, PLATFORM, not_utf8, 1));
    CHECK_STATUS(M2FA_NOT_FOUND, m2fa_engine_app_password_revoke(engine, PLATFORM, acct, 12345));
    m2fa_app_password_list *apps = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_passwords(NULL, PLATFORM, acct, &apps));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_app_passwords(engine, PLATFORM, acct, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_app_passwords(engine, not_utf8, acct, &apps));
    CHECK(apps == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_OK, m2fa_engine_app_password_create(engine, PLATFORM, acct, "mutt", "imap", now, &u32, pw, sizeof pw, &needed));
    wipe_memset(pw, 0, sizeof pw);
    apps = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_app_passwords(engine, PLATFORM, acct, &apps));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_count(NULL, &count));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_count(apps, NULL));
    u32b = SENTINEL_U32;
    u64 = u64b = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_get(NULL, 0, &u32b, &u64, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_get(apps, 0, NULL, &u64, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_get(apps, 0, &u32b, NULL, &u64b));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_get(apps, 0, &u32b, &u64, NULL));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_app_password_list_get(apps, 1, &u32b, &u64, &u64b));
    CHECK(u32b == SENTINEL_U32 && u64 == SENTINEL_U64 && u64b == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_app_password_list_get(apps, 0, &u32b, &u64, &u64b));
    CHECK_EQ(u32b, u32);
    CHECK_EQ(u64b, 0); /* never used */
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_text(NULL, 0, M2FA_APP_PASSWORD_FIELD_NAME, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_app_password_list_text(apps, 0, M2FA_APP_PASSWORD_FIELD_NAME, buf, sizeof buf, NULL));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_app_password_list_text(apps, 1, M2FA_APP_PASSWORD_FIELD_NAME, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_app_password_list_text(apps, 0, 0, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_app_password_list_text(apps, 0, 7, buf, sizeof buf, &needed));
    CHECK_EQ(needed, SENTINEL_SIZE);
    memset(buf, SENTINEL_BYTE, sizeof buf);
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_app_password_list_text(apps, 0, M2FA_APP_PASSWORD_FIELD_NAME, buf, 4, &needed));
    CHECK_EQ(needed, 5);
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    m2fa_app_password_list_free(apps);
}

/* Policies; none of the calls changes hal's. */
static void misuse_policies(const m2fa_engine *engine, const struct user *hal)
{
    const char *acct = hal->name;
    uint32_t u32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_set_platform_policy(NULL, PLATFORM, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_set_platform_policy(engine, NULL, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_set_platform_policy(engine, not_utf8, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER, not_utf8, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_platform_policy(engine, PLATFORM, 0, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_platform_policy(engine, PLATFORM, 42, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_IMAP, NULL, 9));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_set_account_policy(NULL, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_set_account_policy(engine, PLATFORM, NULL, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_set_account_policy(engine, PLATFORM, not_utf8, M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_account_policy(engine, PLATFORM, acct, 0, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_account_policy(engine, PLATFORM, acct, 42, NULL, M2FA_POLICY_REFUSED));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_account_policy(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, 9));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_set_account_policy(engine, PLATFORM, "nobody@example.com", M2FA_PROTOCOL_IMAP, NULL, M2FA_POLICY_REFUSED));
    u32 = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_protocol_policy(NULL, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_protocol_policy(engine, PLATFORM, acct, M2FA_PROTOCOL_IMAP, NULL, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_protocol_policy(engine, PLATFORM, not_utf8, M2FA_PROTOCOL_IMAP, NULL, &u32));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_protocol_policy(engine, PLATFORM, acct, 0, NULL, &u32));
    CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_protocol_policy(engine, PLATFORM, acct, 42, NULL, &u32));
    CHECK_EQ(u32, SENTINEL_U32);
    /* Nothing above changed a policy. */
    CHECK_EQ(policy_of(hal, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
}

void test_misuse(void)
{
    section = "misuse";
    m2fa_engine *engine = new_engine(10);
    struct user hal = {.engine = engine, .name = "hal@example.com"};
    if (engine == NULL || !enroll(&hal, T0)) {
        user_free(&hal);
        m2fa_engine_free(engine);
        return;
    }
    const char *acct = hal.name;
    uint64_t now = T0 + 100;
    char id[M2FA_DEVICE_ID_SIZE];
    m2fa_decision *d = AUTH(&hal, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now,
                            M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    device_of(d, id);

    misuse_config_setters();
    misuse_logins(engine, acct, now);
    misuse_split_login(engine, acct, now);
    misuse_decision_getters(d);
    misuse_notification_fallback(engine, acct, id, now);
    misuse_device_lists(engine, &hal, now);
    misuse_device_operations(engine, &hal, id, now);
    misuse_app_passwords(engine, acct, now);
    misuse_policies(engine, &hal);

    /* *_free(NULL). */
    m2fa_login_free(NULL);
    m2fa_notification_free(NULL);
    m2fa_device_list_free(NULL);
    m2fa_app_password_list_free(NULL);
    CHECK(true);
    user_free(&hal);
    m2fa_engine_free(engine);
}

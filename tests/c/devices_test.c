/*
 * C test suite for the mail-client part of the mail2fa C API
 * (include/mail2fa.h, from src/ffi/clients.rs): m2fa_login*,
 * m2fa_engine_authenticate, device tokens (m2fa_engine_devices,
 * m2fa_device_list*, m2fa_engine_device_*), notifications
 * (m2fa_decision_notification, m2fa_notification*,
 * m2fa_engine_notification_fallback), application passwords
 * (m2fa_engine_app_password*, m2fa_app_password_list*) and per-protocol
 * policies (m2fa_engine_set_*_policy, m2fa_engine_protocol_policy).
 *
 * It walks the product scenarios S12-S16 through the C ABI the way a mail
 * server would: an engine, a platform, enrolled accounts whose phone is an
 * m2fa_totp built from the provisioning URI the engine hands out, and
 * explicit times (Unix seconds, from T0 = 1800000000), never the clock:
 *
 *   - Outlook/ActiveSync: an unknown device with the right password is
 *     blocked (an INACTIVE token, a notification by SMS, or by e-mail when
 *     there is no phone or the SMS failed), gets in once activated, is
 *     blocked again when deactivated or deleted; wrong passwords create
 *     nothing; unidentifiable clients and too many pending devices are
 *     refused;
 *   - IMAP/POP3/SMTP: application passwords (created, scoped, listed,
 *     revoked);
 *   - platform and account policies, host-named protocols;
 *   - code in login with device binding (the same string from the same client
 *     and network; never the password alone; replays).
 *
 * Then it calls every new function wrongly (NULL pointers, invalid UTF-8,
 * unknown enum values, bad ids, indexes out of range, small buffers) and
 * checks the conventions of the header (out-parameters untouched on error,
 * *needed written on M2FA_BUFFER_TOO_SMALL, *_free(NULL) a no-op).
 *
 * Then 8 threads authenticate one ACTIVE device at once (all allowed),
 * and race the first login of one unknown device (exactly one token).
 *
 * Then the engine on a SQLite database (m2fa_engine_open,
 * m2fa_engine_config_set_sqlite): a code consumed through one handle is a
 * replay through another on the same file and after a restart; links and
 * missing files (without creation) are refused.
 *
 * Finally encryption keys from a key file (m2fa_engine_config_load_key_file):
 * NULL and non-UTF-8 arguments, missing files, directories, files open to
 * group or others, malformed lines, repeated ids, no key, over 64 KiB are
 * refused (a refused file leaves the keys as they were); the file's keys
 * open what they sealed, replace the keys set before, and compose with
 * m2fa_engine_config_add_encryption_key (rotation).
 *
 * scripts/test-c.sh builds it like tests/c/engine_test.c: -Wall -Wextra
 * -Wpedantic -Werror, under AddressSanitizer, LeakSanitizer and UBSan,
 * against libmail2fa.so and against libmail2fa.a. Exit status 0 means every
 * check passed; the last line of output counts the checks.
 */

#define _POSIX_C_SOURCE 200809L /* pthreads (and barriers) under -std=c11 */

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mail2fa.h>

#include "check.h"

/* ------------------------------------------------------------------------
 * Words for messages
 * ------------------------------------------------------------------------ */

static const char *outcome_word(uint32_t outcome)
{
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return "ALLOWED";
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED: return "ENROLLMENT_REQUIRED";
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return "SECOND_FACTOR_REQUIRED";
    case M2FA_OUTCOME_REFUSED: return "REFUSED";
    case M2FA_OUTCOME_DEVICE_PENDING: return "DEVICE_PENDING";
    default: return "?";
    }
}

static const char *reason_word(uint32_t reason)
{
    switch (reason) {
    case M2FA_REASON_NONE: return "NONE";
    case M2FA_REASON_NO_SECOND_FACTOR: return "NO_SECOND_FACTOR";
    case M2FA_REASON_CODE_ACCEPTED: return "CODE_ACCEPTED";
    case M2FA_REASON_ENROLLED: return "ENROLLED";
    case M2FA_REASON_DEVICE_AUTHORIZED: return "DEVICE_AUTHORIZED";
    case M2FA_REASON_DEVICE_TRUSTED: return "DEVICE_TRUSTED";
    case M2FA_REASON_APP_PASSWORD: return "APP_PASSWORD";
    case M2FA_REASON_WRONG_CODE: return "WRONG_CODE";
    case M2FA_REASON_REPLAYED: return "REPLAYED";
    case M2FA_REASON_LOCKED: return "LOCKED";
    case M2FA_REASON_WRONG_PASSWORD: return "WRONG_PASSWORD";
    case M2FA_REASON_PROTOCOL_REFUSED: return "M2FA_PROTOCOL_REFUSED";
    case M2FA_REASON_APP_PASSWORD_REQUIRED: return "APP_PASSWORD_REQUIRED";
    case M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED: return "APP_PASSWORD_NOT_ACCEPTED";
    case M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE: return "APP_PASSWORD_OUT_OF_SCOPE";
    case M2FA_REASON_WRONG_APP_PASSWORD: return "WRONG_APP_PASSWORD";
    case M2FA_REASON_DEVICE_UNIDENTIFIED: return "DEVICE_UNIDENTIFIED";
    case M2FA_REASON_TOO_MANY_PENDING_DEVICES: return "TOO_MANY_PENDING_DEVICES";
    default: return "other";
    }
}

/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

#define PLATFORM "example.com"
#define T0 UINT64_C(1800000000) /* 2027-01-15, a multiple of 30 */
#define CODE_SIZE 11
#define DAY UINT64_C(86400)
#define EMAIL "frank@home.example"
#define PHONE "+33 6 12 34 56 78"
#define PORTAL_LINK "https://portal.example.com/{platform}/devices/{device}"
#define PORTAL_PREFIX "https://portal.example.com/example.com/devices/"
#define OUTLOOK_UA "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)"
#define BINDING_PERIOD UINT64_C(43200)
#define NOTIFY_INTERVAL DAY

static const char not_utf8[] = "\xff";
static const uint8_t device_key[32] = {
    0x6d, 0x61, 0x69, 0x6c, 0x32, 0x66, 0x61, 0x20, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65, 0x20, 0x6b,
    0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x21, 0x21, 0x21,
};

/* An engine with a known device key and portal link; max_pending as given. */
static m2fa_engine *new_engine(uint32_t max_pending)
{
    m2fa_engine_config *config = NULL;
    m2fa_engine *engine = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return NULL;
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_devices(config, max_pending, 30 * DAY,
                                                         NOTIFY_INTERVAL, 300, BINDING_PERIOD, 0));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_device_key(config, device_key, sizeof device_key));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_portal_link(config, PORTAL_LINK));
    CHECK_STATUS(M2FA_OK, m2fa_engine_new(config, &engine));
    m2fa_engine_config_free(config);
    if (engine != NULL) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    }
    return engine;
}

/* An account and the phone that scanned its provisioning URI. */
struct user {
    const m2fa_engine *engine;
    const char *name;
    m2fa_totp *phone;
};

static const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    CHECK_STATUS(M2FA_OK, m2fa_totp_generate(u->phone, time, code, CODE_SIZE, &needed));
    return code;
}

/* S1/S2 through the C API: enables 2FA, scans the URI with the library's
 * own parser (as engine_test.c does), and confirms with the code of `now`. */
static bool enroll(struct user *u, uint64_t now)
{
    m2fa_decision *d = NULL;
    char uri[1024], code[CODE_SIZE];
    size_t needed = 0;
    uint32_t outcome = 0, reason = 0;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_enable_account(u->engine, PLATFORM, u->name, now, &d))) {
        return false;
    }
    bool ok = CHECK_STATUS(M2FA_OK, m2fa_decision_uri(d, uri, sizeof uri, &needed));
    m2fa_decision_free(d);
    d = NULL;
    m2fa_key_uri *parsed = NULL;
    m2fa_secret *secret = NULL;
    m2fa_otp_config *config = NULL;
    ok = ok && CHECK_STATUS(M2FA_OK, m2fa_key_uri_parse(uri, &parsed)) &&
         CHECK_STATUS(M2FA_OK, m2fa_key_uri_secret(parsed, &secret)) &&
         CHECK_STATUS(M2FA_OK, m2fa_key_uri_config(parsed, &config)) &&
         CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, config, &u->phone));
    wipe_memset(uri, 0, sizeof uri);
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    m2fa_key_uri_free(parsed);
    ok = ok && CHECK_STATUS(M2FA_OK, m2fa_engine_login(u->engine, PLATFORM, u->name,
                                                         code_at(u, now, code), now, &d));
    if (ok) {
        m2fa_decision_outcome(d, &outcome);
        m2fa_decision_reason(d, &reason);
        ok = CHECK(outcome == M2FA_OUTCOME_ALLOWED) && CHECK(reason == M2FA_REASON_ENROLLED);
    }
    m2fa_decision_free(d);
    return ok;
}

static void user_free(struct user *u)
{
    m2fa_totp_free(u->phone);
    u->phone = NULL;
}

/* What the host knows about the client. */
struct client {
    const char *device_id, *device_type, *user_agent, *remote_addr;
};

enum credential { WRONG_PASSWORD, PASSWORD, PASSWORD_AND_CODE, APP_PASSWORD, NO_CREDENTIAL };

/* Builds an m2fa_login. */
static m2fa_login *make_login(uint32_t protocol, const char *name, enum credential credential,
                              const char *secret, const struct client *client)
{
    m2fa_login *login = SENTINEL_HANDLE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_login_new(protocol, name, &login))) {
        CHECK(login == SENTINEL_HANDLE);
        return NULL;
    }
    switch (credential) {
    case WRONG_PASSWORD: CHECK_STATUS(M2FA_OK, m2fa_login_set_password(login, 0)); break;
    case PASSWORD: CHECK_STATUS(M2FA_OK, m2fa_login_set_password(login, 1)); break;
    case PASSWORD_AND_CODE:
        CHECK_STATUS(M2FA_OK, m2fa_login_set_password_and_code(login, 1, secret));
        break;
    case APP_PASSWORD: CHECK_STATUS(M2FA_OK, m2fa_login_set_app_password(login, secret)); break;
    case NO_CREDENTIAL: break;
    }
    if (client != NULL) {
        CHECK_STATUS(M2FA_OK, m2fa_login_set_client(login, client->device_id, client->device_type,
                                                    client->user_agent, client->remote_addr));
    }
    return login;
}

/*
 * One login through m2fa_engine_authenticate, checked: the outcome and
 * reason, and which of the new getters answer (the device for pending and
 * device-authorized decisions, the app password number for
 * M2FA_REASON_APP_PASSWORD). Returns the decision (the caller frees it), or
 * NULL if the call failed.
 */
static m2fa_decision *auth_impl(const struct user *u, uint32_t protocol, const char *name,
                                enum credential credential, const char *secret,
                                const struct client *client, uint64_t now, uint32_t want_outcome,
                                uint32_t want_reason, const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
#define CHECK_STATUS_HERE(want_, call_) check_status_impl((call_), (want_), #call_, file, line)
    m2fa_login *login = make_login(protocol, name, credential, secret, client);
    if (login == NULL) {
        return NULL;
    }
    m2fa_decision *d = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_authenticate(u->engine, PLATFORM, u->name, login, now, &d);
    m2fa_login_free(login);
    if (!CHECK_STATUS_HERE(M2FA_OK, status)) {
        CHECK_HERE(d == SENTINEL_HANDLE);
        return NULL;
    }
    uint32_t outcome = SENTINEL_U32, reason = SENTINEL_U32;
    CHECK_STATUS_HERE(M2FA_OK, m2fa_decision_outcome(d, &outcome));
    CHECK_STATUS_HERE(M2FA_OK, m2fa_decision_reason(d, &reason));
    if (!CHECK_HERE(outcome == want_outcome && reason == want_reason)) {
        fprintf(stderr, "    got %s (%s), expected %s (%s)\n", outcome_word(outcome),
                reason_word(reason), outcome_word(want_outcome), reason_word(want_reason));
    }
    char device[M2FA_DEVICE_ID_SIZE];
    size_t needed = SENTINEL_SIZE;
    bool has_device = outcome == M2FA_OUTCOME_DEVICE_PENDING ||
                      reason == M2FA_REASON_DEVICE_AUTHORIZED;
    CHECK_STATUS_HERE(has_device ? M2FA_OK : M2FA_INVALID_ARGUMENT,
                      m2fa_decision_device(d, device, sizeof device, &needed));
    if (has_device) {
        CHECK_HERE(needed == M2FA_DEVICE_ID_SIZE);
        CHECK_HERE(strlen(device) == 32 && strspn(device, "0123456789abcdef") == 32);
    }
    uint32_t app = SENTINEL_U32;
    bool is_app = reason == M2FA_REASON_APP_PASSWORD;
    CHECK_STATUS_HERE(is_app ? M2FA_OK : M2FA_INVALID_ARGUMENT,
                      m2fa_decision_app_password_id(d, &app));
    CHECK_HERE(is_app || app == SENTINEL_U32);
    if (outcome != M2FA_OUTCOME_DEVICE_PENDING) {
        m2fa_notification *n = SENTINEL_HANDLE;
        CHECK_STATUS_HERE(M2FA_INVALID_ARGUMENT, m2fa_decision_notification(d, &n));
        CHECK_HERE(n == SENTINEL_HANDLE);
    }
    return d;
#undef CHECK_HERE
#undef CHECK_STATUS_HERE
}

#define AUTH(u, protocol, name, credential, secret, client, now, outcome, reason)             \
    auth_impl((u), (protocol), (name), (credential), (secret), (client), (now), (outcome), \
              (reason), __FILE__, __LINE__)
#define EXPECT_AUTH(u, protocol, name, credential, secret, client, now, outcome, reason) \
    m2fa_decision_free(AUTH(u, protocol, name, credential, secret, client, now, outcome, reason))

/* The device token id of a decision into id[M2FA_DEVICE_ID_SIZE]. */
static const char *device_of(const m2fa_decision *d, char id[M2FA_DEVICE_ID_SIZE])
{
    size_t needed = 0;
    id[0] = '\0';
    if (d != NULL) {
        CHECK_STATUS(M2FA_OK, m2fa_decision_device(d, id, M2FA_DEVICE_ID_SIZE, &needed));
    }
    return id;
}

/* The mailbox's device tokens (NULL on failure), with their count. */
static m2fa_device_list *devices_of(const struct user *u, uint64_t now, size_t *count)
{
    m2fa_device_list *list = NULL;
    *count = SENTINEL_SIZE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_devices(u->engine, PLATFORM, u->name, now, &list))) {
        return NULL;
    }
    CHECK_STATUS(M2FA_OK, m2fa_device_list_count(list, count));
    return list;
}

static size_t device_count(const struct user *u, uint64_t now)
{
    size_t count = SENTINEL_SIZE;
    m2fa_device_list_free(devices_of(u, now, &count));
    return count;
}

/* Field `field` of token `index`, asking for the size first. */
static void device_text(const m2fa_device_list *list, size_t index, uint32_t field, char *buf,
                        size_t len)
{
    size_t needed = SENTINEL_SIZE;
    buf[0] = '\0';
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_device_list_text(list, index, field, NULL, 0, &needed));
    if (CHECK(needed <= len)) {
        size_t again = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_OK, m2fa_device_list_text(list, index, field, buf, len, &again));
        CHECK_EQ(again, needed);
        CHECK_EQ(strlen(buf) + 1, needed);
    }
}

/* Checks a notification: channel, destination, and what its text says. */
static void check_notification_impl(const m2fa_notification *n, uint32_t want_channel,
                                     const char *want_to, const char *account,
                                     const char *device, const char *protocol, const char *file,
                                     int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
#define CHECK_STATUS_HERE(want_, call_) check_status_impl((call_), (want_), #call_, file, line)
    char to[128], subject[256], text[1024], link[256];
    uint32_t channel = SENTINEL_U32;
    size_t needed = SENTINEL_SIZE;
    if (!CHECK_HERE(n != NULL)) {
        return;
    }
    /* Size first, then too small (needed written, buffer and channel untouched). */
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL,
                      m2fa_notification_destination(n, &channel, NULL, 0, &needed));
    CHECK_HERE(needed == strlen(want_to) + 1);
    memset(to, SENTINEL_BYTE, sizeof to);
    channel = SENTINEL_U32;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, m2fa_notification_destination(n, &channel, to, 3, &needed));
    CHECK_HERE(channel == SENTINEL_U32);
    CHECK_HERE(all_bytes_are(to, sizeof to, SENTINEL_BYTE));
    CHECK_STATUS_HERE(M2FA_OK, m2fa_notification_destination(n, &channel, to, sizeof to, &needed));
    if (!CHECK_HERE(channel == want_channel)) {
        fprintf(stderr, "    channel %u, expected %u\n", (unsigned)channel, (unsigned)want_channel);
    }
    if (!CHECK_HERE(strcmp(to, want_to) == 0)) {
        fprintf(stderr, "    to \"%s\", expected \"%s\"\n", to, want_to);
    }
    CHECK_STATUS_HERE(M2FA_OK, m2fa_notification_subject(n, subject, sizeof subject, &needed));
    CHECK_HERE(needed == strlen(subject) + 1);
    CHECK_HERE(strstr(subject, account) != NULL);
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, m2fa_notification_text(n, text, 10, &needed));
    CHECK_HERE(needed > 10 && needed <= sizeof text);
    CHECK_STATUS_HERE(M2FA_OK, m2fa_notification_text(n, text, sizeof text, &needed));
    CHECK_HERE(needed == strlen(text) + 1);
    snprintf(link, sizeof link, PORTAL_PREFIX "%s", device);
    if (!(CHECK_HERE(strstr(text, protocol) != NULL) && CHECK_HERE(strstr(text, link) != NULL) &&
          CHECK_HERE(strstr(text, account) != NULL))) {
        fprintf(stderr, "    text: \"%s\"\n", text);
    }
#undef CHECK_HERE
#undef CHECK_STATUS_HERE
}

#define CHECK_NOTIFICATION(n, channel, to, account, device, protocol) \
    check_notification_impl((n), (channel), (to), (account), (device), (protocol), __FILE__, __LINE__)

static m2fa_notification *notification_of(const m2fa_decision *d)
{
    m2fa_notification *n = NULL;
    if (d == NULL || !CHECK_STATUS(M2FA_OK, m2fa_decision_notification(d, &n))) {
        return NULL;
    }
    return n;
}

/* ------------------------------------------------------------------------
 * S12-S14: Outlook and ActiveSync devices
 * ------------------------------------------------------------------------ */

static const struct client outlook_pc = {NULL, NULL, OUTLOOK_UA, "203.0.113.7"};

static void test_outlook_device(void)
{
    section = "outlook device";
    m2fa_engine *engine = new_engine(10);
    struct user frank = {.engine = engine, .name = "frank@example.com"};
    if (engine == NULL || !enroll(&frank, T0)) {
        user_free(&frank);
        m2fa_engine_free(engine);
        return;
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, frank.name, EMAIL, PHONE));
    CHECK_EQ(device_count(&frank, T0), 0);

    /* S12/S13: the right password from an unknown Outlook: blocked. */
    uint64_t now = T0 + 100;
    char id[M2FA_DEVICE_ID_SIZE], text[512];
    m2fa_decision *d = AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now,
                            M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    device_of(d, id);
    m2fa_notification *n = notification_of(d);
    CHECK_NOTIFICATION(n, M2FA_MODE_SMS, PHONE, frank.name, id, "outlook");
    m2fa_notification_free(n);
    m2fa_decision_free(d);

    size_t count = 0;
    m2fa_device_list *list = devices_of(&frank, now, &count);
    if (CHECK_EQ(count, 1)) {
        uint32_t state = SENTINEL_U32;
        uint64_t first = SENTINEL_U64, last = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_device_list_get(list, 0, &state, &first, &last));
        CHECK_EQ(state, M2FA_DEVICE_INACTIVE);
        CHECK_EQ(first, now);
        CHECK_EQ(last, now);
        device_text(list, 0, M2FA_DEVICE_FIELD_ID, text, sizeof text);
        CHECK_STR(text, id);
        device_text(list, 0, M2FA_DEVICE_FIELD_PROTOCOL, text, sizeof text);
        CHECK_STR(text, "outlook");
        device_text(list, 0, M2FA_DEVICE_FIELD_DEVICE_ID, text, sizeof text);
        CHECK_STR(text, "");
        device_text(list, 0, M2FA_DEVICE_FIELD_DEVICE_TYPE, text, sizeof text);
        CHECK_STR(text, "");
        device_text(list, 0, M2FA_DEVICE_FIELD_USER_AGENT, text, sizeof text);
        CHECK_STR(text, OUTLOOK_UA);
        device_text(list, 0, M2FA_DEVICE_FIELD_REMOTE_ADDR, text, sizeof text);
        CHECK_STR(text, "203.0.113.7");
    }
    m2fa_device_list_free(list);

    /* S13: the SMS could not be delivered: the same by e-mail. */
    n = NULL;
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_notification_fallback(engine, PLATFORM, frank.name, id, now + 1, &n));
    CHECK_NOTIFICATION(n, M2FA_MODE_EMAIL, EMAIL, frank.name, id, "outlook");
    m2fa_notification_free(n);

    /* Retried within the notification interval: still pending, no new message. */
    d = AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now + 60,
             M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    if (d != NULL) {
        char again[M2FA_DEVICE_ID_SIZE];
        CHECK_STR(device_of(d, again), id);
        n = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_decision_notification(d, &n));
        CHECK(n == SENTINEL_HANDLE);
        /* The audit line names the protocol and the device, never a secret. */
        char audit[512];
        size_t needed = 0;
        CHECK_STATUS(M2FA_OK, m2fa_decision_audit(d, audit, sizeof audit, &needed));
        CHECK(strstr(audit, "protocol=outlook") != NULL);
        CHECK(strstr(audit, "answer=device-pending") != NULL);
        CHECK(strstr(audit, id) != NULL);
    }
    m2fa_decision_free(d);
    CHECK_EQ(device_count(&frank, now + 60), 1);

    /* S14: the user activates it in the portal: it gets in. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_device_activate(engine, PLATFORM, frank.name, id, now + 120));
    d = AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now + 180,
             M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_AUTHORIZED);
    if (d != NULL) {
        char got[M2FA_DEVICE_ID_SIZE];
        CHECK_STR(device_of(d, got), id);
        uint32_t cacheable = SENTINEL_U32;
        CHECK_STATUS(M2FA_OK, m2fa_decision_cacheable(d, &cacheable));
        CHECK_EQ(cacheable, 0);
    }
    m2fa_decision_free(d);
    list = devices_of(&frank, now + 180, &count);
    if (CHECK_EQ(count, 1)) {
        uint32_t state = SENTINEL_U32;
        uint64_t first = 0, last = 0;
        CHECK_STATUS(M2FA_OK, m2fa_device_list_get(list, 0, &state, &first, &last));
        CHECK_EQ(state, M2FA_DEVICE_ACTIVE);
        CHECK_EQ(first, now);
    }
    m2fa_device_list_free(list);
    /* A wrong password from the active device is still a wrong password. */
    EXPECT_AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, WRONG_PASSWORD, NULL, &outlook_pc, now + 190,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_PASSWORD);

    /* Deactivated: blocked again; activated: in again. */
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_device_deactivate(engine, PLATFORM, frank.name, id, now + 200));
    EXPECT_AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now + 210,
                M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    CHECK_STATUS(M2FA_OK, m2fa_engine_device_activate(engine, PLATFORM, frank.name, id, now + 220));
    EXPECT_AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now + 230,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_AUTHORIZED);

    /* Deleted: unknown again, blocked with a new notification. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_device_delete(engine, PLATFORM, frank.name, id, now + 240));
    CHECK_EQ(device_count(&frank, now + 240), 0);
    CHECK_STATUS(M2FA_NOT_FOUND,
                 m2fa_engine_device_activate(engine, PLATFORM, frank.name, id, now + 245));
    d = AUTH(&frank, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now + 250,
             M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    n = notification_of(d);
    CHECK_NOTIFICATION(n, M2FA_MODE_SMS, PHONE, frank.name, device_of(d, text), "outlook");
    m2fa_notification_free(n);
    m2fa_decision_free(d);
    CHECK_EQ(device_count(&frank, now + 250), 1);

    /* An account without a phone: notified by e-mail, at its own address. */
    struct user bob = {.engine = engine, .name = "bob@example.com"};
    if (enroll(&bob, T0)) {
        static const struct client phone = {"ANDROIDC123456", "Android", "Android-Mail/2024.01",
                                            "2001:db8::1"};
        d = AUTH(&bob, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phone, now,
                 M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
        n = notification_of(d);
        CHECK_NOTIFICATION(n, M2FA_MODE_EMAIL, bob.name, bob.name, device_of(d, id), "activesync");
        if (n != NULL) {
            size_t needed = 0;
            CHECK_STATUS(M2FA_OK, m2fa_notification_text(n, text, sizeof text, &needed));
            CHECK(strstr(text, "Android") != NULL);
        }
        m2fa_notification_free(n);
        m2fa_decision_free(d);
        list = devices_of(&bob, now, &count);
        if (CHECK_EQ(count, 1)) {
            device_text(list, 0, M2FA_DEVICE_FIELD_DEVICE_ID, text, sizeof text);
            CHECK_STR(text, "ANDROIDC123456");
            device_text(list, 0, M2FA_DEVICE_FIELD_DEVICE_TYPE, text, sizeof text);
            CHECK_STR(text, "Android");
            device_text(list, 0, M2FA_DEVICE_FIELD_PROTOCOL, text, sizeof text);
            CHECK_STR(text, "activesync");
            device_text(list, 0, M2FA_DEVICE_FIELD_REMOTE_ADDR, text, sizeof text);
            CHECK_STR(text, "2001:db8::1");
        }
        m2fa_device_list_free(list);
    }
    user_free(&bob);
    user_free(&frank);
    m2fa_engine_free(engine);
}

static void test_device_refusals(void)
{
    section = "device refusals";
    m2fa_engine *engine = new_engine(2);
    struct user carol = {.engine = engine, .name = "carol@example.com"};
    if (engine == NULL || !enroll(&carol, T0)) {
        user_free(&carol);
        m2fa_engine_free(engine);
        return;
    }
    uint64_t now = T0 + 100;
    /* A wrong password creates nothing. */
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_OUTLOOK, NULL, WRONG_PASSWORD, NULL, &outlook_pc, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_PASSWORD);
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, NO_CREDENTIAL, NULL, &outlook_pc, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_PASSWORD);
    CHECK_EQ(device_count(&carol, now), 0);
    /* ActiveSync with no client information: nothing to authorize. */
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, NULL, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_DEVICE_UNIDENTIFIED);
    static const struct client blank = {"  ", "", NULL, "203.0.113.7"};
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &blank, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_DEVICE_UNIDENTIFIED);
    CHECK_EQ(device_count(&carol, now), 0);
    /* max_pending = 2: the third unknown device is refused. */
    static const struct client phones[3] = {
        {"DEVICE1", "iPhone", NULL, NULL},
        {"DEVICE2", "iPhone", NULL, NULL},
        {"DEVICE3", "iPhone", NULL, NULL},
    };
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phones[0], now,
                M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phones[1], now,
                M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phones[2], now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_TOO_MANY_PENDING_DEVICES);
    CHECK_EQ(device_count(&carol, now), 2);
    /* The known ones are still pending, not refused. */
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phones[1], now + 5,
                M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    /* Pending tokens expire after pending_ttl (30 days): room again. */
    EXPECT_AUTH(&carol, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phones[2],
                now + 31 * DAY, M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    CHECK_EQ(device_count(&carol, now + 31 * DAY), 1);
    user_free(&carol);
    m2fa_engine_free(engine);
}

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

static void test_app_passwords(void)
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

/* ------------------------------------------------------------------------
 * S15: policies per protocol
 * ------------------------------------------------------------------------ */

static uint32_t policy_of(const struct user *u, uint32_t protocol, const char *name)
{
    uint32_t policy = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_protocol_policy(u->engine, PLATFORM, u->name, protocol,
                                                      name, &policy));
    return policy;
}

static void test_policies(void)
{
    section = "policies";
    m2fa_engine *engine = new_engine(10);
    struct user erin = {.engine = engine, .name = "erin@example.com"};
    if (engine == NULL || !enroll(&erin, T0)) {
        user_free(&erin);
        m2fa_engine_free(engine);
        return;
    }
    uint64_t now = T0 + 100;
    /* Defaults. */
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_PORTAL, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_ACTIVESYNC, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OUTLOOK, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, "ignored"), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_POP3, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_SMTP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_RPC_OVER_HTTP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);

    /* The platform refuses sieve; the account's own policy wins; DEFAULT clears. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER,
                                                          "sieve", M2FA_POLICY_REFUSED));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_REFUSED);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "managesieve"), M2FA_POLICY_APP_PASSWORD_ONLY);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "sieve", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "sieve",
                                                         M2FA_POLICY_APP_PASSWORD_ONLY));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "sieve", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_APP_PASSWORD_REQUIRED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "sieve", M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER,
                                                          "sieve", M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);

    /* Outlook refused for the account: even its app password. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OUTLOOK, NULL, M2FA_POLICY_REFUSED));
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_EQ(device_count(&erin, now), 0);
    /* Webmail set to devices for the whole platform. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_WEBMAIL, NULL,
                                                          M2FA_POLICY_DEVICE_AUTHORIZATION));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_WEBMAIL, NULL,
                                                          M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_CODE_IN_LOGIN);

    /* By name: a standard name (any case) is the standard protocol, never a
     * host-named alias of it; other names are host-named, case ignored. */
    m2fa_login *login = SENTINEL_HANDLE;
    uint32_t policy = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "IMAP",
                                                         M2FA_POLICY_REFUSED));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_protocol_policy(engine, PLATFORM, erin.name,
                                                      M2FA_PROTOCOL_OTHER, "imap", &policy));
    CHECK_EQ(policy, M2FA_POLICY_REFUSED);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "Imap", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_IMAP, NULL,
                                                         M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "imap"), policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "ManageSieve"),
             policy_of(&erin, M2FA_PROTOCOL_OTHER, "managesieve"));
    CHECK_STATUS(M2FA_OK, m2fa_login_new(M2FA_PROTOCOL_OTHER, "rpc-over-http", &login));
    CHECK(login != SENTINEL_HANDLE && login != NULL);
    m2fa_login_free(login);
    login = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_login_new(M2FA_PROTOCOL_OTHER, "", &login));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_login_new(M2FA_PROTOCOL_OTHER, "si eve", &login));
    CHECK(login == SENTINEL_HANDLE);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    user_free(&erin);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Code in login, and the device binding
 * ------------------------------------------------------------------------ */

static void test_binding(void)
{
    section = "binding";
    m2fa_engine *engine = new_engine(10);
    struct user gina = {.engine = engine, .name = "gina@example.com"};
    if (engine == NULL || !enroll(&gina, T0)) {
        user_free(&gina);
        m2fa_engine_free(engine);
        return;
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_IMAP, NULL,
                                                          M2FA_POLICY_CODE_IN_LOGIN));
    CHECK_EQ(policy_of(&gina, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    uint64_t now = T0 + 3000; /* a step of its own, long after enrollment's */
    char code[CODE_SIZE], input[64];
    code_at(&gina, now, code);
    snprintf(input, sizeof input, "hunter2%s", code);
    size_t password_len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_split_login_for(engine, PLATFORM, gina.name, M2FA_PROTOCOL_IMAP,
                                                      NULL, input, now, &password_len, &has_code));
    CHECK_EQ(password_len, 7);
    CHECK_EQ(has_code, 1);
    /* Where the policy takes no code, nothing is split off. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_split_login_for(engine, PLATFORM, gina.name, M2FA_PROTOCOL_POP3,
                                                      NULL, input, now, &password_len, &has_code));
    CHECK_EQ(password_len, strlen(input));
    CHECK_EQ(has_code, 0);

    static const struct client home = {NULL, NULL, "Thunderbird/115.0", "203.0.113.7"};
    static const struct client home_next = {NULL, NULL, "Thunderbird/115.0", "203.0.113.9"};
    static const struct client away = {NULL, NULL, "Thunderbird/115.0", "198.51.100.1"};
    /* No code: one is required. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home, now,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);
    /* Same client, same /24: trusted for the binding period. */
    m2fa_decision *d = AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home_next,
                            now + 10, M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_TRUSTED);
    if (d != NULL) {
        uint64_t until = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_decision_until(d, &until));
        CHECK_EQ(until, now + BINDING_PERIOD);
    }
    m2fa_decision_free(d);
    /* The password alone never passes through a binding, even from the bound
     * client on its network: the client strings and the address are no
     * secret. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home_next, now + 11,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now + 12,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    /* Another, older code from the bound client: checked as a code, wrong. */
    char older[CODE_SIZE];
    code_at(&gina, now - 600, older);
    if (strcmp(older, code) != 0) {
        EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, older, &home, now + 13,
                    M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    }
    /* The bound string still works after that. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home, now + 14,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_TRUSTED);
    /* Another network: the code is checked, and it was used. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &away, now + 15,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    /* The binding ends. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now + BINDING_PERIOD,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    /* A wrong password is refused even from a trusted device. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, WRONG_PASSWORD, NULL, &home, now + 20,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_PASSWORD);
    user_free(&gina);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Misuse of every new function
 * ------------------------------------------------------------------------ */

static void test_misuse(void)
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
    char id[M2FA_DEVICE_ID_SIZE], buf[320];
    size_t needed = SENTINEL_SIZE, count = SENTINEL_SIZE;
    uint32_t u32 = SENTINEL_U32, u32b = SENTINEL_U32;
    uint64_t u64 = SENTINEL_U64, u64b = SENTINEL_U64;
    m2fa_decision *d = AUTH(&hal, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now,
                            M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    device_of(d, id);

    /* Config setters. */
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

    /* Logins. */
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

    /* Split login. */
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

    /* Decision getters. */
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

    /* Notification fallback. */
    n = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(NULL, PLATFORM, acct, id, now, &n));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, NULL, now, &n));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, id, now, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_notification_fallback(engine, PLATFORM, acct, not_utf8, now, &n));
    CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_notification_fallback(engine, PLATFORM, acct, "not-a-device", now, &n));
    CHECK_STATUS(M2FA_NOT_FOUND, m2fa_engine_notification_fallback(engine, PLATFORM, acct, "00000000000000000000000000000000", now, &n));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_notification_fallback(engine, PLATFORM, "nobody@example.com", id, now, &n));
    CHECK(n == SENTINEL_HANDLE);

    /* Device lists. */
    m2fa_device_list *list = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(NULL, PLATFORM, acct, now, &list));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(engine, NULL, acct, now, &list));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_devices(engine, PLATFORM, acct, now, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_devices(engine, PLATFORM, not_utf8, now, &list));
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_devices(engine, PLATFORM, "nobody@example.com", now, &list));
    CHECK(list == SENTINEL_HANDLE);
    list = devices_of(&hal, now, &count);
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

    /* Device operations. */
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
    CHECK_EQ(device_count(&hal, now), 1);

    /* Application passwords. */
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

    /* Policies. */
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
    CHECK_EQ(policy_of(&hal, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);

    /* *_free(NULL). */
    m2fa_login_free(NULL);
    m2fa_notification_free(NULL);
    m2fa_device_list_free(NULL);
    m2fa_app_password_list_free(NULL);
    CHECK(true);
    user_free(&hal);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 200

static struct {
    const m2fa_engine *engine;
    const char *account;
    const struct client *client;
    uint64_t now;
    pthread_barrier_t barrier;
    unsigned allowed[THREADS], pending[THREADS], errors[THREADS];
} race;

/* Authenticates without the CHECK macros (not thread-safe): tallies only. */
static void race_login(unsigned thread, uint64_t now)
{
    m2fa_login *login = NULL;
    m2fa_decision *d = NULL;
    uint32_t outcome = 0;
    if (m2fa_login_new(M2FA_PROTOCOL_ACTIVESYNC, NULL, &login) != M2FA_OK ||
        m2fa_login_set_password(login, 1) != M2FA_OK ||
        m2fa_login_set_client(login, race.client->device_id, race.client->device_type,
                              race.client->user_agent, race.client->remote_addr) != M2FA_OK ||
        m2fa_engine_authenticate(race.engine, PLATFORM, race.account, login, now, &d) != M2FA_OK ||
        m2fa_decision_outcome(d, &outcome) != M2FA_OK) {
        race.errors[thread]++;
    } else if (outcome == M2FA_OUTCOME_ALLOWED) {
        race.allowed[thread]++;
    } else if (outcome == M2FA_OUTCOME_DEVICE_PENDING) {
        race.pending[thread]++;
    }
    m2fa_decision_free(d);
    m2fa_login_free(login);
}

static void *many_logins(void *arg)
{
    unsigned thread = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&race.barrier);
    for (unsigned i = 0; i < ROUNDS; i++) {
        race_login(thread, race.now + i);
    }
    return NULL;
}

static void *first_login(void *arg)
{
    unsigned thread = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&race.barrier);
    race_login(thread, race.now);
    return NULL;
}

static void run_threads(void *(*body)(void *))
{
    pthread_t threads[THREADS];
    memset(race.allowed, 0, sizeof race.allowed);
    memset(race.pending, 0, sizeof race.pending);
    memset(race.errors, 0, sizeof race.errors);
    CHECK(pthread_barrier_init(&race.barrier, NULL, THREADS) == 0);
    for (unsigned t = 0; t < THREADS; t++) {
        CHECK(pthread_create(&threads[t], NULL, body, (void *)(uintptr_t)t) == 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    pthread_barrier_destroy(&race.barrier);
}

static void test_threads(void)
{
    section = "threads";
    m2fa_engine *engine = new_engine(10);
    struct user ivy = {.engine = engine, .name = "ivy@example.com"};
    struct user jay = {.engine = engine, .name = "jay@example.com"};
    if (engine == NULL || !enroll(&ivy, T0) || !enroll(&jay, T0)) {
        user_free(&ivy);
        user_free(&jay);
        m2fa_engine_free(engine);
        return;
    }
    static const struct client phone = {"IPHONE42", "iPhone", "Apple-iPhone/2101", "203.0.113.7"};
    char id[M2FA_DEVICE_ID_SIZE];
    uint64_t now = T0 + 100;
    m2fa_decision *d = AUTH(&ivy, M2FA_PROTOCOL_ACTIVESYNC, NULL, PASSWORD, NULL, &phone, now,
                            M2FA_OUTCOME_DEVICE_PENDING, M2FA_REASON_NONE);
    device_of(d, id);
    m2fa_decision_free(d);
    CHECK_STATUS(M2FA_OK, m2fa_engine_device_activate(engine, PLATFORM, ivy.name, id, now));

    /* 8 threads x 200 logins of one active device: all allowed. */
    race.engine = engine;
    race.account = ivy.name;
    race.client = &phone;
    race.now = now + 1;
    run_threads(many_logins);
    unsigned allowed = 0, errors = 0, pending = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        allowed += race.allowed[t];
        errors += race.errors[t];
    }
    CHECK_EQ(allowed, THREADS * ROUNDS);
    CHECK_EQ(errors, 0);
    CHECK_EQ(device_count(&ivy, now + ROUNDS), 1);

    /* 8 threads race the first login of one unknown device: one token. */
    race.account = jay.name;
    race.now = now;
    run_threads(first_login);
    allowed = errors = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        allowed += race.allowed[t];
        pending += race.pending[t];
        errors += race.errors[t];
    }
    CHECK_EQ(pending, THREADS);
    CHECK_EQ(allowed, 0);
    CHECK_EQ(errors, 0);
    CHECK_EQ(device_count(&jay, now), 1);
    user_free(&ivy);
    user_free(&jay);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * The engine on a SQLite database (m2fa_engine_open): durable across
 * handles and restarts, shared by two handles at once, refusing links.
 * ------------------------------------------------------------------------ */

/* One login with a code through m2fa_engine_login; the outcome and reason. */
static void login_expect(const struct user *u, const char *code, uint64_t now,
                         uint32_t want_outcome, uint32_t want_reason)
{
    m2fa_decision *d = NULL;
    uint32_t outcome = SENTINEL_U32, reason = SENTINEL_U32;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_login(u->engine, PLATFORM, u->name, code, now, &d))) {
        CHECK_STATUS(M2FA_OK, m2fa_decision_outcome(d, &outcome));
        CHECK_STATUS(M2FA_OK, m2fa_decision_reason(d, &reason));
        CHECK_EQ(outcome, want_outcome);
        CHECK_EQ(reason, want_reason);
    }
    m2fa_decision_free(d);
}

static void test_database(void)
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

static void test_key_file(void)
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

int main(void)
{
    test_outlook_device();
    test_device_refusals();
    test_app_passwords();
    test_policies();
    test_binding();
    test_misuse();
    test_threads();
    test_database();
    test_key_file();

    printf("devices_test: %lu checks, %lu failed (mail2fa %s)\n", checks_run, checks_failed,
           m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * devices_test's shared fixture (declared in fixture.h): words for
 * messages, the engine and enrolled users, logins through
 * m2fa_engine_authenticate checked, device tokens, notifications.
 */

#include "fixture.h"

/* ------------------------------------------------------------------------
 * Words for messages
 * ------------------------------------------------------------------------ */

const char *outcome_word(uint32_t outcome)
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

const char *reason_word(uint32_t reason)
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

const uint8_t device_key[32] = {
    0x6d, 0x61, 0x69, 0x6c, 0x32, 0x66, 0x61, 0x20, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65, 0x20, 0x6b,
    0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x21, 0x21, 0x21,
};

/* An engine with a known device key and portal link; max_pending as given. */
m2fa_engine *new_engine(uint32_t max_pending)
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

const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    CHECK_STATUS(M2FA_OK, m2fa_totp_generate(u->phone, time, code, CODE_SIZE, &needed));
    return code;
}

/* S1/S2 through the C API: enables 2FA, scans the URI with the library's
 * own parser (as engine_test does), and confirms with the code of `now`. */
bool enroll(struct user *u, uint64_t now)
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

void user_free(struct user *u)
{
    m2fa_totp_free(u->phone);
    u->phone = NULL;
}

/* Builds an m2fa_login. */
m2fa_login *make_login(uint32_t protocol, const char *name, enum credential credential,
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
m2fa_decision *auth_impl(const struct user *u, uint32_t protocol, const char *name,
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

/* The device token id of a decision into id[M2FA_DEVICE_ID_SIZE]. */
const char *device_of(const m2fa_decision *d, char id[M2FA_DEVICE_ID_SIZE])
{
    size_t needed = 0;
    id[0] = '\0';
    if (d != NULL) {
        CHECK_STATUS(M2FA_OK, m2fa_decision_device(d, id, M2FA_DEVICE_ID_SIZE, &needed));
    }
    return id;
}

/* The mailbox's device tokens (NULL on failure), with their count. */
m2fa_device_list *devices_of(const struct user *u, uint64_t now, size_t *count)
{
    m2fa_device_list *list = NULL;
    *count = SENTINEL_SIZE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_devices(u->engine, PLATFORM, u->name, now, &list))) {
        return NULL;
    }
    CHECK_STATUS(M2FA_OK, m2fa_device_list_count(list, count));
    return list;
}

size_t device_count(const struct user *u, uint64_t now)
{
    size_t count = SENTINEL_SIZE;
    m2fa_device_list_free(devices_of(u, now, &count));
    return count;
}

/* Field `field` of token `index`, asking for the size first. */
void device_text(const m2fa_device_list *list, size_t index, uint32_t field, char *buf,
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
void check_notification_impl(const m2fa_notification *n, uint32_t want_channel,
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

m2fa_notification *notification_of(const m2fa_decision *d)
{
    m2fa_notification *n = NULL;
    if (d == NULL || !CHECK_STATUS(M2FA_OK, m2fa_decision_notification(d, &n))) {
        return NULL;
    }
    return n;
}

/* An Outlook on a PC, as the host sees it. */
const struct client outlook_pc = {NULL, NULL, OUTLOOK_UA, "203.0.113.7"};

/* The policy in force for a protocol of the account. */

uint32_t policy_of(const struct user *u, uint32_t protocol, const char *name)
{
    uint32_t policy = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_protocol_policy(u->engine, PLATFORM, u->name, protocol,
                                                      name, &policy));
    return policy;
}

/* One login with a code through m2fa_engine_login; the outcome and reason. */
void login_expect(const struct user *u, const char *code, uint64_t now,
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


/*
 * devices_test: S12-S14, Outlook and ActiveSync devices. An unknown
 * device with the right password is blocked (an INACTIVE token, a notification
 * by SMS, or by e-mail when there is no phone or the SMS failed), gets in once
 * activated, is blocked again when deactivated or deleted; wrong passwords
 * create nothing; unidentifiable clients and too many pending devices are
 * refused.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S12-S14: Outlook and ActiveSync devices
 * ------------------------------------------------------------------------ */

void test_outlook_device(void)
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

void test_device_refusals(void)
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

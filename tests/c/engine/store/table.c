/*
 * engine_test on a host-provided store: every engine made by
 * m2fa_engine_with_store over the table of ../../table_store.h instead of
 * the built-in in-memory store (scripts/test-c.sh, "host store"), plus what
 * only a host store can do wrong.
 */

#include "../fixture.h"

#include "../../table_store.h"

/* What only a host store can do wrong: missing callbacks, failing ones. */
static void test_host_store(void)
{
    section = "host store";
    struct table *t = table_new();
    m2fa_engine *engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, NULL, table_cas, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, NULL, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, NULL));
    CHECK(engine == SENTINEL_HANDLE);
    /* The device key is read from the store when the engine is made: a
     * failing store refuses to make it, and the table stays ours. */
    t->fail_next = 1;
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_account(engine, PLATFORM, "ann@example.com",
                                                         UINT64_C(1800000000), &d));
        m2fa_decision_free(d);
        /* A host store cannot list its records: no maintenance. */
        uint64_t examined = SENTINEL_U64, changed = SENTINEL_U64;
        uint32_t finished = SENTINEL_U32;
        CHECK_STATUS(M2FA_UNSUPPORTED, m2fa_engine_maintain(engine, UINT64_C(1800000000), 10,
                                                            &examined, &changed, &finished));
        CHECK(examined == SENTINEL_U64 && changed == SENTINEL_U64 && finished == SENTINEL_U32);
        /* A backend failure refuses the login: never "no 2FA". */
        t->fail_next = 1;
        d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_STORAGE_FAILURE,
                     m2fa_engine_login(engine, PLATFORM, "ann@example.com", "123456",
                                       UINT64_C(1800000000), &d));
        CHECK(d == SENTINEL_HANDLE);
        m2fa_engine_free(engine); /* frees the table */
    } else {
        table_free(t);
    }
}

const struct store_variant store = {
    .name = "host table store",
    .engine_new = table_engine_new,
    .fresh_postgres_url = NULL,
    .own_tests = test_host_store,
};

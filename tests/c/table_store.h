/*
 * A host-provided store for the C tests: mail2fa's records kept in a plain
 * table in the host's memory, behind m2fa_engine_with_store's callbacks —
 * what a mail server does with its own SQL or LDAP database.
 *
 * engine_test built with tests/c/engine/store/table.c runs every one of its
 * scenarios on this store instead of the built-in in-memory one: its
 * engines are made by table_engine_new below.
 */
#ifndef MAIL2FA_TESTS_TABLE_STORE_H
#define MAIL2FA_TESTS_TABLE_STORE_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mail2fa.h>

struct table_row {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    uint64_t version;
    unsigned loads; /* since table_count_loads */
};

struct table {
    pthread_mutex_t lock; /* the callbacks run on any thread */
    struct table_row *rows;
    size_t count, capacity;
    uint64_t next_version; /* store-wide: versions are never reused */
    unsigned fail_next;    /* tests: make the next N calls fail */
    /* Since table_count_loads: loads, and loads of a record already loaded
     * (what "each record read at most once" forbids). */
    unsigned long loads, reloads;
};

/* Starts counting loads afresh. */
static inline void table_count_loads(struct table *t)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->count; i++) {
        t->rows[i].loads = 0;
    }
    t->loads = 0;
    t->reloads = 0;
    pthread_mutex_unlock(&t->lock);
}

static struct table_row *table_find(struct table *t, const uint8_t *key, size_t key_len)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->rows[i].key_len == key_len && memcmp(t->rows[i].key, key, key_len) == 0) {
            return &t->rows[i];
        }
    }
    return NULL;
}

static uint32_t table_load(void *userdata, const uint8_t *key, size_t key_len, uint8_t *buf,
                           size_t buf_len, size_t *len, uint64_t *version, uint32_t *found)
{
    struct table *t = userdata;
    uint32_t status = 0;
    pthread_mutex_lock(&t->lock);
    if (t->fail_next > 0) {
        t->fail_next--;
        status = 1;
    } else {
        struct table_row *row = table_find(t, key, key_len);
        t->loads++;
        if (row != NULL && row->loads++ > 0) {
            t->reloads++;
        }
        if (row == NULL) {
            *found = 0;
        } else if (row->value_len > buf_len) {
            status = 2;
        } else {
            memcpy(buf, row->value, row->value_len);
            *len = row->value_len;
            *version = row->version;
            *found = 1;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return status;
}

static uint32_t table_cas(void *userdata, const uint8_t *key, size_t key_len, uint32_t has_expected,
                          uint64_t expected, const uint8_t *value, size_t value_len,
                          uint64_t *version, uint32_t *stored)
{
    struct table *t = userdata;
    uint32_t status = 0;
    pthread_mutex_lock(&t->lock);
    struct table_row *row = table_find(t, key, key_len);
    if (t->fail_next > 0) {
        t->fail_next--;
        status = 1;
    } else if ((row == NULL) != (has_expected == 0) ||
               (row != NULL && row->version != expected)) {
        *stored = 0; /* someone else wrote first */
    } else if (value == NULL) {
        free(row->key);
        free(row->value);
        *row = t->rows[--t->count];
        *version = t->next_version++;
        *stored = 1;
    } else {
        uint8_t *copy = malloc(value_len ? value_len : 1);
        if (copy == NULL) {
            status = 3;
        } else {
            memcpy(copy, value, value_len);
            if (row == NULL) {
                if (t->count == t->capacity) {
                    size_t capacity = t->capacity ? 2 * t->capacity : 16;
                    struct table_row *rows = realloc(t->rows, capacity * sizeof *rows);
                    if (rows == NULL) {
                        free(copy);
                        pthread_mutex_unlock(&t->lock);
                        return 3;
                    }
                    t->rows = rows;
                    t->capacity = capacity;
                }
                row = &t->rows[t->count++];
                row->key = malloc(key_len ? key_len : 1);
                memcpy(row->key, key, key_len);
                row->key_len = key_len;
                row->loads = 0;
            } else {
                free(row->value);
            }
            row->value = copy;
            row->value_len = value_len;
            row->version = t->next_version++;
            *version = row->version;
            *stored = 1;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return status;
}

static void table_free(void *userdata)
{
    struct table *t = userdata;
    for (size_t i = 0; i < t->count; i++) {
        free(t->rows[i].key);
        free(t->rows[i].value);
    }
    free(t->rows);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct table *table_new(void)
{
    struct table *t = calloc(1, sizeof *t);
    if (t != NULL) {
        pthread_mutex_init(&t->lock, NULL);
        t->next_version = 1;
    }
    return t;
}

/* m2fa_engine_new, on a fresh table the engine owns (freed with it). */
static m2fa_status table_engine_new(const m2fa_engine_config *config, m2fa_engine **out)
{
    struct table *t = table_new();
    if (t == NULL) {
        return M2FA_STORAGE_FAILURE;
    }
    m2fa_status status = m2fa_engine_with_store(config, table_load, table_cas, table_free, t, out);
    if (status != M2FA_OK) {
        table_free(t); /* on an error the table stays ours */
    }
    return status;
}

#endif /* MAIL2FA_TESTS_TABLE_STORE_H */

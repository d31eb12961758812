#include "RawSQLiteLoop.h"
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static int open_ledger(const char *path, sqlite3 **db) {
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) return rc;
    sqlite3_busy_timeout(*db, 10000);
    rc = sqlite3_exec(*db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", NULL, NULL, NULL);
    return rc;
}

int raw_award_loop(const char *path, const char *store_id, const char *card, long long amount_minor,
                   const char *receipt_prefix, int count, int reads_kept_figures) {
    sqlite3 *db = NULL;
    int rc = open_ledger(path, &db);
    if (rc != SQLITE_OK) return rc;
    sqlite3_stmt *begin = NULL, *commit = NULL, *version = NULL, *holder = NULL, *existing = NULL, *spend = NULL, *insert = NULL,
                 *owner = NULL;
    const char *sql[] = {
        "BEGIN IMMEDIATE",
        "COMMIT",
        "SELECT MAX(version) FROM program_versions",
        "SELECT m.id, c.status, m.balance, m.tier, s.balance, s.includes_store_seq, s.tier, m.provisional, "
        "m.local_rolling_after_seq, m.local_rolling_from_ms, m.local_rolling_oldest_ms, m.local_rolling_spend_minor, "
        "m.local_rolling_points FROM cards c JOIN members m ON m.id = c.member_id LEFT JOIN member_snapshots s ON s.member_id = m.id WHERE c.number = ?",
        "SELECT e.seq, e.member_id, e.card, e.points, e.amount_minor, e.balance_after, e.rule_version, e.reported_balance, "
        "IFNULL(e.reported_tier, m.tier) FROM entries e JOIN members m ON m.id = e.member_id WHERE e.idempotency_key = ?",
        "SELECT IFNULL(SUM(amount_minor), 0), MIN(created_at) FROM entries WHERE member_id = ? AND created_at > ?",
        "INSERT INTO entries (id, store_id, member_id, card, kind, points, amount_minor, balance_after, "
        "receipt, idempotency_key, refers_to_seq, rule_version, reason, created_at, reported_balance, reported_tier, "
        "member_name, member_birthday, joins_card) "
        "VALUES (?, ?, ?, ?, 'earn', ?, ?, (SELECT balance FROM members WHERE id = ?) + ?, ?, ?, NULL, 1, NULL, ?, ?, 'base', "
        "NULL, NULL, NULL) RETURNING seq, balance_after",
        // One receipt, one member: no other member's entries on it.
        "SELECT card FROM entries WHERE receipt = ? AND member_id != ? AND kind IN ('earn', 'redeem') LIMIT 1",
        "UPDATE members SET local_rolling_after_seq = 0, local_rolling_from_ms = ?, local_rolling_oldest_ms = ?, "
        "local_rolling_spend_minor = ?, local_rolling_points = 0 WHERE id = ?",
    };
    sqlite3_stmt *keep = NULL;
    sqlite3_stmt **statements[] = {&begin, &commit, &version, &holder, &existing, &spend, &insert, &owner, &keep};
    for (int i = 0; i < 9; i++) {
        rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, statements[i], NULL);
        if (rc != SQLITE_OK) goto done;
    }
    char receipt[96], key[128], id[64];
    long long now_ms = 1790000000000LL;
    for (int i = 0; i < count; i++) {
        snprintf(receipt, sizeof receipt, "%s-%d", receipt_prefix, i);
        snprintf(key, sizeof key, "earn:%s", receipt);
        snprintf(id, sizeof id, "raw-%s-%08d", receipt_prefix, i);
        if (sqlite3_step(begin) != SQLITE_DONE) { rc = sqlite3_errcode(db); goto done; }
        sqlite3_reset(begin);
        sqlite3_step(version); sqlite3_reset(version);
        sqlite3_bind_text(holder, 1, card, -1, SQLITE_STATIC);
        if (sqlite3_step(holder) != SQLITE_ROW) { rc = SQLITE_NOTFOUND; goto done; }
        long long member = sqlite3_column_int64(holder, 0);
        long long balance = sqlite3_column_int64(holder, 2);
        /* The 12-month spend the trigger keeps on the member's row, when it answers this window. */
        long long window_start = now_ms - 365LL * 24 * 3600 * 1000;
        int kept = reads_kept_figures && sqlite3_column_type(holder, 8) != SQLITE_NULL
                   && sqlite3_column_int64(holder, 8) == 0 && sqlite3_column_int64(holder, 9) <= window_start
                   && (sqlite3_column_type(holder, 10) == SQLITE_NULL || window_start < sqlite3_column_int64(holder, 10));
        if (kept) (void)sqlite3_column_int64(holder, 11);
        sqlite3_reset(holder);
        sqlite3_bind_text(existing, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(existing) == SQLITE_ROW) { rc = SQLITE_CONSTRAINT; goto done; }
        sqlite3_reset(existing);
        sqlite3_bind_text(owner, 1, receipt, -1, SQLITE_STATIC);
        sqlite3_bind_int64(owner, 2, member);
        if (sqlite3_step(owner) == SQLITE_ROW) { rc = SQLITE_CONSTRAINT; goto done; }
        sqlite3_reset(owner);
        if (!kept) {
            sqlite3_bind_int64(spend, 1, member);
            sqlite3_bind_int64(spend, 2, window_start);
            sqlite3_step(spend);
            if (reads_kept_figures) {
                sqlite3_bind_int64(keep, 1, window_start);
                if (sqlite3_column_type(spend, 1) == SQLITE_NULL) sqlite3_bind_null(keep, 2);
                else sqlite3_bind_int64(keep, 2, sqlite3_column_int64(spend, 1));
                sqlite3_bind_int64(keep, 3, sqlite3_column_int64(spend, 0));
                sqlite3_bind_int64(keep, 4, member);
                sqlite3_step(keep); sqlite3_reset(keep);
            }
            sqlite3_reset(spend);
        }
        long long points = amount_minor / 100;
        sqlite3_bind_text(insert, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, store_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 3, member);
        sqlite3_bind_text(insert, 4, card, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 5, points);
        sqlite3_bind_int64(insert, 6, amount_minor);
        sqlite3_bind_int64(insert, 7, member);
        sqlite3_bind_int64(insert, 8, points);
        sqlite3_bind_text(insert, 9, receipt, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 10, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 11, now_ms);
        sqlite3_bind_int64(insert, 12, balance + points);
        if (sqlite3_step(insert) != SQLITE_ROW) { rc = sqlite3_errcode(db); goto done; }
        sqlite3_reset(insert);
        if (sqlite3_step(commit) != SQLITE_DONE) { rc = sqlite3_errcode(db); goto done; }
        sqlite3_reset(commit);
    }
    rc = SQLITE_OK;
done:
    for (int i = 0; i < 9; i++) sqlite3_finalize(*statements[i]);
    sqlite3_close(db);
    return rc;
}

long long raw_lookup_loop(const char *path, const char *const *cards, int card_count, int count) {
    sqlite3 *db = NULL;
    if (open_ledger(path, &db) != SQLITE_OK) return -1;
    sqlite3_stmt *lookup = NULL;
    if (sqlite3_prepare_v3(db,
            "SELECT m.id, c.status, IFNULL(s.balance + (SELECT IFNULL(SUM(e.points), 0) FROM entries e "
            "WHERE e.member_id = m.id AND e.seq > s.includes_store_seq), m.balance), m.tier "
            "FROM cards c JOIN members m ON m.id = c.member_id LEFT JOIN member_snapshots s ON s.member_id = m.id WHERE c.number = ?",
            -1, SQLITE_PREPARE_PERSISTENT, &lookup, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    long long found = 0;
    for (int i = 0; i < count; i++) {
        sqlite3_bind_text(lookup, 1, cards[i % card_count], -1, SQLITE_STATIC);
        if (sqlite3_step(lookup) == SQLITE_ROW) {
            // Read every column, as the agent does, so the work is the same.
            (void)sqlite3_column_int64(lookup, 0);
            (void)sqlite3_column_text(lookup, 1);
            (void)sqlite3_column_int64(lookup, 2);
            (void)sqlite3_column_text(lookup, 3);
            found++;
        }
        sqlite3_reset(lookup);
    }
    sqlite3_finalize(lookup);
    sqlite3_close(db);
    return found;
}

int raw_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Written after every scan so the column reads cannot be optimised away. */
volatile long long raw_scan_checksum = 0;

long long raw_scan(const char *path, const char *sql, long long parameter) {
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    long long rows = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &statement, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(statement, 1, parameter);
        long long checksum = 0;
        rows = 0;
        int rc;
        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
            int columns = sqlite3_column_count(statement);
            for (int column = 0; column < columns; column++) checksum += sqlite3_column_int64(statement, column);
            rows++;
        }
        if (rc != SQLITE_DONE) rows = -1;
        raw_scan_checksum = checksum;
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return rows;
}

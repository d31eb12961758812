#ifndef RAW_SQLITE_LOOP_H
#define RAW_SQLITE_LOOP_H

/// Runs `count` awards of `amount_minor` on `card` (receipts PREFIX-0...), each in its own
/// IMMEDIATE transaction with WAL + synchronous=FULL, executing the same SQL statements as the
/// agent's award. `reads_kept_figures` 0: the 12-month spend is summed over the member's entries
/// (the award's SQL before schema v22); 1: read from the member's row, as the agent now does.
/// Returns 0 on success, else the SQLite error code.
int raw_award_loop(const char *path, const char *store_id, const char *card, long long amount_minor,
                   const char *receipt_prefix, int count, int reads_kept_figures);

/// Looks up `count` cards (cycling through `cards`) with the same SELECT the agent's lookup uses.
/// Returns the number of cards found, or -1 on error.
long long raw_lookup_loop(const char *path, const char *const *cards, int card_count, int count);

/// Executes `sql` (several statements allowed) on the database at `path`. Returns 0 or the SQLite error code.
int raw_exec(const char *path, const char *sql);

/// Steps through every row of the one-parameter query `sql` (bound to `parameter`), reading each
/// column as an integer: the database's own cost of a report query, no Swift in the loop.
/// Returns the number of rows, or -1 on error.
long long raw_scan(const char *path, const char *sql, long long parameter);

#endif

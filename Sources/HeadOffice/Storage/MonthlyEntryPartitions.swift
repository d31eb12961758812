import Foundation
import Logging
import PostgresNIO

/// PostgreSQL keeps `hq_entries` partitioned by the month of `created_at_ms` (UTC), one table per month
/// (`hq_entries_2026_12`) and a default partition for entries of months not prepared (a till's clock years
/// off). What reads a time range (rolling aging, the dashboard's days, the 12-month tier rows) reads only
/// its months, and a sync writes into the current month's small indexes however long the history grows.
///
/// Head office prepares the months ahead: at every start-up and at most once a minute with the rolling
/// aging step, the current month and the next ``monthsAhead`` exist. Creating a month locks `hq_entries`
/// briefly: it gives up after half a second (a sync holds the table) and the next step tries again.
/// A month whose entries already went to the default partition stays there (they are still counted).
///
/// SQLite has no partitions; its driver keeps one table.
enum MonthlyEntryPartitions {
    static let schemaVersion = 42

    /// How many months after the current one exist before their first entry.
    static let monthsAhead = 2

    /// The most months one call prepares (a bound on a wrong range: 10 years of months).
    static let maximumMonthsPerCall = 120

    /// `hq_prepare_entry_months(from_ms, until_ms)`: creates the month partitions from the month holding
    /// `from_ms` through the month holding `until_ms` that do not exist yet; returns how many it created.
    static let prepareFunction = """
        CREATE OR REPLACE FUNCTION hq_prepare_entry_months(from_ms bigint, until_ms bigint) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET lock_timeout = '500ms' AS $$
        DECLARE
            month timestamp := date_trunc('month', to_timestamp(from_ms / 1000.0) AT TIME ZONE 'UTC');
            last timestamp := date_trunc('month', to_timestamp(until_ms / 1000.0) AT TIME ZONE 'UTC');
            name text;
            created integer := 0;
        BEGIN
            IF last >= month + interval '\(maximumMonthsPerCall) months' THEN
                RAISE EXCEPTION 'hq_prepare_entry_months: % to % is more than \(maximumMonthsPerCall) months', month, last;
            END IF;
            WHILE month <= last LOOP
                name := 'hq_entries_' || to_char(month, 'YYYY_MM');
                IF to_regclass(name) IS NULL THEN
                    BEGIN
                        EXECUTE format('CREATE TABLE %I PARTITION OF hq_entries FOR VALUES FROM (%s) TO (%s)', name,
                                       (extract(epoch FROM month) * 1000)::bigint,
                                       (extract(epoch FROM month + interval '1 month') * 1000)::bigint);
                        created := created + 1;
                    EXCEPTION
                        -- Another server made it first; a sync holds the table (the next step tries again);
                        -- the default partition already holds entries of that month (they stay there).
                        WHEN duplicate_table OR lock_not_available OR check_violation THEN NULL;
                    END;
                END IF;
                month := month + interval '1 month';
            END LOOP;
            RETURN created;
        END $$
        """

    /// Head office schema v42: `hq_entries` becomes a partitioned table holding the same rows. Its indexes,
    /// triggers (immutability), foreign keys and the view reading it are read from the catalog and made again
    /// on the new table, so the upgrade follows whatever the earlier versions left. The key gains
    /// `created_at_ms` (PostgreSQL requires the partition column in it), so `(store_id, seq)` is held once by a
    /// table of its own, `hq_entry_keys`, filled by a statement trigger: a second row of a store's sequence in
    /// any month is refused by the database, as the old key did (found by attack: ingest writes only the
    /// sequences after the store's mark under its lock, but nothing below it stopped a second copy).
    /// Grants on the old table and its view are given again on the new ones; the key table and the making of
    /// months work as the migrating role (`SECURITY DEFINER`), so a server connecting as another role with
    /// the old grants still syncs (found by verification: 503 with "permission denied for table hq_entry_keys").
    static let postgres: [String] = [
        prepareFunction,
        """
        DO $$
        DECLARE
            tier_rows text := pg_get_viewdef('hq_tier_rows'::regclass);
            indexes text[];
            triggers text[];
            constraints text[];
            grants text[];
            statement text;
        BEGIN
            SELECT COALESCE(array_agg(indexdef), '{}') INTO indexes FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'hq_entries' AND indexname <> 'hq_entries_pkey';
            SELECT COALESCE(array_agg(pg_get_triggerdef(oid)), '{}') INTO triggers FROM pg_trigger
            WHERE tgrelid = 'hq_entries'::regclass AND NOT tgisinternal;
            SELECT COALESCE(array_agg(format('ALTER TABLE hq_entries ADD CONSTRAINT %I %s', conname,
                                             pg_get_constraintdef(oid))), '{}') INTO constraints
            FROM pg_constraint WHERE conrelid = 'hq_entries'::regclass AND contype IN ('f', 'c');
            SELECT COALESCE(array_agg(format('GRANT %s ON %I TO %s', privilege_type, table_name,
                                             CASE WHEN grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(grantee) END)),
                            '{}')
            INTO grants FROM information_schema.role_table_grants
            WHERE table_schema = current_schema() AND table_name IN ('hq_entries', 'hq_tier_rows')
              AND grantee <> current_user;

            DROP VIEW hq_tier_rows;
            ALTER TABLE hq_entries RENAME TO hq_entries_unpartitioned;
            ALTER TABLE hq_entries_unpartitioned RENAME CONSTRAINT hq_entries_pkey TO hq_entries_unpartitioned_pkey;
            CREATE TABLE hq_entries (LIKE hq_entries_unpartitioned INCLUDING DEFAULTS,
                                     CONSTRAINT hq_entries_pkey PRIMARY KEY (store_id, seq, created_at_ms))
                PARTITION BY RANGE (created_at_ms);
            CREATE TABLE hq_entries_default PARTITION OF hq_entries DEFAULT;
            -- The months that hold entries (the last ten years), then this month and the next ones.
            PERFORM hq_prepare_entry_months(month_ms, month_ms)
            FROM (SELECT DISTINCT (extract(epoch FROM date_trunc('month', to_timestamp(created_at_ms / 1000.0)
                                                                     AT TIME ZONE 'UTC')) * 1000)::bigint AS month_ms
                  FROM hq_entries_unpartitioned
                  WHERE created_at_ms >= (extract(epoch FROM now() - interval '10 years') * 1000)::bigint
                    AND created_at_ms < (extract(epoch FROM now() + interval '\(monthsAhead) months') * 1000)::bigint
                 ) AS months;
            PERFORM hq_prepare_entry_months((extract(epoch FROM now()) * 1000)::bigint,
                                            (extract(epoch FROM now() + interval '\(monthsAhead) months') * 1000)::bigint);
            INSERT INTO hq_entries SELECT * FROM hq_entries_unpartitioned;
            CREATE TABLE hq_entry_keys (store_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (store_id, seq));
            INSERT INTO hq_entry_keys SELECT store_id, seq FROM hq_entries_unpartitioned;
            DROP TABLE hq_entries_unpartitioned;
            CREATE FUNCTION hq_entry_keys_hold() RETURNS trigger LANGUAGE plpgsql
                SECURITY DEFINER SET search_path FROM CURRENT AS $keys$
            BEGIN
                INSERT INTO hq_entry_keys SELECT store_id, seq FROM inserted;
                RETURN NULL;
            END $keys$;
            CREATE TRIGGER hq_entries_once AFTER INSERT ON hq_entries REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION hq_entry_keys_hold();
            EXECUTE 'CREATE VIEW hq_tier_rows AS ' || tier_rows;
            FOREACH statement IN ARRAY indexes || triggers || constraints || grants LOOP
                EXECUTE statement;
            END LOOP;
        END $$
        """,
        "ANALYZE hq_entries",
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]
}

extension PostgresHeadOfficeStore {
    /// Makes sure this month and the next ``MonthlyEntryPartitions/monthsAhead`` have their partitions (no write
    /// when they do). Not inside another transaction: creating one waits for the table, briefly.
    func prepareEntryMonths(now: Date) async throws {
        let untilMilliseconds = now.milliseconds + Int64(MonthlyEntryPartitions.monthsAhead) * 31 * 86_400_000
        try await client.query(
            "SELECT hq_prepare_entry_months(\(now.milliseconds), \(untilMilliseconds))", logger: logger)
    }
}

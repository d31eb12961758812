/// Head office schema v50 (PostgreSQL): `hq_entry_keys`, the table that holds each store's sequence once, holds
/// each entry's time beside it, so a return finds its sale's time from one key instead of every month's table.
///
/// A return names its sale by store and sequence, which carry no month. v47's trigger looked the sale up in
/// `hq_entries`, and PostgreSQL probed the key index of every month for each return (found by the growth
/// benchmark: 3.6 ms a return at 99 months; generating history slowed to two minutes a million past 4 M entries).
/// The key table has one row per entry already; its key answers in one probe however many months there are.
///
/// PostgreSQL fires a statement's triggers in the order of their names. The keys' trigger (`hq_entries_once`)
/// now fires before the returns' (renamed `hq_entries_returns_at_sale`), so a sale pushed in the same batch as its
/// return is in the key table when the return looks for it. SQLite keeps one table, found by its key.
enum EntryKeyTimes {
    static let schemaVersion = 50

    static let keysFunction = """
        CREATE OR REPLACE FUNCTION hq_entry_keys_hold() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path FROM CURRENT AS $keys$
        BEGIN
            INSERT INTO hq_entry_keys (store_id, seq, created_at_ms) SELECT store_id, seq, created_at_ms FROM inserted;
            RETURN NULL;
        END $keys$
        """

    static let postgres: [String] = [
        "ALTER TABLE hq_entry_keys ADD COLUMN created_at_ms BIGINT",
        """
        UPDATE hq_entry_keys k SET created_at_ms = e.created_at_ms FROM hq_entries e
        WHERE e.store_id = k.store_id AND e.seq = k.seq
        """,
        "ALTER TABLE hq_entry_keys ALTER COLUMN created_at_ms SET NOT NULL",
        keysFunction,
        ReturnsAtTheirSale.addFunction(salesIn: "hq_entry_keys"),
        "ALTER TRIGGER hq_entries_add_to_returns_at_sale ON hq_entries RENAME TO hq_entries_returns_at_sale",
        "ANALYZE hq_entry_keys",
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]
}

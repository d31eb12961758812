/// Head office schema v46: each member's totals per store ledger (`hq_member_ledgers`: points, spend, entries,
/// sales, the first sale's time and coupon entries), kept as entries arrive. A look-up's per-store figures and a snapshot's purchase count summed the
/// member's whole history, one index probe per month on PostgreSQL (found by the growth benchmark: look-ups and
/// pulls took 2–3× as long with four times the history behind the same recent traffic).
///
/// Triggers keep them whoever writes: every entry written to `hq_entries` is added, and an entry moved to another
/// member (`members merge`) moves with its figures, so the totals cannot miss one (found by attack: an older
/// `loyalty-hq`'s merge on an upgraded database left them behind when the merge moved them itself). Entries are
/// never deleted; a member's row with no entry left goes.
enum MemberLedgerTotals {
    static let schemaVersion = 46

    static let table = """
        CREATE TABLE hq_member_ledgers (
            member_id BIGINT NOT NULL, store_id TEXT NOT NULL, points BIGINT NOT NULL, spend_minor BIGINT NOT NULL,
            entries BIGINT NOT NULL, sales BIGINT NOT NULL, first_sale_at_ms BIGINT, coupons BIGINT NOT NULL,
            PRIMARY KEY (member_id, store_id))
        """

    /// The rows of the entries already held (the upgrade).
    static let fill = """
        INSERT INTO hq_member_ledgers (member_id, store_id, points, spend_minor, entries, sales, first_sale_at_ms, coupons)
        SELECT member_id, store_id, SUM(points), SUM(amount_minor), COUNT(*), SUM(CASE WHEN kind = 'earn' THEN 1 ELSE 0 END),
               MIN(CASE WHEN kind = 'earn' THEN created_at_ms END), SUM(CASE WHEN kind = 'coupon' THEN 1 ELSE 0 END)
        FROM hq_entries GROUP BY member_id, store_id
        """

    /// `ON CONFLICT` adding `excluded`'s figures to the row's (the same text on both drivers).
    private static let addToRow = """
        ON CONFLICT (member_id, store_id) DO UPDATE SET
            points = hq_member_ledgers.points + excluded.points,
            spend_minor = hq_member_ledgers.spend_minor + excluded.spend_minor,
            entries = hq_member_ledgers.entries + excluded.entries,
            sales = hq_member_ledgers.sales + excluded.sales,
            coupons = hq_member_ledgers.coupons + excluded.coupons,
            first_sale_at_ms = CASE WHEN excluded.first_sale_at_ms IS NULL
                                      OR hq_member_ledgers.first_sale_at_ms <= excluded.first_sale_at_ms
                                    THEN hq_member_ledgers.first_sale_at_ms ELSE excluded.first_sale_at_ms END
        """

    /// SQLite: adds the entry `NEW` to its member's row (in a row trigger).
    private static let addNewRow = """
        INSERT INTO hq_member_ledgers (member_id, store_id, points, spend_minor, entries, sales, first_sale_at_ms, coupons)
        VALUES (NEW.member_id, NEW.store_id, NEW.points, NEW.amount_minor, 1, NEW.kind = 'earn',
                CASE WHEN NEW.kind = 'earn' THEN NEW.created_at_ms END, NEW.kind = 'coupon')
        \(addToRow)
        """

    /// PostgreSQL: adds the entries of `rows` (a trigger's transition table) to their members' rows.
    private static func add(rows: String) -> String {
        """
        INSERT INTO hq_member_ledgers (member_id, store_id, points, spend_minor, entries, sales, first_sale_at_ms, coupons)
        SELECT member_id, store_id, SUM(points), SUM(amount_minor), COUNT(*), COUNT(*) FILTER (WHERE kind = 'earn'),
               MIN(created_at_ms) FILTER (WHERE kind = 'earn'), COUNT(*) FILTER (WHERE kind = 'coupon')
        FROM \(rows) GROUP BY member_id, store_id
        \(addToRow)
        """
    }

    static let sqlite = """
        \(table);
        \(fill);
        CREATE TRIGGER hq_entries_add_to_member_ledgers AFTER INSERT ON hq_entries BEGIN
            \(addNewRow);
        END;
        CREATE TRIGGER hq_entries_move_member_ledgers AFTER UPDATE OF member_id ON hq_entries
        WHEN NEW.member_id IS NOT OLD.member_id BEGIN
            UPDATE hq_member_ledgers SET points = points - OLD.points, spend_minor = spend_minor - OLD.amount_minor,
                entries = entries - 1, sales = sales - (OLD.kind = 'earn'), coupons = coupons - (OLD.kind = 'coupon')
            WHERE member_id = OLD.member_id AND store_id = OLD.store_id;
            DELETE FROM hq_member_ledgers WHERE member_id = OLD.member_id AND store_id = OLD.store_id AND entries = 0;
            \(addNewRow);
        END;
        """

    /// One statement per batch (the statement trigger sees the batch's rows), as the migrating role: a server
    /// connecting as another role with the earlier grants still syncs (``MonthlyEntryPartitions``).
    static let postgres: [String] = [
        table,
        fill,
        """
        CREATE FUNCTION hq_member_ledgers_add() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path FROM CURRENT AS $totals$
        BEGIN
            \(add(rows: "inserted"));
            RETURN NULL;
        END $totals$
        """,
        """
        CREATE TRIGGER hq_entries_add_to_member_ledgers AFTER INSERT ON hq_entries REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION hq_member_ledgers_add()
        """,
        """
        CREATE FUNCTION hq_member_ledgers_move() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path FROM CURRENT AS $totals$
        BEGIN
            INSERT INTO hq_member_ledgers (member_id, store_id, points, spend_minor, entries, sales, first_sale_at_ms,
                                           coupons)
            SELECT member_id, store_id, -SUM(points), -SUM(amount_minor), -COUNT(*), -COUNT(*) FILTER (WHERE kind = 'earn'),
                   NULL::bigint, -COUNT(*) FILTER (WHERE kind = 'coupon')
            FROM moved_from GROUP BY member_id, store_id
            \(addToRow);
            \(add(rows: "moved_to"));
            DELETE FROM hq_member_ledgers t USING (SELECT DISTINCT member_id, store_id FROM moved_from) o
            WHERE t.member_id = o.member_id AND t.store_id = o.store_id AND t.entries = 0;
            RETURN NULL;
        END $totals$
        """,
        """
        CREATE TRIGGER hq_entries_move_member_ledgers AFTER UPDATE ON hq_entries
            REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to
            FOR EACH STATEMENT EXECUTE FUNCTION hq_member_ledgers_move()
        """,
        SchemaGrants.likeMembers("hq_member_ledgers"),
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]

    /// A member's sales at every store (placeholder `member`): the `earn` entries head office holds.
    static func sales(member: String) -> String {
        "(SELECT CAST(COALESCE(SUM(t.sales), 0) AS BIGINT) FROM hq_member_ledgers t WHERE t.member_id = \(member))"
    }

    /// ``sales(member:)`` and the member's imported sales.
    static func purchases(member: String) -> String {
        """
        (\(sales(member: member))
         + (SELECT COUNT(*) FROM hq_imported_sales s WHERE s.member_id = \(member) AND s.kind = 'sale'))
        """
    }

    /// Of the members `members` selects (the driver's condition on `member_id`), those with a coupon: an entry of
    /// one at a store, or one head office issued. A pull reads the coupons of these only.
    static func holdingCoupons(members: String) -> String {
        """
        SELECT member_id FROM hq_member_ledgers WHERE member_id \(members) AND coupons > 0
        UNION SELECT member_id FROM hq_issued_coupons WHERE member_id \(members)
        """
    }

    /// A member's points, spend and entries per store ledger (placeholder `member`), by store.
    static func perStore(member: String) -> String {
        """
        SELECT store_id, points, spend_minor, entries FROM hq_member_ledgers WHERE member_id = \(member) ORDER BY store_id
        """
    }
}

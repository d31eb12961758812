/// Head office schema v47 (PostgreSQL): the returns that name their sale, with the time they count at (the sale's),
/// kept in one table (`hq_returns_at_sale`) that the 12-month view reads by member and time.
///
/// In v44's view a return found its sale by store and sequence, which carry no time: PostgreSQL looked in every
/// month's table for each return, and read every month's index for the member's returns (found by the growth
/// benchmark's plans: 6 ms a member at 3.2 years of history, most of a pull). A trigger keeps the table as entries
/// arrive: a return takes its sale's time when the sale is there, and a sale arriving after its return (another
/// till's sale taken back through the store hub) gives the return its time then. A merge moves the rows with the
/// entries. SQLite keeps v44's view: one table, found by its key.
enum ReturnsAtTheirSale {
    static let schemaVersion = 47

    static let table = """
        CREATE TABLE hq_returns_at_sale (
            store_id TEXT NOT NULL, seq BIGINT NOT NULL, member_id BIGINT NOT NULL, points BIGINT NOT NULL,
            amount_minor BIGINT NOT NULL, sale_store TEXT NOT NULL, sale_seq BIGINT NOT NULL, counts_at_ms BIGINT NOT NULL,
            PRIMARY KEY (store_id, seq))
        """

    /// The returns of `source` (a table of entries, `hq_entries` or the trigger's new rows), at their sale's time,
    /// read from `sales` (`hq_entries`, or from v50 the key table, ``EntryKeyTimes``).
    static func returns(of source: String, salesIn sales: String = "hq_entries") -> String {
        """
        INSERT INTO hq_returns_at_sale (store_id, seq, member_id, points, amount_minor, sale_store, sale_seq, counts_at_ms)
        SELECT r.store_id, r.seq, r.member_id, r.points, r.amount_minor, COALESCE(r.refers_to_store, r.store_id),
               r.refers_to_seq,
               COALESCE((SELECT s.created_at_ms FROM \(sales) s
                         WHERE s.store_id = COALESCE(r.refers_to_store, r.store_id) AND s.seq = r.refers_to_seq),
                        r.created_at_ms)
        FROM \(source) r WHERE r.kind = 'reverse' AND r.refers_to_seq IS NOT NULL
        """
    }

    /// v44's branch of returns, read from the table instead: the same rows.
    static let keptReturns = """
            SELECT r.member_id, 'reverse', r.points, r.amount_minor, r.counts_at_ms FROM hq_returns_at_sale r
        """

    static var view: String {
        let byWindow = TierRowsByWindow.view
        precondition(byWindow.contains(TierRowsByWindow.returnsJoiningTheirSale), "v44's branch of returns")
        return byWindow.replacingOccurrences(of: TierRowsByWindow.returnsJoiningTheirSale, with: keptReturns)
            .replacingOccurrences(of: "CREATE VIEW", with: "CREATE OR REPLACE VIEW")
    }

    /// The statement trigger's function: a sale after its return gives it its time; new returns take their sale's,
    /// read from `sales`.
    static func addFunction(salesIn sales: String) -> String {
        """
        CREATE OR REPLACE FUNCTION hq_returns_at_sale_add() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path FROM CURRENT AS $returns$
        BEGIN
            -- A sale after its return: the return counts from the sale's time now.
            UPDATE hq_returns_at_sale r SET counts_at_ms = s.created_at_ms FROM inserted s
            WHERE r.sale_store = s.store_id AND r.sale_seq = s.seq;
            \(returns(of: "inserted", salesIn: sales));
            RETURN NULL;
        END $returns$
        """
    }

    static let postgres: [String] = [
        table,
        "CREATE INDEX hq_returns_at_sale_sale ON hq_returns_at_sale (sale_store, sale_seq)",
        "CREATE INDEX hq_returns_at_sale_member ON hq_returns_at_sale (member_id, counts_at_ms) INCLUDE (points, amount_minor)",
        "CREATE INDEX hq_returns_at_sale_time ON hq_returns_at_sale (counts_at_ms) INCLUDE (member_id, points, amount_minor)",
        returns(of: "hq_entries"),
        addFunction(salesIn: "hq_entries"),
        """
        CREATE TRIGGER hq_entries_add_to_returns_at_sale AFTER INSERT ON hq_entries REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION hq_returns_at_sale_add()
        """,
        """
        CREATE FUNCTION hq_returns_at_sale_move() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path FROM CURRENT AS $returns$
        BEGIN
            UPDATE hq_returns_at_sale r SET member_id = n.member_id FROM moved_to n
            WHERE r.store_id = n.store_id AND r.seq = n.seq AND r.member_id <> n.member_id;
            RETURN NULL;
        END $returns$
        """,
        """
        CREATE TRIGGER hq_entries_move_returns_at_sale AFTER UPDATE ON hq_entries REFERENCING NEW TABLE AS moved_to
            FOR EACH STATEMENT EXECUTE FUNCTION hq_returns_at_sale_move()
        """,
        view,
        "DROP INDEX IF EXISTS hq_entries_member_returns",
        SchemaGrants.likeMembers("hq_returns_at_sale"),
        "ANALYZE hq_returns_at_sale",
        "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
    ]
}

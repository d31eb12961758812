public import LoyaltyCore

/// Head office schema v48: each member's point lots as an expiry run left them (`hq_lot_checkpoints`), so the next
/// run and `report expiring` read only what came after instead of every member's whole history (found by the growth
/// benchmark: the report took 4.9 s at 1 M entries and 37 s at 10 M for the same 200,000 members).
///
/// All kept lots are at one moment, `hq_lot_horizon.checkpoint_ms` (the end of the last run's day, or an hour before
/// the run if that is earlier), with the lifetime they were computed under. An entry that reaches head office dated at
/// or before `horizon_ms` (a till that was offline, a correction counted at an earlier time, a merge moving entries)
/// marks its member in `hq_lot_dirty` by trigger, whoever writes it: that member's history is read in full until a
/// run settles it.
///
/// A run raises `horizon_ms` and the `generation` of marks before it reads, then waits until every writer that may
/// have missed the new horizon has finished (PostgreSQL: every transaction id below the snapshot's `xmax` once the
/// horizon is committed), so an entry either is in what the run read or marks its member. The run then settles only
/// the marks of the generations it read. Kept lots that go (deleted by hand, or with a member merged away) mark their
/// member too, and lots that cannot be read (damaged) are read past: the member's whole history is read instead.
enum PointLotCheckpoints {
    static let schemaVersion = 48
    static let sqliteMigration = "hq-v48-point-lot-checkpoints"

    /// More members marked than this and a fold reads every history in full (and a run rewrites every member's lots).
    static let maximumMarkedMembers = 20_000
    /// Entries dated longer ago than this have normally reached head office: lots are kept no later than that, so
    /// only a till that was offline (or a correction, a merge) sends entries dated before them. (A run as of today
    /// kept at the end of the day would find every sale made after it a late one.)
    public static let syncedWithinMilliseconds: Int64 = 3_600_000
    /// Spent or expired lots and redemptions this long before the kept moment are left out of the kept lots (a refund
    /// naming one has the member's whole history read): the kept lots hold about a year at most, not all history.
    static let refundsKeptMilliseconds: Int64 = 90 * 86_400_000
    /// How long a run waits for writers that started before it raised the horizon; beyond, it keeps no lots.
    public static let writerWaitMilliseconds = 30_000

    private static let tables = [
        """
        CREATE TABLE hq_lot_horizon (
            id INTEGER PRIMARY KEY CHECK (id = 1), horizon_ms BIGINT, checkpoint_ms BIGINT, lifetime_ms BIGINT,
            generation BIGINT NOT NULL)
        """,
        "INSERT INTO hq_lot_horizon (id, generation) VALUES (1, 0)",
        """
        CREATE TABLE hq_lot_checkpoints (
            member_id BIGINT PRIMARY KEY REFERENCES hq_members(id) ON DELETE CASCADE,
            expiry_runs BIGINT NOT NULL, latest_run_ms BIGINT NOT NULL, lots \(Self.blob) NOT NULL)
        """,
    ]
    // Same text on both drivers but the blob type's name.
    private static let blob = "BLOB_TYPE"

    static let sqlite: String = {
        let horizon = "(SELECT horizon_ms FROM hq_lot_horizon WHERE id = 1)"
        func mark(_ members: [String]) -> String {
            "INSERT INTO hq_lot_dirty (member_id, generation) "
                + members.map { "SELECT \($0), generation FROM hq_lot_horizon WHERE id = 1" }
                .joined(separator: " UNION ALL ")
        }
        /// Entries of `table` dated (`time`) at or before the horizon mark their member; a moved one marks both.
        func triggers(_ table: String, time: String) -> [String] {
            [
                """
                CREATE TRIGGER \(table)_mark_late_lots AFTER INSERT ON \(table) WHEN \(time) <= \(horizon) BEGIN
                    \(mark(["NEW.member_id"]));
                END
                """,
                """
                CREATE TRIGGER \(table)_mark_moved_lots AFTER UPDATE ON \(table) WHEN \(horizon) IS NOT NULL BEGIN
                    \(mark(["NEW.member_id", "OLD.member_id"]));
                END
                """,
            ]
        }
        return
            (tables.map { $0.replacingOccurrences(of: "BLOB_TYPE", with: "BLOB") } + [
                "CREATE TABLE hq_lot_dirty (id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, generation INTEGER NOT NULL)",
                "CREATE INDEX hq_lot_dirty_member ON hq_lot_dirty (member_id)",
            ] + triggers("hq_entries", time: "NEW.created_at_ms")
            + triggers("hq_issued", time: "COALESCE(NEW.counts_at_ms, NEW.created_at_ms)") + [
                """
                CREATE TRIGGER hq_lot_checkpoints_mark_removed AFTER DELETE ON hq_lot_checkpoints BEGIN
                    \(mark(["OLD.member_id"]));
                END
                """
            ]).joined(separator: ";\n") + ";"
    }()

    /// PostgreSQL: one statement per written batch, as the migrating role (``MemberLedgerTotals``).
    static let postgres: [String] = {
        func function(_ name: String, rows: String) -> String {
            """
            CREATE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql
                SECURITY DEFINER SET search_path FROM CURRENT AS $lots$
            BEGIN
                INSERT INTO hq_lot_dirty (member_id, generation)
                SELECT DISTINCT r.member_id, h.generation FROM (\(rows)) r JOIN hq_lot_horizon h ON h.id = 1
                WHERE r.at_ms <= h.horizon_ms;
                RETURN NULL;
            END $lots$
            """
        }
        let issuedTime = "COALESCE(counts_at_ms, created_at_ms)"
        // A moved entry marks both members whatever its time: the kept lots of each no longer hold.
        let moved = "SELECT member_id, 0::bigint AS at_ms FROM moved_from UNION ALL SELECT member_id, 0 FROM moved_to"
        return tables.map { $0.replacingOccurrences(of: "BLOB_TYPE", with: "BYTEA") } + [
            """
            CREATE TABLE hq_lot_dirty (id BIGSERIAL PRIMARY KEY, member_id BIGINT NOT NULL, generation BIGINT NOT NULL)
            """,
            "CREATE INDEX hq_lot_dirty_member ON hq_lot_dirty (member_id)",
            function("hq_lot_mark_late_entries", rows: "SELECT member_id, created_at_ms AS at_ms FROM inserted"),
            function("hq_lot_mark_late_issued", rows: "SELECT member_id, \(issuedTime) AS at_ms FROM inserted"),
            function("hq_lot_mark_moved", rows: moved),
            function("hq_lot_mark_removed", rows: "SELECT member_id, 0::bigint AS at_ms FROM removed"),
            """
            CREATE TRIGGER hq_entries_mark_late_lots AFTER INSERT ON hq_entries REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION hq_lot_mark_late_entries()
            """,
            """
            CREATE TRIGGER hq_entries_mark_moved_lots AFTER UPDATE ON hq_entries
                REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to
                FOR EACH STATEMENT EXECUTE FUNCTION hq_lot_mark_moved()
            """,
            """
            CREATE TRIGGER hq_issued_mark_late_lots AFTER INSERT ON hq_issued REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION hq_lot_mark_late_issued()
            """,
            """
            CREATE TRIGGER hq_issued_mark_moved_lots AFTER UPDATE ON hq_issued
                REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to
                FOR EACH STATEMENT EXECUTE FUNCTION hq_lot_mark_moved()
            """,
            """
            CREATE TRIGGER hq_lot_checkpoints_mark_removed AFTER DELETE ON hq_lot_checkpoints
                REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION hq_lot_mark_removed()
            """,
            SchemaGrants.likeMembers("hq_lot_horizon"),
            SchemaGrants.likeMembers("hq_lot_checkpoints"),
            SchemaGrants.likeMembers("hq_lot_dirty"),
            SchemaGrants.likeMembers("hq_lot_dirty_id_seq"),
            "INSERT INTO hq_schema (version) VALUES (\(schemaVersion))",
        ]
    }()

    /// Said when another expiry run holds the lock.
    static let anotherRun = ExpiryRefusal(
        message: "another expiry run (`loyalty-hq expire`) is in progress: run again when it has finished")

    /// Raises the horizon to `horizon` (never lowers it) and starts a new generation of marks; answers the
    /// generation the coming fold settles.
    static let raiseHorizon = """
        UPDATE hq_lot_horizon SET horizon_ms = CASE WHEN horizon_ms IS NULL OR horizon_ms < $1 THEN $1 ELSE horizon_ms END,
            generation = generation + 1
        WHERE id = 1 RETURNING generation - 1
        """

    static let horizon = "SELECT checkpoint_ms, lifetime_ms FROM hq_lot_horizon WHERE id = 1"

    /// Members marked, at most one more than ``maximumMarkedMembers``.
    static let markedMembers = "SELECT DISTINCT member_id FROM hq_lot_dirty LIMIT \(maximumMarkedMembers + 1)"

    /// The point histories after `checkpoint` (ms) of members with kept lots, each led by a row carrying its lots
    /// (`kind` '', lots not null), and the whole histories of the members `marked` selects (`IN (…)`), in the order of
    /// ``IssuedEntryQueries/pointHistory(members:)``. Columns: member, first card, key, kind, points, time,
    /// refers to, lots (of type `blobType`), expiry runs, latest run.
    static func resumedHistories(checkpoint: Int64, marked: String, blobType: String) -> String {
        let entryKey = "store_id || ':' || seq"
        let refersTo = """
            CASE WHEN refers_to_seq IS NULL THEN NULL ELSE COALESCE(refers_to_store, store_id) || ':' || refers_to_seq END
            """
        let issuedTime = "COALESCE(counts_at_ms, created_at_ms)"
        let noLots = "CAST(NULL AS \(blobType)), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
        return """
            SELECT x.member_id, m.first_card, x.key, x.kind, x.points, x.at_ms, x.refers_to, x.lots, x.expiry_runs,
                   x.latest_run_ms FROM (
                SELECT member_id, \(entryKey) AS key, kind, points, created_at_ms AS at_ms, \(refersTo) AS refers_to,
                       CAST(NULL AS \(blobType)) AS lots, CAST(NULL AS BIGINT) AS expiry_runs,
                       CAST(NULL AS BIGINT) AS latest_run_ms
                FROM hq_entries WHERE points <> 0 AND created_at_ms > \(checkpoint) AND NOT (member_id IN \(marked))
                UNION ALL
                SELECT member_id, \(entryKey), kind, points, created_at_ms, \(refersTo), \(noLots)
                FROM hq_entries WHERE points <> 0 AND member_id IN \(marked)
                UNION ALL
                SELECT member_id, 'hq:' || id, kind, points, \(issuedTime), NULL, \(noLots)
                FROM hq_issued WHERE points <> 0 AND (\(issuedTime) > \(checkpoint) OR member_id IN \(marked))
                UNION ALL
                SELECT member_id, '', '', 0, \(Int64.min + 1), NULL, lots, expiry_runs, latest_run_ms
                FROM hq_lot_checkpoints WHERE NOT (member_id IN \(marked))
            ) x JOIN hq_members m ON m.id = x.member_id
            ORDER BY x.member_id, x.at_ms, x.kind = 'expire' AND x.points > 0, x.key
            """
    }
}

/// One member's lots as an expiry run leaves them at its checkpoint (``PointLots/checkpointBytes()``).
public struct KeptPointLots: Sendable {
    public var memberId: Int64
    public var lots: [UInt8]
    public var expiryRuns: Int64
    public var latestRunMilliseconds: Int64

    public init(memberId: Int64, lots: [UInt8], expiryRuns: Int64, latestRunMilliseconds: Int64) {
        self.memberId = memberId
        self.lots = lots
        self.expiryRuns = expiryRuns
        self.latestRunMilliseconds = latestRunMilliseconds
    }
}

/// A member's lots as kept at the checkpoint a fold started from.
public struct ResumedPointLots: Sendable {
    public var lots: PointLots
    /// Head office's expiry entries of the member up to the checkpoint, and the time of the latest.
    public var expiryRuns: Int64
    public var latestRunMilliseconds: Int64
}

/// What a fold of point histories started from: the kept lots' checkpoint and lifetime, or nothing (every history
/// read in full). A run writes its own lots only if no other run wrote since.
public struct PointLotsFold: Sendable, Equatable {
    public var checkpointMilliseconds: Int64?
    public var lifetimeMilliseconds: Int64?
    /// Whether the fold started from kept lots (else it read every history in full).
    public var resumed: Bool
}

/// A fold's wish to start from kept lots: computed under `lifetimeMilliseconds`, kept at or before `asOfMilliseconds`.
public struct PointLotsResumption: Sendable {
    public var lifetimeMilliseconds: Int64
    public var asOfMilliseconds: Int64

    public init(lifetimeMilliseconds: Int64, asOfMilliseconds: Int64) {
        self.lifetimeMilliseconds = lifetimeMilliseconds
        self.asOfMilliseconds = asOfMilliseconds
    }
}

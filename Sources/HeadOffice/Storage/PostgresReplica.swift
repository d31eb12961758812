import LoyaltyCore
import PostgresNIO

/// How far a streaming replica of head office's database (`pg_basebackup`, hot standby) is behind the
/// primary. Reports, analytics and the dashboard read there (`--postgres-replica`), so their long
/// queries never hold up the tills' syncs on the primary; each says how old its figures may be.
public struct ReplicaLag: Sendable, Hashable, Codable {
    /// Seconds between the newest transaction the replica has applied and now; 0 when it has applied
    /// everything it received (a quiet primary sends nothing, so there is nothing to be behind on).
    public var secondsBehind: Double
    /// Whether the replica is connected to the primary and receiving its changes right now.
    public var streaming: Bool

    public init(secondsBehind: Double, streaming: Bool) {
        self.secondsBehind = secondsBehind
        self.streaming = streaming
    }

    /// One line for a person: "the replica is 0.4 s behind the primary" and whether it still follows it.
    public var text: String {
        let behind = secondsBehind < 0.05 ? "up to date with" : String(format: "%.1f s behind", secondsBehind)
        return "read from the replica, \(behind) the primary" + (streaming ? "" : " (not receiving from it now)")
    }
}

extension PostgresHeadOfficeStore {
    /// The replica's lag behind the primary, after checking that this database is a hot standby whose
    /// schema has every version this head office knows. A replica is never migrated (it is read-only):
    /// it follows the primary's migrations, which `loyalty-hq serve` on the primary runs.
    /// - Throws: ``LoyaltyError/unavailable(_:_:)`` when the server is no standby or lags a migration.
    public func replicaLag() async throws -> ReplicaLag {
        let rows = try await client.query(
            """
            SELECT pg_is_in_recovery(),
                   COALESCE(CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                                 ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END, 0)::float8,
                   EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
                   to_regclass('hq_schema') IS NOT NULL
            """, logger: logger)
        var answer: (standby: Bool, behind: Double, streaming: Bool, schema: Bool)?
        for try await row in rows.decode((Bool, Double, Bool, Bool).self) { answer = row }
        guard let answer else {
            throw LoyaltyError.unavailable("not_a_replica", "the --postgres-replica server did not answer")
        }
        guard answer.standby else {
            throw LoyaltyError.unavailable(
                "not_a_replica",
                "the --postgres-replica server is not a standby of head office's database (pg_is_in_recovery() is "
                    + "false): give a streaming replica made with pg_basebackup, or leave the option out")
        }
        var versions: Int64 = 0
        if answer.schema {
            let counted = try await client.query(
                "SELECT COUNT(*)::int8 FROM hq_schema WHERE version <= \(Self.migrations.count)", logger: logger)
            for try await count in counted.decode(Int64.self) { versions = count }
        }
        guard versions == Int64(Self.migrations.count) else {
            throw LoyaltyError.unavailable(
                "replica_behind_schema",
                "the replica has \(versions) of head office's \(Self.migrations.count) schema versions: it is not a copy "
                    + "of this head office's database, or has not applied a migration yet (start `loyalty-hq serve` "
                    + "on the primary first)")
        }
        return ReplicaLag(secondsBehind: max(0, answer.behind), streaming: answer.streaming)
    }
}

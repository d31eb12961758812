import Foundation
import LoyaltyCore
import NIOCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func foldPointHistories<Result: Sendable>(
        resuming: PointLotsResumption?, into initial: Result,
        _ step: @Sendable (inout Result, MemberPointHistory) throws -> Void
    ) async throws -> (Result, PointLotsFold) {
        let logger = self.logger
        return try await transaction { connection in
            // One snapshot: the kept lots, the marks and the events agree.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var fold = PointLotsFold(checkpointMilliseconds: nil, lifetimeMilliseconds: nil, resumed: false)
            for try await (checkpoint, lifetime) in try await connection.query(
                PostgresQuery(unsafeSQL: PointLotCheckpoints.horizon), logger: logger
            ).decode((Int64?, Int64?).self) {
                fold.checkpointMilliseconds = checkpoint
                fold.lifetimeMilliseconds = lifetime
            }
            var marked: [Int64] = []
            if let resuming, let checkpoint = fold.checkpointMilliseconds,
                fold.lifetimeMilliseconds == resuming.lifetimeMilliseconds, checkpoint <= resuming.asOfMilliseconds
            {
                for try await id in try await connection.query(
                    PostgresQuery(unsafeSQL: PointLotCheckpoints.markedMembers), logger: logger
                ).decode(Int64.self) {
                    marked.append(id)
                }
                fold.resumed = marked.count <= PointLotCheckpoints.maximumMarkedMembers
            }
            var result = initial
            var grouping = PointHistoryGrouping(lifetimeMilliseconds: resuming?.lifetimeMilliseconds)
            // Members whose kept lots could not take an event: their whole histories, after the stream.
            var wholeHistoryNeeded: [Int64] = []
            func offer(_ history: MemberPointHistory) throws {
                do {
                    try step(&result, history)
                } catch let needed as WholeHistoryNeeded where history.resumed != nil {
                    wholeHistoryNeeded.append(needed.memberId)
                }
            }
            func stream(_ query: PostgresQuery) async throws {
                for try await (memberId, card, key, kind, points, at, refersTo, lots, runs, latestRun)
                    in try await connection
                    .query(query, logger: logger)
                    .decode((Int64, String, String, String, Int64, Int64, String?, ByteBuffer?, Int64?, Int64?).self)
                {
                    if let finished = grouping.add(
                        memberId: memberId, card: card, key: key, kind: kind, points: points, atMilliseconds: at,
                        refersTo: refersTo, lots: lots.map { Array($0.readableBytesView) }, expiryRuns: runs,
                        latestRunMilliseconds: latestRun)
                    {
                        try offer(finished)
                    }
                }
                if let last = grouping.finish() { try offer(last) }
                wholeHistoryNeeded += grouping.unreadable
                grouping = PointHistoryGrouping(lifetimeMilliseconds: resuming?.lifetimeMilliseconds)
            }
            if fold.resumed, let checkpoint = fold.checkpointMilliseconds {
                var bindings = PostgresBindings()
                bindings.append(marked)
                let sql = PointLotCheckpoints.resumedHistories(
                    checkpoint: checkpoint, marked: "(SELECT unnest($1::bigint[]))", blobType: "BYTEA")
                try await stream(PostgresQuery(unsafeSQL: sql, binds: bindings))
                if !wholeHistoryNeeded.isEmpty {
                    var members = PostgresBindings()
                    members.append(wholeHistoryNeeded)
                    wholeHistoryNeeded = []
                    let whole = IssuedEntryQueries.pointHistory(
                        members: "IN (SELECT unnest($1::bigint[]))", blobType: "BYTEA")
                    try await stream(PostgresQuery(unsafeSQL: whole, binds: members))
                }
            } else {
                let whole = IssuedEntryQueries.pointHistory(members: nil, blobType: "BYTEA")
                try await stream(PostgresQuery(unsafeSQL: whole))
            }
            return (result, fold)
        }
    }

    public func withExpiryRunLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let logger = self.logger
        // Held by an open transaction (no writes, so no transaction id): a pooler keeps it on one server connection,
        // and a run that dies rolls it back. The transaction waits idle for the whole run: a server's
        // `idle_in_transaction_session_timeout` must not end it (found by attack: the run died with the connection).
        return try await transaction { connection in
            try await connection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
            var locked = false
            for try await value in try await connection.query(
                "SELECT pg_try_advisory_xact_lock(7318048)", logger: logger
            ).decode(Bool.self) {
                locked = value
            }
            guard locked else { throw PointLotCheckpoints.anotherRun }
            return try await body()
        }
    }

    public func prepareKeptPointLots(checkpointMilliseconds: Int64) async throws -> Int64? {
        let logger = self.logger
        var generation: Int64 = 0
        for try await value in try await client.query(
            PostgresQuery(
                unsafeSQL: PointLotCheckpoints.raiseHorizon, binds: try Self.bindings(checkpointMilliseconds)),
            logger: logger
        ).decode(Int64.self) {
            generation = value
        }
        // Every transaction that may have read the old horizon has an id below this snapshot's xmax.
        let snapshot = "pg_current_snapshot()"
        var newest: Int64 = 0
        for try await value in try await client.query(
            PostgresQuery(unsafeSQL: "SELECT pg_snapshot_xmax(\(snapshot))::text::bigint"), logger: logger
        ).decode(Int64.self) {
            newest = value
        }
        let pollMilliseconds = 20
        for _ in 0..<(PointLotCheckpoints.writerWaitMilliseconds / pollMilliseconds) {
            var oldest: Int64 = 0
            for try await value in try await client.query(
                PostgresQuery(unsafeSQL: "SELECT pg_snapshot_xmin(\(snapshot))::text::bigint"), logger: logger
            ).decode(Int64.self) {
                oldest = value
            }
            if oldest >= newest { return generation }
            try await Task.sleep(for: .milliseconds(pollMilliseconds))
        }
        logger.warning("expiry keeps no point lots this run: a writer that started before it is still running")
        return nil
    }

    public func keepPointLots(
        _ lots: [KeptPointLots], checkpointMilliseconds: Int64, lifetimeMilliseconds: Int64, after fold: PointLotsFold,
        settlingGeneration: Int64
    ) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            var current = PointLotsFold(checkpointMilliseconds: nil, lifetimeMilliseconds: nil, resumed: fold.resumed)
            for try await (checkpoint, lifetime) in try await connection.query(
                PostgresQuery(unsafeSQL: PointLotCheckpoints.horizon + " FOR UPDATE"), logger: logger
            ).decode((Int64?, Int64?).self) {
                current.checkpointMilliseconds = checkpoint
                current.lifetimeMilliseconds = lifetime
            }
            guard current == fold else { return false }
            // After a fold that read everything, every member with points has new lots here: nothing to delete (a
            // deletion marks its member).
            let chunkSize = 5_000
            for start in stride(from: 0, to: lots.count, by: chunkSize) {
                let chunk = lots[start..<min(start + chunkSize, lots.count)]
                var bindings = PostgresBindings()
                bindings.append(chunk.map(\.memberId))
                bindings.append(chunk.map(\.expiryRuns))
                bindings.append(chunk.map(\.latestRunMilliseconds))
                bindings.append(chunk.map { ByteBuffer(bytes: $0.lots) })
                // A member merged away since the fold has no row to keep lots for.
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO hq_lot_checkpoints (member_id, expiry_runs, latest_run_ms, lots)
                            SELECT u.* FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[])
                                AS u(member_id, expiry_runs, latest_run_ms, lots)
                            WHERE EXISTS (SELECT 1 FROM hq_members m WHERE m.id = u.member_id)
                            ON CONFLICT (member_id) DO UPDATE SET expiry_runs = excluded.expiry_runs,
                                latest_run_ms = excluded.latest_run_ms, lots = excluded.lots
                            """, binds: bindings), logger: logger)
            }
            try await connection.query(
                """
                UPDATE hq_lot_horizon SET checkpoint_ms = \(checkpointMilliseconds), lifetime_ms = \(lifetimeMilliseconds)
                WHERE id = 1
                """, logger: logger)
            try await connection.query(
                "DELETE FROM hq_lot_dirty WHERE generation <= \(settlingGeneration)", logger: logger)
            return true
        }
    }

    private static func bindings(_ value: Int64) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }
}

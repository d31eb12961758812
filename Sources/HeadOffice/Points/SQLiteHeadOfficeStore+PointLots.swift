import Foundation
import GRDB
import LoyaltyCore

extension SQLiteHeadOfficeStore {
    public func foldPointHistories<Result: Sendable>(
        resuming: PointLotsResumption?, into initial: Result,
        _ step: @Sendable (inout Result, MemberPointHistory) throws -> Void
    ) async throws -> (Result, PointLotsFold) {
        // A read is one snapshot: the kept lots, the marks and the events agree.
        try await pool.read { db in
            var fold = PointLotsFold(checkpointMilliseconds: nil, lifetimeMilliseconds: nil, resumed: false)
            if let row = try Row.fetchOne(db, sql: PointLotCheckpoints.horizon) {
                fold.checkpointMilliseconds = row[0]
                fold.lifetimeMilliseconds = row[1]
            }
            var marked: [Int64] = []
            if let resuming, let checkpoint = fold.checkpointMilliseconds,
                fold.lifetimeMilliseconds == resuming.lifetimeMilliseconds, checkpoint <= resuming.asOfMilliseconds
            {
                marked = try Int64.fetchAll(db, sql: PointLotCheckpoints.markedMembers)
                fold.resumed = marked.count <= PointLotCheckpoints.maximumMarkedMembers
            }
            var result = initial
            // Members whose kept lots could not take an event: their whole histories, after the stream.
            var wholeHistoryNeeded: [Int64] = []
            func stream(_ sql: String, _ arguments: StatementArguments) throws {
                var grouping = PointHistoryGrouping(lifetimeMilliseconds: resuming?.lifetimeMilliseconds)
                func offer(_ history: MemberPointHistory) throws {
                    do {
                        try step(&result, history)
                    } catch let needed as WholeHistoryNeeded where history.resumed != nil {
                        wholeHistoryNeeded.append(needed.memberId)
                    }
                }
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    let lots: Data? = row[7]
                    if let finished = grouping.add(
                        memberId: row[0], card: row[1], key: row[2], kind: row[3], points: row[4],
                        atMilliseconds: row[5], refersTo: row[6], lots: lots.map { Array($0) }, expiryRuns: row[8],
                        latestRunMilliseconds: row[9])
                    {
                        try offer(finished)
                    }
                }
                if let last = grouping.finish() { try offer(last) }
                wholeHistoryNeeded += grouping.unreadable
            }
            func list(_ ids: [Int64]) throws -> String {
                String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
            }
            if fold.resumed, let checkpoint = fold.checkpointMilliseconds {
                try stream(
                    PointLotCheckpoints.resumedHistories(
                        checkpoint: checkpoint, marked: "(SELECT value FROM json_each(?1))", blobType: "BLOB"),
                    [try list(marked)])
                if !wholeHistoryNeeded.isEmpty {
                    let members = try list(wholeHistoryNeeded)
                    wholeHistoryNeeded = []
                    let whole = IssuedEntryQueries.pointHistory(
                        members: "IN (SELECT value FROM json_each(?1))", blobType: "BLOB")
                    try stream(whole, [members])
                }
            } else {
                try stream(IssuedEntryQueries.pointHistory(members: nil, blobType: "BLOB"), [])
            }
            return (result, fold)
        }
    }

    public func withExpiryRunLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        // A lock on a file beside the database: the system lets go of it when the process ends, however it ends. Named
        // from the database's real path, so a run through a symbolic link takes the same lock (found by attack).
        let lockPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path + ".expiry-lock"
        let descriptor = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ExpiryRefusal(message: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { throw PointLotCheckpoints.anotherRun }
        return try await body()
    }

    public func prepareKeptPointLots(checkpointMilliseconds: Int64) async throws -> Int64? {
        // One writer at a time: a write that read the old horizon has committed before this one starts.
        try await pool.write { db in
            try Int64.fetchOne(
                db, sql: PointLotCheckpoints.raiseHorizon.replacingOccurrences(of: "$1", with: "?1"),
                arguments: [checkpointMilliseconds])
        }
    }

    public func keepPointLots(
        _ lots: [KeptPointLots], checkpointMilliseconds: Int64, lifetimeMilliseconds: Int64, after fold: PointLotsFold,
        settlingGeneration: Int64
    ) async throws -> Bool {
        try await pool.write { db in
            let row = try Row.fetchOne(db, sql: PointLotCheckpoints.horizon)
            let current = PointLotsFold(
                checkpointMilliseconds: row?[0], lifetimeMilliseconds: row?[1], resumed: fold.resumed)
            guard current == fold else { return false }
            // After a fold that read everything, every member with points has new lots here: nothing to delete (a
            // deletion marks its member).
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO hq_lot_checkpoints (member_id, expiry_runs, latest_run_ms, lots)
                    SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM hq_members WHERE id = ?1)
                    ON CONFLICT (member_id) DO UPDATE SET expiry_runs = excluded.expiry_runs,
                        latest_run_ms = excluded.latest_run_ms, lots = excluded.lots
                    """)
            for member in lots {
                try upsert.execute(
                    arguments: [member.memberId, member.expiryRuns, member.latestRunMilliseconds, Data(member.lots)])
            }
            try db.execute(
                sql: "UPDATE hq_lot_horizon SET checkpoint_ms = ?, lifetime_ms = ? WHERE id = 1",
                arguments: [checkpointMilliseconds, lifetimeMilliseconds])
            try db.execute(sql: "DELETE FROM hq_lot_dirty WHERE generation <= ?", arguments: [settlingGeneration])
            return true
        }
    }
}

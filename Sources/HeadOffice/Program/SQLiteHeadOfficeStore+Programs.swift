public import Foundation
import GRDB
public import LoyaltyCore

extension SQLiteHeadOfficeStore {
    public func publishProgram(
        _ definition: ProgramDefinition, actor: String, reason: String?, now: Date
    ) async throws -> PublishedProgram {
        try await pool.write { db in
            let version = max(1, try Int.fetchOne(db, sql: "SELECT MAX(version) FROM hq_programs") ?? 1) + 1
            var program = try definition.program(version: version)
            program.couponKey = ProgramDocument.couponKey(
                following: try String.fetchOne(db, sql: "SELECT document FROM hq_programs ORDER BY version DESC LIMIT 1"))
            try db.execute(
                sql: "INSERT INTO hq_programs (version, document, valid_from_ms, published_at_ms, published_by) VALUES (?, ?, ?, ?, ?)",
                arguments: [version, ProgramDocument.encode(program), definition.validFromMilliseconds, now.milliseconds, actor])
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'program publish', ?, ?)",
                arguments: [now.milliseconds, actor, "version \(version), valid from \(ChainTime.text(milliseconds: definition.validFromMilliseconds, timeZone: program.chainTimeZone))", reason])
            return PublishedProgram(program: program, publishedAtMilliseconds: now.milliseconds, publishedBy: actor)
        }
    }

    public func programs() async throws -> [PublishedProgram] {
        try await pool.read { db in try Self.programs(db) }
    }

    static func programs(_ db: Database) throws -> [PublishedProgram] {
        try Row.fetchAll(db, sql: "SELECT document, published_at_ms, published_by FROM hq_programs ORDER BY version").map {
            PublishedProgram(program: try ProgramDocument.decode($0[0]), publishedAtMilliseconds: $0[1], publishedBy: $0[2])
        }
    }
}

extension SQLiteHeadOfficeStore {
    public func publishReviewedTiers(_ tiers: [Int64: String], actor: String, now: Date) async throws -> Int {
        try await pool.write { db in
            let changed = try Self.publishMemberColumn(
                .reviewedTier, desired: { tiers[$0].map { .some($0) } }, action: "tiers review", actor: actor, now: now, db)
            // The tier the review gave, and when: the floor under every later sale until the next review.
            for (id, tier) in tiers {
                try db.execute(
                    sql: "UPDATE hq_members SET review_floor = ?, reviewed_at_ms = ? WHERE id = ?",
                    arguments: [tier, now.milliseconds, id])
            }
            return changed
        }
    }
}

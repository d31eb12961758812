public import Foundation
public import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func publishProgram(
        _ definition: ProgramDefinition, actor: String, reason: String?, now: Date
    ) async throws -> PublishedProgram {
        let logger = self.logger
        return try await transaction { connection in
            // One publisher at a time: two publishes must not both take the same version.
            try await connection.query("SELECT pg_advisory_xact_lock(7318004)", logger: logger)
            var version = 2
            for try await newest in try await connection.query("SELECT MAX(version) FROM hq_programs", logger: logger).decode(Int?.self) {
                version = max(1, newest ?? 1) + 1
            }
            var program = try definition.program(version: version)
            var previous: String?
            for try await document in try await connection.query(
                "SELECT document FROM hq_programs ORDER BY version DESC LIMIT 1", logger: logger
            ).decode(String.self) {
                previous = document
            }
            program.couponKey = ProgramDocument.couponKey(following: previous)
            let document = ProgramDocument.encode(program)
            try await connection.query(
                """
                INSERT INTO hq_programs (version, document, valid_from_ms, published_at_ms, published_by)
                VALUES (\(version), \(document), \(definition.validFromMilliseconds), \(now.milliseconds), \(actor))
                """, logger: logger)
            let validFrom = ChainTime.text(milliseconds: definition.validFromMilliseconds, timeZone: program.chainTimeZone)
            let detail = "version \(version), valid from \(validFrom)"
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), 'program publish', \(detail), \(reason))",
                logger: logger)
            return PublishedProgram(program: program, publishedAtMilliseconds: now.milliseconds, publishedBy: actor)
        }
    }

    public func programs() async throws -> [PublishedProgram] {
        let logger = self.logger
        return try await client.withConnection { try await Self.programs($0, logger) }
    }

    static func programs(_ connection: PostgresConnection, _ logger: Logger) async throws -> [PublishedProgram] {
        var result: [PublishedProgram] = []
        for try await (document, at, by) in try await connection.query(
            "SELECT document, published_at_ms, published_by FROM hq_programs ORDER BY version", logger: logger
        ).decode((String, Int64, String).self) {
            result.append(PublishedProgram(program: try ProgramDocument.decode(document), publishedAtMilliseconds: at, publishedBy: by))
        }
        return result
    }
}

extension PostgresHeadOfficeStore {
    public func publishReviewedTiers(_ tiers: [Int64: String], actor: String, now: Date) async throws -> Int {
        let changed = try await publishMemberColumn(
            "reviewed_tier", values: tiers, clearOthers: false, action: "tiers review", actor: actor, now: now)
        // The tier the review gave, and when: the floor under every later sale until the next review.
        let (ids, names) = (Array(tiers.keys), tiers.keys.map { tiers[$0]! })
        try await client.query(
            """
            UPDATE hq_members m SET review_floor = u.tier, reviewed_at_ms = \(now.milliseconds)
            FROM UNNEST(\(ids)::bigint[], \(names)::text[]) AS u(id, tier) WHERE m.id = u.id
            """, logger: logger)
        return changed
    }
}

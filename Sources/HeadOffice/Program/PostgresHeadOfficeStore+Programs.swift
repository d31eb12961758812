public import Foundation
public import LoyaltyCore
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func publishProgram(_ definition: ProgramDefinition, actor: String, now: Date) async throws -> PublishedProgram {
        let logger = self.logger
        return try await transaction { connection in
            // One publisher at a time: two publishes must not both take the same version.
            try await connection.query("SELECT pg_advisory_xact_lock(7318004)", logger: logger)
            var version = 2
            for try await newest in try await connection.query("SELECT MAX(version) FROM hq_programs", logger: logger).decode(Int?.self) {
                version = max(1, newest ?? 1) + 1
            }
            let program = try definition.program(version: version)
            let document = ProgramDocument.encode(program)
            try await connection.query(
                """
                INSERT INTO hq_programs (version, document, valid_from_ms, published_at_ms, published_by)
                VALUES (\(version), \(document), \(definition.validFromMilliseconds), \(now.milliseconds), \(actor))
                """, logger: logger)
            let detail = "version \(version), valid from \(Date(timeIntervalSince1970: Double(definition.validFromMilliseconds) / 1000).formatted(.iso8601))"
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), 'program publish', \(detail), NULL)",
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
        let logger = self.logger
        let ids = Array(tiers.keys)
        let names = ids.map { tiers[$0]! }
        return try await transaction { connection in
            try await connection.query(
                "CREATE TEMP TABLE reviewed_tiers (id BIGINT PRIMARY KEY, tier TEXT NOT NULL) ON COMMIT DROP", logger: logger)
            for chunkStart in stride(from: 0, to: ids.count, by: Self.importChunk) {
                let range = chunkStart..<min(ids.count, chunkStart + Self.importChunk)
                try await connection.query(
                    "INSERT INTO reviewed_tiers (id, tier) SELECT * FROM UNNEST(\(Array(ids[range]))::bigint[], \(Array(names[range]))::text[])",
                    logger: logger)
            }
            // Lock order: members by id, then the counter last.
            var changedIds: [Int64] = []
            for try await id in try await connection.query(
                """
                SELECT m.id FROM hq_members m JOIN reviewed_tiers r ON r.id = m.id
                WHERE m.reviewed_tier IS DISTINCT FROM r.tier ORDER BY m.id FOR UPDATE OF m
                """, logger: logger
            ).decode(Int64.self) { changedIds.append(id) }
            guard !changedIds.isEmpty else { return 0 }
            try await connection.query(
                """
                WITH bumped AS (UPDATE hq_counter SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq)
                UPDATE hq_members m SET reviewed_tier = r.tier, version = (SELECT change_seq FROM bumped)
                FROM reviewed_tiers r WHERE r.id = m.id AND m.id = ANY(\(changedIds)::bigint[])
                """, logger: logger)
            let detail = "reviewed tier changed for \(changedIds.count) members"
            try await connection.query(
                "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (\(now.milliseconds), \(actor), 'tiers review', \(detail), NULL)",
                logger: logger)
            return changedIds.count
        }
    }
}

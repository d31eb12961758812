public import Foundation
import GRDB

extension SQLiteHeadOfficeStore {
    public func credentials(storeId: String, now: Date) async throws -> StoreCredentials? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT secret, previous_secret, previous_secret_until_ms, revoked_at_ms FROM hq_stores WHERE id = ?",
                    arguments: [storeId])
            else { return nil }
            var secrets: [String] = [row["secret"]]
            if let previous: String = row["previous_secret"], let until: Int64 = row["previous_secret_until_ms"],
                until > now.milliseconds
            {
                secrets.append(previous)
            }
            return StoreCredentials(secrets: secrets, revoked: (row["revoked_at_ms"] as Int64?) != nil)
        }
    }

    public func rotateSecret(
        storeId: String, secret: String, overlapSeconds: Int64, actor: String, now: Date
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE hq_stores SET previous_secret = secret, previous_secret_until_ms = ?, secret = ?
                    WHERE id = ? AND revoked_at_ms IS NULL
                    """,
                arguments: [now.milliseconds + overlapSeconds * 1000, secret, storeId])
            guard db.changesCount == 1 else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered, or was revoked")
            }
            try db.execute(
                sql:
                    "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'stores rotate-secret', ?, NULL)",
                arguments: [
                    now.milliseconds, actor,
                    "store \(storeId): new secret, the previous one valid for \(overlapSeconds) s",
                ])
        }
    }

    public func revokeStore(storeId: String, actor: String, reason: String?, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE hq_stores SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL",
                arguments: [now.milliseconds, storeId])
            guard db.changesCount == 1 else {
                throw IngestRefusal(
                    kind: .unknownStore, message: "store \(storeId) is not registered, or was revoked already")
            }
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, 'stores revoke', ?, ?)",
                arguments: [now.milliseconds, actor, "store \(storeId) revoked", reason])
        }
    }

    public func recordAudit(actor: String, action: String, detail: String, reason: String?, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO hq_audit (at_ms, actor, action, detail, reason) VALUES (?, ?, ?, ?, ?)",
                arguments: [now.milliseconds, actor, action, detail, reason])
        }
    }
}

public import Foundation
import PostgresNIO

extension PostgresHeadOfficeStore {
    public func credentials(storeId: String, now: Date) async throws -> StoreCredentials? {
        var found: StoreCredentials?
        for try await (secret, previous, until, revoked) in try await client.query(
            """
            SELECT secret, previous_secret, previous_secret_until_ms, revoked_at_ms FROM hq_stores WHERE id = \(storeId)
            """, logger: logger
        ).decode((String, String?, Int64?, Int64?).self) {
            var secrets = [secret]
            if let previous, let until, until > now.milliseconds { secrets.append(previous) }
            found = StoreCredentials(secrets: secrets, revoked: revoked != nil)
        }
        return found
    }

    public func rotateSecret(
        storeId: String, secret: String, overlapSeconds: Int64, actor: String, now: Date
    ) async throws {
        let logger = self.logger
        try await transaction { connection in
            var rotated = 0
            for try await _ in try await connection.query(
                """
                UPDATE hq_stores SET previous_secret = secret, previous_secret_until_ms = \(now.milliseconds + overlapSeconds * 1000),
                    secret = \(secret)
                WHERE id = \(storeId) AND revoked_at_ms IS NULL RETURNING id
                """, logger: logger
            ).decode(String.self) {
                rotated += 1
            }
            guard rotated == 1 else {
                throw IngestRefusal(kind: .unknownStore, message: "store \(storeId) is not registered, or was revoked")
            }
            try await connection.query(
                """
                INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                VALUES (\(now.milliseconds), \(actor), 'stores rotate-secret',
                        \("store \(storeId): new secret, the previous one valid for \(overlapSeconds) s"), NULL)
                """, logger: logger)
        }
    }

    public func revokeStore(storeId: String, actor: String, reason: String?, now: Date) async throws {
        let logger = self.logger
        try await transaction { connection in
            var revoked = 0
            for try await _ in try await connection.query(
                """
                UPDATE hq_stores SET revoked_at_ms = \(now.milliseconds) WHERE id = \(storeId) AND revoked_at_ms IS NULL
                RETURNING id
                """, logger: logger
            ).decode(String.self) {
                revoked += 1
            }
            guard revoked == 1 else {
                throw IngestRefusal(
                    kind: .unknownStore, message: "store \(storeId) is not registered, or was revoked already")
            }
            try await connection.query(
                """
                INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
                VALUES (\(now.milliseconds), \(actor), 'stores revoke', \("store \(storeId) revoked"), \(reason))
                """, logger: logger)
        }
    }

    public func recordAudit(actor: String, action: String, detail: String, reason: String?, now: Date) async throws {
        try await client.query(
            """
            INSERT INTO hq_audit (at_ms, actor, action, detail, reason)
            VALUES (\(now.milliseconds), \(actor), \(action), \(detail), \(reason))
            """, logger: logger)
    }
}

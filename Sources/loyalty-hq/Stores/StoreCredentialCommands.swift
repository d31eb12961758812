import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore
import SyncProtocol

/// `loyalty-hq stores rotate-secret STORE`: a new secret without downtime.
struct RotateSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Give a store a new secret; the old one keeps working for --overlap-hours (default 24).",
        discussion: """
            Prints the new secret once, alone on the last line of stdout (letters only). Put it in each till's secret \
            file (mode 0600) within the overlap; after it the old secret is refused. --overlap-hours 0 refuses the old \
            one at once (a leaked secret). Every head-office process uses the new secrets within 10 s. Recorded in the \
            audit trail.
            """,
        aliases: ["reissue-secret"])
    @Argument(help: "The store id.") var storeId: String
    @Option(help: "Hours the previous secret stays valid (0 to 168).") var overlapHours: Int = 24
    @Option(help: "Who (default: $USER).") var by: String?
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        guard (0...168).contains(overlapHours) else {
            throw CommandFailure(code: "bad_option", message: "--overlap-hours takes 0 to 168", exitCode: 2)
        }
        if let identity = TillIdentity(ledgerName: storeId), identity.till != nil {
            throw CommandFailure(
                code: "bad_store_id",
                message: "\(storeId) is one till of store \(identity.storeId): its secret comes from the store's; rotate "
                    + "`loyalty-hq stores rotate-secret \(identity.storeId)` (every till of the store then uses the new one)",
                exitCode: 2)
        }
        let actor = try OperatorInput.actor(by)
        let (storeId, overlapSeconds) = (storeId, Int64(overlapHours) * 3600)
        let secret = RequestSigning.newSecret()
        do {
            try await storage.withStore { store, _ in
                try await store.rotateSecret(
                    storeId: storeId, secret: secret, overlapSeconds: overlapSeconds, actor: actor, now: Date())
            }
        } catch let refusal as IngestRefusal where refusal.kind == .unknownStore {
            throw CommandFailure(code: refusal.kind.rawValue, message: refusal.message, exitCode: 1)
        }
        if storage.json {
            struct Body: Encodable {
                var storeId: String
                var secret: String
                var previousValidHours: Int
            }
            Output.out(Output.json(Body(storeId: storeId, secret: secret, previousValidHours: overlapHours)))
        } else {
            Output.out(
                "Store \(storeId) has a new secret; the previous one is refused "
                    + (overlapHours == 0 ? "from now on." : "in \(overlapHours) h.")
                    + " The new secret (shown once; put it in each till's secret file, mode 0600):")
            Output.out(secret)
        }
    }
}

/// `loyalty-hq stores revoke STORE`: refuse a store's every request (a stolen till, a closed store).
struct RevokeStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Refuse every request of a store from now on (its entries stay in the books).",
        discussion: "Every head-office process refuses it within 10 s. Recorded in the audit trail.")
    @Argument(help: "The store id.") var storeId: String
    @Option(help: "Why (kept in the audit trail).") var reason: String?
    @Option(help: "Who (default: $USER).") var by: String?
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let actor = try OperatorInput.actor(by)
        let reason = try OperatorInput.reason(reason)
        let storeId = storeId
        do {
            try await storage.withStore { store, _ in
                try await store.revokeStore(storeId: storeId, actor: actor, reason: reason, now: Date())
            }
        } catch let refusal as IngestRefusal where refusal.kind == .unknownStore {
            throw CommandFailure(code: refusal.kind.rawValue, message: refusal.message, exitCode: 1)
        }
        Output.out(
            storage.json
                ? Output.json(["store_id": storeId, "status": "revoked"])
                : "Store \(storeId) is revoked: head office refuses its requests.")
    }
}

import Foundation
public import LedgerStore
public import LoyaltyCore

/// What a scan says, as one JSON object: the member with balance, tier, progress and flags (looked up
/// in the ledger), or the rejection with its reason. The same for `loyalty-agent scan`, the daemon's
/// scan stream (`/v1/scans`, the kiosk) and the demo.
public struct ScanEvent: Encodable, Sendable {
    public var status: String
    public var card: String?
    public var format: String?
    public var reason: String?
    public var message: String?
    /// The scanner's stable id (serial or USB port path), or where the card came from otherwise.
    public var device: String
    public var enrolled: Bool?
    public var balance: Int64?
    public var tier: String?
    public var cardStatus: String?
    /// What the cashier should know: progress to the next tier, a birthday, head office's flags.
    public var name: String?
    public var rollingSpend: String?
    public var nextTier: String?
    public var spendToNextTier: String?
    public var rollingPointsEarned: Int64?
    public var pointsToNextTier: Int64?
    public var tierBenefits: [String]?
    public var birthdayThisWeek: Bool?
    public var flags: [String]?

    init(status: String, card: String? = nil, format: String? = nil, reason: String? = nil, message: String? = nil, device: String) {
        self.status = status
        self.card = card
        self.format = format
        self.reason = reason
        self.message = message
        self.device = device
    }

    /// Where a card typed at the POS (a sale, a redemption, a member lookup through the API) comes from:
    /// the kiosk shows it as it shows a scan.
    public static let typedAtPOS = "pos"

    /// One JSON object, snake_case keys in a fixed order: a line of `scan`, an event of `/v1/scans`.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The event for `outcome` read at `device`; a member is looked up in `ledger` when given.
    /// - Parameter lookupFailed: told why when the ledger could not be read (the scan is still shown).
    public static func describing(
        _ outcome: ScanOutcome, device: String, ledger: LedgerDatabase?, lookupFailed: (any Error) -> Void = { _ in }
    ) -> ScanEvent {
        switch outcome {
        case .member(let card, let format):
            var event = ScanEvent(status: "member", card: card.value, format: format.rawValue, device: device)
            guard let ledger else { return event }
            do {
                let found = try ledger.lookup(card: card)
                event.enrolled = found != nil
                event.balance = found?.balance
                event.tier = found?.tier
                event.cardStatus = found?.cardStatus
                if found != nil, let view = try? ledger.member(card: card, recentLimit: 0) {
                    event.name = view.name
                    event.rollingSpend = view.rollingSpend
                    event.nextTier = view.nextTier
                    event.spendToNextTier = view.spendToNextTier
                    event.rollingPointsEarned = view.rollingPointsEarned
                    event.pointsToNextTier = view.pointsToNextTier
                    event.tierBenefits = view.tierBenefits.isEmpty ? nil : view.tierBenefits
                    event.birthdayThisWeek = view.birthdayThisWeek
                    event.flags = view.flags
                }
            } catch {
                lookupFailed(error)
            }
            return event
        case .rejected(let reason, let format):
            return ScanEvent(
                status: "rejected", format: format?.rawValue, reason: reason.rawValue, message: reason.advice, device: device)
        }
    }
}

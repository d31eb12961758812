import LedgerStore
public import LoyaltyCore
import SyncProtocol

/// A redemption at a till of a store with a hub: the store's other tills' entries first, then a hold at the
/// hub (which decides one redemption at a time for the whole store), then the till's own checks and entry,
/// then the entry to the hub at once. A hub out of reach leaves the till deciding alone, as without one.
public struct HubRedemption: Sendable {
    public let exchange: HubExchange

    public init(exchange: HubExchange) {
        self.exchange = exchange
    }

    /// Before the redemption is written. Throws the refusal when the member does not have the points across the
    /// store's tills; returns whether the hub holds them (release with ``finish`` when nothing was written).
    public func prepare(card: CardNumber, points: Int64, receipt: ReceiptReference) async throws -> Bool {
        // A retry of a redemption written here already: it is answered from the ledger, nothing new is spent.
        if try exchange.ledger.hasRedemption(receipt: receipt.value) { return false }
        _ = try? await exchange.exchangeOnce()
        // The member as this till sees them now (a card it does not vouch for: its own checks refuse).
        guard let member = try? exchange.ledger.member(card: card, recentLimit: 0), !member.provisional else {
            return false
        }
        let answer: HubHoldResult
        do {
            answer = try await exchange.connection.hold(
                ledger: exchange.ledger.storeId,
                HubHoldRequest(
                    cards: Array(([card.value] + member.cards).prefix(HubHoldQuestion.maximumCards)),
                    balance: member.balance,
                    cursor: try exchange.ledger.hubPosition().cursor, points: points, receipt: receipt.value))
        } catch StoreHubFailure.refused(_, let code, let message) {
            // The hub answers but will not hold for this till (revoked, another store, a clock it cannot follow): the
            // till deciding alone could spend points another till holds (found by attack), so it does not redeem.
            throw LoyaltyError.refused(
                "hub_refused",
                "the store hub refuses this till (\(code): \(message)); no redemption until it is fixed "
                    + "(other sales go on)")
        } catch {
            return false
        }
        switch answer.outcome {
        case HubHoldResult.refused:
            let available = answer.available ?? 0
            throw LoyaltyError.refused(
                "over_balance",
                "the member has \(available) points across the store's tills; redeem at most \(available)")
        case HubHoldResult.blocked:
            throw LoyaltyError.refused(
                "blocked_card", "card \(card.masked) is blocked; ask the member for their current card")
        case HubHoldResult.held: return true
        default: return false
        }
    }

    /// After: the written redemption goes to the hub (it takes the hold's place); a hold for a redemption
    /// the till refused is released.
    public func finish(held: Bool, written: Bool, card: CardNumber, receipt: ReceiptReference) async {
        if written {
            _ = try? await exchange.exchangeOnce()
        } else if held {
            _ = try? await exchange.connection.hold(
                ledger: exchange.ledger.storeId,
                HubHoldRequest(cards: [card.value], balance: 0, cursor: 0, points: 0, receipt: receipt.value))
        }
    }
}

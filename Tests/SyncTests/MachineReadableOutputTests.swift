import Foundation
import LoyaltyCore
import SyncProtocol
import Testing

@testable import HeadOffice
@testable import LedgerStore

/// Everything the binaries print passes through the payment-card redactor. Secrets, ids, epochs and
/// return references are read by machines, so the redactor must never rewrite one: a store secret cut
/// to `…e[bank card number removed]e2be0` left its store refused 401 for ever (about one store in 300).
@Suite struct MachineReadableOutputTests {
    static let draws = 20_000

    @Test func storeSecretsAreNeverRewrittenByTheRedactor() {
        for _ in 0..<Self.draws {
            let secret = RequestSigning.newSecret()
            #expect(secret.utf8.count == 64)
            guard PaymentCardDetector.redacted(secret) == secret else {
                Issue.record("the redactor rewrote a new store secret")
                return
            }
        }
    }

    /// The property above can fail: hex secrets of the earlier form were rewritten often enough.
    @Test func theEarlierHexSecretsWereRewrittenNowAndThen() {
        var generator = SystemRandomNumberGenerator()
        let rewritten = (0..<20_000).count { _ in
            let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
                .joined()
            return PaymentCardDetector.redacted(hex) != hex
        }
        // About one in 300: 67 expected in 20,000; 10 or fewer has a probability far below 1e-15.
        #expect(rewritten > 10, "\(rewritten) of 20,000 hex secrets rewritten")
    }

    @Test func entryIdsAreNeverRewrittenByTheRedactor() {
        var millis: Int64 = 1_700_000_000_000
        for _ in 0..<Self.draws {
            millis += 1
            let id = EntryIdentifier.make(atMilliseconds: millis)
            guard PaymentCardDetector.redacted(id) == id else {
                Issue.record("the redactor rewrote entry id \(id)")
                return
            }
        }
    }

    @Test func headOfficeIdsAndEpochsAreNeverRewrittenByTheRedactor() {
        for _ in 0..<Self.draws {
            let id = MachineToken.uuid()
            let epoch = EpochPolicy.newEpoch()
            guard PaymentCardDetector.redacted(id) == id, PaymentCardDetector.redacted(epoch) == epoch else {
                Issue.record("the redactor rewrote \(id) or \(epoch)")
                return
            }
        }
    }

    /// The quick scan of ``MachineToken/isUnmistakable(_:)`` agrees with the redactor on tokens of every
    /// shape: random mixes of digits, letters, dashes and spaces.
    @Test func theQuickScanAgreesWithTheRedactor() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789012345678901234567890123456789abcdef- ./")
        for _ in 0..<Self.draws {
            let length = Int.random(in: 1...48, using: &generator)
            let token = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            guard MachineToken.isUnmistakable(token) == (PaymentCardDetector.redacted(token) == token) else {
                Issue.record("the quick scan and the redactor disagree on '\(token)'")
                return
            }
        }
    }
}

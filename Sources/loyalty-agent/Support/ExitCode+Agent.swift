import Foundation
import LedgerStore
import LoyaltyCore
import NIOCore
import SyncClient

/// The agent's exit codes, shared with the head-office tool.
enum AgentExit: Int32 {
    case ok = 0
    /// Refused by the program's rules: unknown card, over balance, ...
    case refused = 1
    /// Bad input: malformed amount, card, date, option.
    case badInput = 2
    /// The ledger could not be read or written, or failed verification.
    case storage = 3
    /// Head office unreachable.
    case network = 4
}

/// An error as printed: a code, a message with what to do, an exit code.
struct ReportedError: Encodable {
    var ok = false
    var error: String
    var message: String
    var exitCode: Int32

    init(_ error: any Error) {
        switch error {
        case let error as LoyaltyError:
            self.error = error.code
            self.message = error.message
            self.exitCode =
                switch error.category {
                case .refused: AgentExit.refused.rawValue
                case .badInput: AgentExit.badInput.rawValue
                case .unavailable: AgentExit.network.rawValue
                }
        case let error as StorageError:
            self.error = error.code
            self.message = error.message
            self.exitCode = AgentExit.storage.rawValue
        case let error as SyncFailure:
            switch error {
            case .unreachable, .headOfficeError:
                self.error = "hq_unreachable"
                self.exitCode = AgentExit.network.rawValue
            case .refused(_, let code, _):
                self.error = code
                self.exitCode = AgentExit.refused.rawValue
            case .configuration:
                self.error = "bad_configuration"
                self.exitCode = AgentExit.badInput.rawValue
            }
            self.message =
                error.description
                + (error.isTransient ? "; the sale data is safe in the local ledger, sync again later" : "")
        case let error as IOError where error.errnoCode == EADDRINUSE:
            // `run` could not listen (found by attack: "unexpected failure: bind(...)" told nobody what to do).
            self.error = "address_in_use"
            self.message =
                "another program already listens there (\(error)): stop it or choose another port "
                + "(--listen or --hub-listen; listen or hub.listen in agent.yaml)"
            self.exitCode = AgentExit.storage.rawValue
        default:
            self.error = "storage_failure"
            self.message = "unexpected failure: \(error)"
            self.exitCode = AgentExit.storage.rawValue
        }
    }
}

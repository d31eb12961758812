import ArgumentParser
import Foundation
import HeadOffice
import LoyaltyCore

@main
enum HQEntryPoint {
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with SIGTERM/SIGINT blocked; a daemon must hear them.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        umask(0o077)
        do {
            // Read (and checked) before any command runs: a bad key stops everything with its line.
            let file = try await HQConfigFile.load(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
            HQConfigFile.current.withLock { $0 = file }
        } catch {
            // Help is there while the file is being fixed.
            let arguments = CommandLine.arguments.dropFirst()
            if !(arguments.contains("--help") || arguments.contains("-h") || arguments.first == "help") {
                fail(CommandFailure(code: error.code, message: error.message, exitCode: 2))
            }
        }
        var command: any ParsableCommand
        do {
            command = try LoyaltyHQ.parseAsRoot()
        } catch {
            if LoyaltyHQ.exitCode(for: error) == .success {
                Output.out(LoyaltyHQ.fullMessage(for: error))
                exit(0)
            }
            fail(CommandFailure(code: "usage", message: LoyaltyHQ.fullMessage(for: error), exitCode: 2))
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let failure as CommandFailure {
            fail(failure)
        } catch where LoyaltyHQ.exitCode(for: error) == .success {
            // `help` / `--help` on a subcommand: argument-parser hands back a command that throws its help.
            Output.out(LoyaltyHQ.fullMessage(for: error))
            exit(0)
        } catch let problems as HistoryImportError {
            fail(CommandFailure(code: "bad_history", message: "nothing was imported; fix these lines and import again:\n\(problems)", exitCode: 2))
        } catch let error as LoyaltyError {
            fail(CommandFailure(code: error.code, message: error.message, exitCode: error.category == .badInput ? 2 : 1))
        } catch let refusal as IngestRefusal {
            fail(CommandFailure(code: refusal.kind.rawValue, message: refusal.message, exitCode: refusal.kind == .invalid ? 2 : 1))
        } catch {
            // Anything else comes from the database: unreachable server, unwritable file, ...
            fail(CommandFailure(
                code: "storage_failure",
                message: "head-office storage failed: \(String(describing: error).prefix(400)); check --db / --postgres and that the database is reachable",
                exitCode: 3))
        }
    }

    static func fail(_ failure: CommandFailure) -> Never {
        if CommandLine.arguments.contains("--json") {
            struct Body: Encodable {
                var ok = false
                var error: String
                var message: String
            }
            Output.out(Output.json(Body(error: failure.code, message: failure.message)))
        }
        Output.err("error: \(failure.message)")
        exit(failure.exitCode)
    }
}

struct LoyaltyHQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loyalty-hq",
        abstract: "Head office: receives the stores' ledger batches, holds every member's true balance, reports.",
        discussion: "Exit codes: 0 ok, 1 refused, 2 bad input, 3 storage failure, 4 network.",
        subcommands: [
            Serve.self, Stores.self, Member.self, Members.self, Cards.self, MemberRangesCommand.self, Report.self, Epoch.self,
            Import.self, Clv.self, Export.self, Settings.self, Segments.self, ProgramCommand.self, Tiers.self, Expire.self, Referrals.self,
        ])
}

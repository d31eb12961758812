import ArgumentParser
import Foundation
import LoyaltyCore

@main
enum EntryPoint {
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "run" {
            // The daemon's tasks run on NIO's event-loop threads rather than Dispatch's worker pool:
            // on Linux libdispatch wakes once a second to watch that pool, even when nothing runs.
            Run.tasksOnEventLoops = EventLoopGlobalExecutor.install()
        }
        // A file-size limit must fail the write (SQLite reports it and rolls back), not kill us mid-way.
        signal(SIGXFSZ, SIG_IGN)
        // A parent may have started us with SIGTERM/SIGINT blocked; a daemon must hear them.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        // The ledger, its WAL and anything else we create are private to the service user.
        umask(0o077)
        do {
            let file = try await AgentConfigFile.load(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
            AgentConfigFile.current.withLock { $0 = file }
        } catch {
            report(error, json: CommandLine.arguments.contains("--json"))
        }
        let command: any ParsableCommand
        do {
            command = try LoyaltyAgent.parseAsRoot()
        } catch {
            let code = LoyaltyAgent.exitCode(for: error)
            if code == .success {
                Printer.out(LoyaltyAgent.fullMessage(for: error))
                exit(0)
            }
            let message = LoyaltyAgent.fullMessage(for: error)
            if CommandLine.arguments.contains("--json") {
                Printer.out(Printer.json(ReportedError(LoyaltyError.badInput("usage", message))))
            }
            Printer.err("error: \(message)")
            Printer.err("Run `loyalty-agent help` for usage.")
            exit(AgentExit.badInput.rawValue)
        }
        if var asyncCommand = command as? any AsyncParsableCommand {
            do {
                try await asyncCommand.run()
                exit(0)
            } catch let code as ExitCode {
                exit(code.rawValue)
            } catch {
                report(error, json: CommandLine.arguments.contains("--json"))
            }
        }
        if let asyncCommand = command as? any AsyncLedgerCommand {
            let json = asyncCommand.global.json
            do {
                let ledger = try asyncCommand.global.openLedger()
                let output = try await asyncCommand.execute(ledger)
                Printer.out(json ? Printer.json(output.json) : output.human)
                exit(output.exitCode)
            } catch {
                report(error, json: json)
            }
        }
        guard let ledgerCommand = command as? any LedgerCommand else {
            do {
                var command = command
                try command.run()
                exit(0)
            } catch where LoyaltyAgent.exitCode(for: error) == .success {
                // `help` / `--help` on a subcommand: argument-parser hands back a command that throws its help.
                Printer.out(LoyaltyAgent.fullMessage(for: error))
                exit(0)
            } catch {
                report(error, json: false)
            }
        }
        let json = ledgerCommand.global.json
        do {
            let ledger = try ledgerCommand.global.openLedger()
            let output = try ledgerCommand.execute(ledger)
            Printer.out(json ? Printer.json(output.json) : output.human)
            exit(output.exitCode)
        } catch {
            report(error, json: json)
        }
    }

    static func report(_ error: any Error, json: Bool) -> Never {
        let reported = ReportedError(error)
        if json { Printer.out(Printer.json(reported)) }
        Printer.err("error: \(reported.message)")
        exit(reported.exitCode)
    }
}

struct LoyaltyAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loyalty-agent",
        abstract: "The store's loyalty agent: member cards, points awarded and redeemed offline, a durable local ledger.",
        discussion: """
            Exit codes: 0 ok, 1 refused by the program's rules, 2 bad input, 3 storage failure, 4 head office unreachable.
            """,
        subcommands: [
            Init.self, Enroll.self, Award.self, Redeem.self, Refund.self, Member.self, Profile.self, Feedback.self, Cards.self, Coupons.self, Status.self,
            Verify.self,
            Sync.self, Daemon.self, Run.self, APIToken.self, Devices.self, Scan.self, AwardLoop.self, Demo.self,
        ])
}

import ArgumentParser
import CommandLineOutput
import Foundation
import LoyaltyCore

/// `loyalty-demo`: the whole product on throw-away databases. Its own program so that the till's
/// binary (`loyalty-agent`) carries no head-office code.
@main
enum EntryPoint {
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        umask(0o077)
        do {
            var command = try Demo.parseAsRoot()
            if let demo = command as? Demo {
                try await demo.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch let error as LoyaltyError {
            Printer.err("error: \(error.message)")
            exit(error.category == .refused ? 1 : 2)
        } catch {
            let code = Demo.exitCode(for: error)
            let full = Demo.fullMessage(for: error)
            let message = full.hasPrefix("Error: ") ? String(full.dropFirst("Error: ".count)) : full
            if code == .success {
                Printer.out(message)
                exit(0)
            }
            Printer.err("error: \(message)")
            exit(code == .validationFailure ? 2 : 3)
        }
    }
}

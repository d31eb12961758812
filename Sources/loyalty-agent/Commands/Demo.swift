import ArgumentParser
import Foundation
import LoyaltyCore

/// `loyalty-agent demo`: hands over to `loyalty-demo`, a program of its own so that the till's binary
/// carries no head-office code.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: hands over to `loyalty-demo` (beside this program or on PATH).",
        discussion: "Every argument goes to loyalty-demo; `loyalty-demo --help` says what they are.")

    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

    func run() throws {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("loyalty-demo").path
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/loyalty-demo" }
        guard let demo = ([beside] + onPath).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw LoyaltyError.refused(
                "no_demo",
                "the demo is its own program, loyalty-demo, and it is not installed here: run scripts/demo in the "
                    + "checkout, or build it with `swift build --product loyalty-demo`")
        }
        let argv = ([demo] + arguments).map { strdup($0) } + [nil]
        execv(demo, argv)
        throw LoyaltyError.refused("no_demo", "could not start \(demo): \(String(cString: strerror(errno)))")
    }
}

import Foundation
import Testing

/// The till carries only the till: `loyalty-agent` links no head-office server, storage drivers or
/// dashboard. Checked on the built binary's symbols (Swift mangles a module's name into each of its
/// symbols: `10HeadOffice`, `11PostgresNIO`), so a dependency added back by any route fails here.
@Suite struct TillBinaryTests {
    static let headOfficeModules = ["10HeadOffice", "11PostgresNIO"]

    @Test func theTillBinaryLinksNoHeadOfficeCode() throws {
        let symbols = try Self.symbolModules(of: AgentProcess.binary)
        for module in Self.headOfficeModules {
            #expect(!symbols.contains(module), "loyalty-agent links \(module.drop { $0.isNumber })")
        }
        // The check can see a module: the till's own code is found the same way.
        #expect(symbols.contains("11LedgerStore") && symbols.contains("10CardReader"))
    }

    @Test func headOfficeAndTheDemoStillCarryIt() throws {
        let folder = URL(fileURLWithPath: AgentProcess.binary).deletingLastPathComponent()
        for program in ["loyalty-hq", "loyalty-demo"] {
            let symbols = try Self.symbolModules(of: folder.appendingPathComponent(program).path)
            #expect(symbols.contains("10HeadOffice"), "\(program) should hold head office")
        }
    }

    /// Which of the modules this test names appear in the binary's symbol table (`nm`).
    static func symbolModules(of binary: String) throws -> Set<String> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        process.arguments = ["--defined-only", binary]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "nm could not read \(binary)")
        let text = String(decoding: data, as: UTF8.self)
        let wanted = headOfficeModules + ["11LedgerStore", "10CardReader"]
        return Set(wanted.filter { text.contains("$s\($0)") })
    }
}

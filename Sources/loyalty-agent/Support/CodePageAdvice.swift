import Foundation
import Glibc

/// The agent binary carries the Swift runtime and Foundation statically (about 90 MB). Start-up runs
/// through a lot of that code once (argument parsing, configuration, migrations, server set-up), so
/// does each sync (HTTP client, TLS, gzip), and the kernel maps up to 16 neighbouring pages per fault:
/// the idle daemon kept 23 MiB of its own code resident. Once ready, and after each sync, it lets go
/// of those mappings; the pages stay in the page cache (nothing is read from disk again) and the code
/// it runs next is mapped again as it runs.
enum CodePageAdvice {
    /// `LOYALTY_AGENT_CODE_PAGES=keep` turns it off, so that `Benchmarks/daemon-benchmark.py
    /// --keep-code-pages` can measure what it buys.
    static let enabled = ProcessInfo.processInfo.environment["LOYALTY_AGENT_CODE_PAGES"] != "keep"

    /// `MADV_DONTNEED` on this executable's code mappings (`r-xp`: never written, so nothing is lost;
    /// data and relocated read-only mappings are left alone). Returns the bytes released.
    @discardableResult
    static func releaseCodePages() -> Int {
        guard enabled else { return 0 }
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        else { return 0 }
        var released = 0
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5...].joined(separator: " ") == executable else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                end > start, let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            if madvise(address, Int(end - start), MADV_DONTNEED) == 0 { released += Int(end - start) }
        }
        return released
    }
}

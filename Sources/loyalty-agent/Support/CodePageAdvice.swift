import Foundation
import Glibc

/// The agent binary carries the Swift runtime and Foundation statically (about 90 MB). Paging its
/// code in with the kernel's default read-ahead and fault-around maps up to 16 neighbouring pages per
/// fault, most never run: the idle daemon showed 23 MiB of its own code resident. Advising random
/// access makes the kernel map only the pages the daemon executes (start-up is a few ms slower).
enum CodePageAdvice {
    /// Applies `MADV_RANDOM` to every read-only mapping of this executable; returns how many.
    @discardableResult
    static func adviseRandomAccessToOwnCode() -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        else { return 0 }
        var advised = 0
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5...].joined(separator: " ") == executable, !fields[1].contains("w") else {
                continue
            }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                end > start,
                let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            if madvise(address, Int(end - start), MADV_RANDOM) == 0 { advised += 1 }
        }
        return advised
    }
}

import Foundation

/// Globally unique entry ids in the UUID version 7 layout: 48 bits of milliseconds, then 74 random
/// bits. Time-ordered ids append to the end of the ledger's unique index instead of landing on a
/// random page of it, so an award's commit writes fewer distinct pages than with random UUIDs.
enum EntryIdentifier {
    static func make(atMilliseconds millis: Int64) -> String {
        precondition(millis >= 0, "entry times are after 1970")
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: UInt64(millis) >> (8 * (5 - index))) }
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        for index in 6..<16 {
            let word = index < 14 ? random.0 : random.1
            bytes[index] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 9562 variant
        let hex = bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}

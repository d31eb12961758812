import Foundation
import LoyaltyCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Globally unique entry ids in the UUID version 7 layout: 48 bits of milliseconds, then 74 random
/// bits. Time-ordered ids append to the end of the ledger's unique index instead of landing on a
/// random page of it, so an award's commit writes fewer distinct pages than with random UUIDs.
/// An id is printed with its entry, so its random bits are drawn again until the payment-card
/// redactor leaves it unchanged (``MachineToken``).
enum EntryIdentifier {
    static func make(atMilliseconds millis: Int64) -> String {
        MachineToken.drawn { draw(atMilliseconds: millis) }
    }

    private static func draw(atMilliseconds millis: Int64) -> String {
        precondition(millis >= 0, "entry times are after 1970")
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: UInt64(millis) >> (8 * (5 - index))) }
        let random = RandomPool.shared.next()
        for index in 6..<16 { bytes[index] = UInt8(truncatingIfNeeded: random >> (8 * UInt64(index - 6))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 9562 variant
        return String(unsafeUninitializedCapacity: 36) { text in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                text[position] = digits.utf8Start[Int(byte >> 4)]
                text[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                position += 2
            }
            return position
        }
    }
}

/// Random bits from the system's generator, fetched 4 KiB at a time: one `getrandom` call per 256 ids
/// instead of two per id (the kernel call cost more than the rest of making the id).
final class RandomPool: Sendable {
    static let shared = RandomPool()
    private static let wordsPerRefill = 512

    private let state = Mutex<(words: [UInt64], next: Int)>(([], 0))

    /// 128 random bits.
    func next() -> UInt128 {
        state.withLock { state in
            if state.next + 2 > state.words.count {
                state.words = Self.systemRandomWords(Self.wordsPerRefill)
                state.next = 0
            }
            defer { state.next += 2 }
            return UInt128(state.words[state.next]) << 64 | UInt128(state.words[state.next + 1])
        }
    }

    /// `count` words from the kernel's generator in one read; word by word from the standard generator
    /// if `/dev/urandom` cannot be read.
    private static func systemRandomWords(_ count: Int) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        #if canImport(Glibc)
            let byteCount = count * MemoryLayout<UInt64>.size
            let device = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if device >= 0 {
                defer { close(device) }
                var filled = 0
                words.withUnsafeMutableBytes { buffer in
                    while filled < byteCount {
                        let got = read(device, buffer.baseAddress! + filled, byteCount - filled)
                        if got > 0 {
                            filled += got
                        } else if got < 0 && errno == EINTR {
                            continue
                        } else {
                            break
                        }
                    }
                }
                if filled == byteCount { return words }
            }
        #endif
        var generator = SystemRandomNumberGenerator()
        for index in words.indices { words[index] = generator.next() }
        return words
    }
}

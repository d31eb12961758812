import Foundation
import LoyaltyCore
import Testing

/// One way to write a time, everywhere a person or a POS reads one: the chain's zone, to the second.
@Suite struct ChainTimeTests {
    @Test func aTimeIsWrittenInTheChainsZoneToTheSecond() {
        let milliseconds: Int64 = 1_764_926_102_987  // 2025-12-05T09:15:02.987Z
        #expect(ChainTime.text(milliseconds: milliseconds, timeZone: "UTC") == "2025-12-05T09:15:02Z")
        #expect(ChainTime.text(milliseconds: milliseconds, timeZone: "Europe/Paris") == "2025-12-05T10:15:02+01:00")
        #expect(ChainTime.text(milliseconds: milliseconds, timeZone: "Asia/Shanghai") == "2025-12-05T17:15:02+08:00")
        #expect(ChainTime.text(milliseconds: milliseconds, timeZone: "America/New_York") == "2025-12-05T04:15:02-05:00")
        // Summer time is the zone's, not a fixed offset.
        #expect(ChainTime.text(milliseconds: 1_751_706_902_000, timeZone: "Europe/Paris") == "2025-07-05T11:15:02+02:00")
        #expect(ChainTime.text(milliseconds: -1, timeZone: "UTC") == "1969-12-31T23:59:59Z")
        #expect(ChainTime.text(milliseconds: milliseconds, timeZone: "Not/AZone") == "2025-12-05T09:15:02Z")
    }
}

// Award and lookup through the agent's ledger vs. the same SQL in a raw SQLite C loop, same run,
// same pragmas (WAL, synchronous=FULL), same schema, same disk.
//
//   swift run -c release --package-path Benchmarks ledger-benchmark [awards] [lookups] [--example-program [--rules-only]]
//
// With --example-program our ledger earns by a program version like sync/examples/program.yaml (a
// promotion window, tier multipliers, a birthday-month rule, per-sale and per-day caps); the raw C
// loops stay the plain award's SQL. The first sums the member's 12-month spend over their entries (the
// award's SQL before ledger schema v22, the baseline the goal is stated against), the second reads the
// figures the member's row keeps, as our award now does.
import Foundation
import LedgerStore
import LoyaltyCore
import RawSQLiteLoop

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let awardCount = arguments.first ?? 2_000
let lookupCount = arguments.dropFirst().first ?? 200_000
let memberCount = 1_000
let rounds = 5

let folder = FileManager.default.currentDirectoryPath + "/.build/benchmark-ledgers"
try? FileManager.default.removeItem(atPath: folder)
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// This thread's CPU time: beside the wall time it tells computing from waiting for the disk.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Two identical ledgers: one for our code, one for the raw loop.
func makeLedger(_ name: String) throws -> (LedgerDatabase, [String]) {
    let ledger = try LedgerDatabase(path: "\(folder)/\(name).db", creating: .init(storeId: "bench"))
    var cards: [String] = []
    for index in 0..<memberCount {
        let card = "29\(String(format: "%011d", index))"
        _ = try ledger.enroll(card: CardNumber(card), name: nil, birthday: nil)
        cards.append(card)
    }
    return (ledger, cards)
}

let (ours, cards) = try makeLedger("ours")
/// A version like sync/examples/program.yaml: categories, a weekend and a tier-only happy hour, tier
/// multipliers, the birthday month and both caps, counted in Europe/Berlin, enrolment and first-purchase
/// bonuses, a welcome coupon and a coupon for a new member's 3rd sale within 14 days.
func exampleLikeProgram(dayCap: Bool, bonusesAndCoupons: Bool = true) -> LoyaltyProgram {
    var program = LoyaltyProgram.standard()
    program.version = 2
    program.validFromMilliseconds = 0
    program.tiers[1].earnMultiplierPercent = 125
    program.tiers[2].earnMultiplierPercent = 150
    program.tiers[3].earnMultiplierPercent = 200
    var rules = EarningRules()
    rules.excludedCategories = ["tobacco", "gift_cards"]
    rules.categoryMultiplierPercent = ["fresh": 200]
    var weekend = Promotion(name: "double points weekend", multiplierPercent: 200)
    weekend.weekdays = [6, 7]
    var happyHour = Promotion(name: "gold happy hour", multiplierPercent: 150)
    (happyHour.fromHour, happyHour.untilHour) = (17, 19)
    happyHour.tiers = ["gold", "top"]
    var christmas = Promotion(name: "christmas week", multiplierPercent: 300)
    (christmas.fromDay, christmas.untilDay) = ("2026-12-20", "2026-12-26")
    rules.promotions = [weekend, happyHour, christmas]
    rules.birthdayMonthMultiplierPercent = 200
    rules.perSaleCapPoints = 5_000
    rules.perMemberDayCapPoints = dayCap ? 1_000_000_000 : nil
    rules.timeZone = "Europe/Berlin"
    program.earningRules = rules
    guard bonusesAndCoupons else { return program }
    program.bonuses = ProgramBonuses(enrolmentPoints: 100, firstPurchasePoints: 200, referralPoints: 500)
    program.coupons = [
        CouponRule(name: "welcome", trigger: .enrolment, discountMinor: 500, validDays: 30),
        CouponRule(name: "come_back", trigger: .earlyVisits(visits: 3, withinDays: 14), discountMinor: 1_000, validDays: 30),
    ]
    program.pointsExpireAfterDays = 730
    return program
}

let exampleProgram = CommandLine.arguments.contains("--example-program")
if exampleProgram {
    let program = exampleLikeProgram(
        dayCap: !CommandLine.arguments.contains("--no-day-cap"), bonusesAndCoupons: !CommandLine.arguments.contains("--rules-only"))
    let document = String(decoding: try JSONEncoder().encode(program), as: UTF8.self)
    try ours.applyHeadOfficeUpdates(members: [], blockedCards: [], cursor: 0, programs: [(version: 2, document: document)])
    print(
        "  our ledger earns by an example-like program version 2 (promotions, tier multipliers, birthday month, caps"
            + (CommandLine.arguments.contains("--rules-only") ? ")" : ", bonuses, coupons)"))
}
let (rawLedger, _) = try makeLedger("raw")
let rawPath = rawLedger.path
// A second raw ledger for the loop that reads the 12-month spend the member's row keeps (schema v22),
// as our award does: the first raw loop still sums the member's entries, the award's SQL before v22.
let (rawKeptLedger, _) = try makeLedger("raw-kept")
let rawKeptPath = rawKeptLedger.path
let amount = Money(minorUnits: 1_250, currency: .euro)
let card = try CardNumber(cards[7])

print("ledger-benchmark: \(awardCount) durable awards and \(lookupCount) card lookups per round, best of \(rounds) rounds")
print("  disk folder: \(folder)")

var bestOursAward = Double.infinity
var bestRawAward = Double.infinity
var bestRawKeptAward = Double.infinity
var bestOursAwardCPU = 0.0
var bestRawAwardCPU = 0.0
var bestRawKeptAwardCPU = 0.0
var bestOursLookup = Double.infinity
var bestRawLookup = Double.infinity
let cardNumbers = try cards.map { try CardNumber($0) }
for round in 0..<rounds {
    // Ours and the raw loop take turns in chunks, so a slow stretch of the disk hits both alike.
    let chunks = 5
    let chunkSize = max(1, awardCount / chunks)
    var oursAward = Duration.zero
    var rawAward = Duration.zero
    var rawKeptAward = Duration.zero
    var oursCPU = 0.0
    var rawCPU = 0.0
    var rawKeptCPU = 0.0
    for chunk in 0..<chunks {
        // Each side goes first in every other chunk: whatever the disk still does after one side's
        // commits (the raw loop checkpoints its WAL when it closes) falls on both alike.
        func measureOurs() throws {
            let started = threadCPUSeconds()
            oursAward += try clock.measure {
                for index in 0..<chunkSize {
                    _ = try ours.award(card: card, amount: amount, receipt: ReceiptReference("ours\(round)-\(chunk)-\(index)"))
                }
            }
            oursCPU += threadCPUSeconds() - started
        }
        func measureRaw(keptFigures: Bool) {
            var rawStatus: Int32 = 0
            let started = threadCPUSeconds()
            let took = clock.measure {
                rawStatus = raw_award_loop(
                    keptFigures ? rawKeptPath : rawPath, "bench", cards[7], 1_250, "raw\(round)-\(chunk)", Int32(chunkSize),
                    keptFigures ? 1 : 0)
            }
            if keptFigures {
                rawKeptAward += took
                rawKeptCPU += threadCPUSeconds() - started
            } else {
                rawAward += took
                rawCPU += threadCPUSeconds() - started
            }
            precondition(rawStatus == 0, "raw award loop failed with SQLite code \(rawStatus)")
        }
        // The three take turns in a rotating order: whatever the disk still does after one side's
        // commits falls on each alike.
        let sides: [() throws -> Void] = [measureOurs, { measureRaw(keptFigures: false) }, { measureRaw(keptFigures: true) }]
        for offset in 0..<sides.count { try sides[(round * chunks + chunk + offset) % sides.count]() }
    }
    let awardsPerSide = Double(chunkSize * chunks)
    if seconds(oursAward) / awardsPerSide < bestOursAward { bestOursAwardCPU = oursCPU / awardsPerSide }
    if seconds(rawAward) / awardsPerSide < bestRawAward { bestRawAwardCPU = rawCPU / awardsPerSide }
    if seconds(rawKeptAward) / awardsPerSide < bestRawKeptAward { bestRawKeptAwardCPU = rawKeptCPU / awardsPerSide }
    bestOursAward = min(bestOursAward, seconds(oursAward) / awardsPerSide)
    bestRawAward = min(bestRawAward, seconds(rawAward) / awardsPerSide)
    bestRawKeptAward = min(bestRawKeptAward, seconds(rawKeptAward) / awardsPerSide)

    var found = 0
    let oursLookup = try clock.measure {
        for index in 0..<lookupCount where try ours.lookup(card: cardNumbers[index % memberCount]) != nil {
            found += 1
        }
    }
    precondition(found == lookupCount)
    let cStrings = cards.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    var rawFound: Int64 = 0
    let rawLookup = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { buffer in
        clock.measure { rawFound = raw_lookup_loop(rawPath, buffer.baseAddress, Int32(memberCount), Int32(lookupCount)) }
    }
    precondition(rawFound == lookupCount)
    bestOursLookup = min(bestOursLookup, seconds(oursLookup) / Double(lookupCount))
    bestRawLookup = min(bestRawLookup, seconds(rawLookup) / Double(lookupCount))
}
let bothVerify = try ours.verify().ok && rawLedger.verify().ok && rawKeptLedger.verify().ok
precondition(bothVerify, "a ledger failed verification after the benchmark")

func line(_ name: String, _ oursSeconds: Double, _ rawSeconds: Double, goal: String) {
    print(
        String(
            format: "%@\n    ours %9.1f µs/op (%8.0f ops/s)   raw C loop %9.1f µs/op (%8.0f ops/s)   ours/raw time %.2f×   %@",
            name, oursSeconds * 1e6, 1 / oursSeconds, rawSeconds * 1e6, 1 / rawSeconds, oursSeconds / rawSeconds, goal))
}
line(
    "award (lookup + idempotency check + entry + balance, WAL + FULL, one fsync each), raw loop summing the 12-month spend",
    bestOursAward, bestRawAward, goal: "goal: ≤ 1.20×")
print(
    String(
        format: "    of which on the CPU: ours %.1f µs/op, raw C loop %.1f µs/op (the rest waits for the disk)",
        bestOursAwardCPU * 1e6, bestRawAwardCPU * 1e6))
line(
    "award, raw loop reading the 12-month spend the member's row keeps, as ours does (ours also runs the example rules' SQL)",
    bestOursAward,
    bestRawKeptAward, goal: "goal: ≤ 1.20×")
print(
    String(
        format: "    of which on the CPU: ours %.1f µs/op, raw C loop %.1f µs/op (the rest waits for the disk)",
        bestOursAwardCPU * 1e6, bestRawKeptAwardCPU * 1e6))
line("member lookup by card", bestOursLookup, bestRawLookup, goal: String(format: "throughput %.2f× raw, goal: ≥ 0.50×", bestRawLookup / bestOursLookup))

// `--awards-only` stops here (for profiling the award path).
if CommandLine.arguments.contains("--awards-only") { exit(0) }

// Rule evaluation alone, pure and in memory: the example-like program on sales of three lines at
// varying moments, tiers and birthdays, against the plain rate × tier multiplier in the same run.
let evaluationProgram = exampleLikeProgram(dayCap: true)
let saleCount = 2_000_000
let moments = (0..<168).map { hour in
    SaleMoment(day: "2026-12-\(10 + hour / 24)", weekday: 1 + (hour / 24) % 7, hour: hour % 24, month: 12)
}
let saleLines = [
    SaleLine(sku: "1", category: "fresh", amountMinor: 1_250), SaleLine(sku: "2", category: "dry", amountMinor: 3_499),
    SaleLine(sku: "3", category: "tobacco", amountMinor: 900),
]
var bestRules = Double.infinity
var bestPlain = Double.infinity
var pointsChecksum: Int64 = 0
for _ in 0..<rounds {
    let rules = clock.measure {
        for index in 0..<saleCount {
            let breakdown = try! evaluationProgram.earning(
                lines: saleLines, tier: evaluationProgram.tiers[index & 3], moment: moments[index % moments.count],
                birthdayMonth: index % 12 + 1, earnedToday: Int64(index & 1023))
            pointsChecksum &+= breakdown.points
        }
    }
    let plain = clock.measure {
        for index in 0..<saleCount {
            pointsChecksum &+= (try? evaluationProgram.pointsEarned(
                for: Money(minorUnits: 5_649 + Int64(index & 7), currency: .euro), tier: evaluationProgram.tiers[index & 3])) ?? 0
        }
    }
    bestRules = min(bestRules, seconds(rules) / Double(saleCount))
    bestPlain = min(bestPlain, seconds(plain) / Double(saleCount))
}
print(
    String(
        format: "rule evaluation, example-like program (pure, in memory; checksum %lld)\n    ours %9.3f µs/sale (%10.0f sales/s)   "
            + "plain rate %9.3f µs/sale (%10.0f sales/s)   goal: ≥ 1000000 sales/s",
        pointsChecksum, bestRules * 1e6, 1 / bestRules, bestPlain * 1e6, 1 / bestPlain))

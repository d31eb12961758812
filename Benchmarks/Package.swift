// swift-tools-version: 6.1
// Benchmarks live in their own package so the main package's builds stay fast.
// Run: swift run -c release --package-path Benchmarks ledger-benchmark
import PackageDescription

let package = Package(
    name: "loyalty-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "loyalty-agent", path: ".."),
    ],
    targets: [
        // The baseline: the same SQL and pragmas through the SQLite C API, no Swift in the loop.
        .target(name: "RawSQLiteLoop", linkerSettings: [.linkedLibrary("sqlite3")]),
        .executableTarget(
            name: "ledger-benchmark",
            dependencies: [
                "RawSQLiteLoop",
                .product(name: "LedgerStore", package: "loyalty-agent"),
                .product(name: "LoyaltyCore", package: "loyalty-agent"),
            ],
            path: "Sources/LedgerBenchmark"
        ),
    ]
)

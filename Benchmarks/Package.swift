// swift-tools-version: 6.1
// Benchmarks live in their own package so the main package's builds stay fast.
// Run: swift run -c release --package-path Benchmarks ledger-benchmark
//      swift run -c release --package-path Benchmarks scanner-benchmark
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
        .systemLibrary(name: "CXKBRaw", pkgConfig: "xkbcommon"),
        .executableTarget(
            name: "scanner-benchmark",
            dependencies: [
                "CXKBRaw",
                .product(name: "CardReader", package: "loyalty-agent"),
                .product(name: "LedgerStore", package: "loyalty-agent"),
                .product(name: "LoyaltyCore", package: "loyalty-agent"),
            ],
            path: "Sources/ScannerBenchmark"
        ),
    ]
)

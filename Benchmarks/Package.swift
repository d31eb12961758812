// swift-tools-version: 6.1
// Benchmarks live in their own package so the main package's builds stay fast.
// Run: swift run -c release --package-path Benchmarks ledger-benchmark
//      swift run -c release --package-path Benchmarks scanner-benchmark
//      scripts/with-postgres swift run -c release --package-path Benchmarks sync-benchmark
//      swift run -c release --package-path Benchmarks segments-benchmark sqlite 200000 4000000
//      swift build -c release --package-path Benchmarks --product loyalty-hq --product fleet-benchmark
//      scripts/with-postgres Benchmarks/.build/release/fleet-benchmark postgres 1000 2 20
//      swift build -c release --package-path Benchmarks --product growth-benchmark
//      scripts/with-postgres Benchmarks/.build/release/growth-benchmark 1000000,10000000,50000000
import PackageDescription

let package = Package(
    name: "loyalty-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "loyalty-agent", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", exact: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
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
        .executableTarget(
            name: "segments-benchmark",
            dependencies: [
                "RawSQLiteLoop",
                .product(name: "HeadOffice", package: "loyalty-agent"),
                .product(name: "LoyaltyCore", package: "loyalty-agent"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/SegmentsBenchmark",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "fleet-benchmark",
            dependencies: [
                .product(name: "HeadOffice", package: "loyalty-agent"),
                .product(name: "SyncProtocol", package: "loyalty-agent"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/FleetBenchmark",
            // A straight-line script, like sync-benchmark.
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "growth-benchmark",
            dependencies: [
                .product(name: "HeadOffice", package: "loyalty-agent"),
                .product(name: "SyncProtocol", package: "loyalty-agent"),
                .product(name: "LoyaltyCore", package: "loyalty-agent"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/GrowthBenchmark",
            // A straight-line script, like fleet-benchmark.
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "sync-benchmark",
            dependencies: [
                .product(name: "HeadOffice", package: "loyalty-agent"),
                .product(name: "SyncProtocol", package: "loyalty-agent"),
                .product(name: "SyncClient", package: "loyalty-agent"),
                .product(name: "LedgerStore", package: "loyalty-agent"),
                .product(name: "LoyaltyCore", package: "loyalty-agent"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Sources/SyncBenchmark",
            // A straight-line script: Swift 5 mode keeps its top-level code free of actor ceremony.
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)

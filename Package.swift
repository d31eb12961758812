// swift-tools-version: 6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "loyalty-agent",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LoyaltyCore", targets: ["LoyaltyCore"]),
        .library(name: "LedgerStore", targets: ["LedgerStore"]),
        .library(name: "CardReader", targets: ["CardReader"]),
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
        .library(name: "SyncClient", targets: ["SyncClient"]),
        .library(name: "HeadOffice", targets: ["HeadOffice"]),
        .executable(name: "loyalty-agent", targets: ["loyalty-agent"]),
        .executable(name: "loyalty-hq", targets: ["loyalty-hq"]),
        .executable(name: "loyalty-demo", targets: ["loyalty-demo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", exact: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-configuration", exact: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
    ],
    targets: [
        // Pure loyalty domain: money, cards, program rules, tiers. No I/O.
        .target(name: "LoyaltyCore", swiftSettings: strictSwift),
        // The digest of coupon codes, the same at every till and at head office.
        .target(
            name: "CouponCodes", dependencies: ["LoyaltyCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSwift),
        // The durable SQLite ledger (GRDB over the system libsqlite3).
        .target(
            name: "LedgerStore",
            dependencies: [
                "LoyaltyCore", "CouponCodes", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        // System libraries and the tiny C shim for the evdev ioctl macros.
        .systemLibrary(name: "CUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        .systemLibrary(name: "CXKBCommon", pkgConfig: "xkbcommon", providers: [.apt(["libxkbcommon-dev"])]),
        .target(name: "CEvdev"),
        // The Swift runtime's global-executor hook, reachable when the runtime is linked statically.
        .target(name: "CConcurrencyHook"),
        // Member-card scanners: udev discovery + hot-plug, evdev reading + grab, xkb decoding, scan framing.
        .target(
            name: "CardReader",
            dependencies: ["LoyaltyCore", "CUdev", "CXKBCommon", "CEvdev"],
            swiftSettings: strictSwift
        ),
        // Wire types of the sync contract and request signing, shared by agent and head office.
        .target(
            name: "SyncProtocol",
            dependencies: ["LoyaltyCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSwift
        ),
        // The agent's push/pull loop.
        .target(
            name: "SyncClient",
            dependencies: [
                "SyncProtocol", "LedgerStore", "LoyaltyCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift
        ),
        // Head office: storage protocol with SQLite and PostgreSQL drivers, HTTP routes, reports.
        .target(
            name: "HeadOffice",
            dependencies: [
                "SyncProtocol", "LoyaltyCore", "CouponCodes", "HTMLRendering", "ServerLimits",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift
        ),
        // Printing for the command-line programs: stdout/stderr through the payment-card redactor.
        .target(name: "CommandLineOutput", dependencies: ["LoyaltyCore"], swiftSettings: strictSwift),
        // The YAML configuration files of both executables, checked key by key with their lines.
        .target(
            name: "ConfigurationFile",
            dependencies: [
                "LoyaltyCore",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift),
        .executableTarget(
            name: "loyalty-hq",
            dependencies: [
                "HeadOffice", "SyncProtocol", "LoyaltyCore", "ServerLimits", "CommandLineOutput", "ConfigurationFile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // Connection limits shared by head office's server and the till's API (slow clients, greedy ones).
        .target(
            name: "ServerLimits",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strictSwift
        ),
        // Server-rendered HTML and SVG charts, shared by the agent's pages and head office's dashboard. No I/O.
        .target(name: "HTMLRendering", swiftSettings: strictSwift),
        // The local POS API the daemon serves on loopback: sales, redemptions, refunds, members, scans (SSE).
        .target(
            name: "PointOfSaleAPI",
            dependencies: [
                "LoyaltyCore", "LedgerStore", "HTMLRendering", "ServerLimits",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: strictSwift
        ),
        // The store hub: one till of a store relays the store's tills to each other and to head office.
        .target(
            name: "StoreHub",
            dependencies: [
                "LoyaltyCore", "LedgerStore", "SyncProtocol", "SyncClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        // CLI + daemon wiring only. The till's code and nothing else: no HeadOffice (a test checks the binary).
        .executableTarget(
            name: "loyalty-agent",
            dependencies: [
                "LoyaltyCore", "LedgerStore", "CardReader", "SyncClient", "SyncProtocol", "PointOfSaleAPI", "StoreHub",
                "CConcurrencyHook", "CommandLineOutput", "ConfigurationFile",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        // The demo: head office in-process on SQLite, two stores, recorded scans, sync, report.
        .executableTarget(
            name: "loyalty-demo",
            dependencies: [
                "HeadOffice", "LoyaltyCore", "LedgerStore", "CardReader", "SyncClient", "SyncProtocol", "PointOfSaleAPI",
                "CommandLineOutput", "StoreHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // Helpers shared by the test targets: a seeded random generator, temporary folders.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LoyaltyCoreTests", dependencies: ["LoyaltyCore", "TestSupport"]),
        .testTarget(name: "LedgerStoreTests", dependencies: ["LedgerStore", "LoyaltyCore", "TestSupport"]),
        .testTarget(name: "CardReaderTests", dependencies: ["CardReader", "LoyaltyCore", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["LedgerStore", "LoyaltyCore", "loyalty-agent", "loyalty-hq", "loyalty-demo", "TestSupport"]
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "SyncProtocol", "SyncClient", "HeadOffice", "StoreHub", "LedgerStore", "LoyaltyCore", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)

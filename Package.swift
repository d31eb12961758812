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
        .executable(name: "loyalty-agent", targets: ["loyalty-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // Pure loyalty domain: money, cards, program rules, tiers. No I/O.
        .target(name: "LoyaltyCore", swiftSettings: strictSwift),
        // The durable SQLite ledger (GRDB over the system libsqlite3).
        .target(
            name: "LedgerStore",
            dependencies: [
                "LoyaltyCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
        // System libraries and the tiny C shim for the evdev ioctl macros.
        .systemLibrary(name: "CUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        .systemLibrary(name: "CXKBCommon", pkgConfig: "xkbcommon", providers: [.apt(["libxkbcommon-dev"])]),
        .target(name: "CEvdev"),
        // Member-card scanners: udev discovery + hot-plug, evdev reading + grab, xkb decoding, scan framing.
        .target(
            name: "CardReader",
            dependencies: ["LoyaltyCore", "CUdev", "CXKBCommon", "CEvdev"],
            swiftSettings: strictSwift
        ),
        // CLI + daemon wiring only.
        .executableTarget(
            name: "loyalty-agent",
            dependencies: [
                "LoyaltyCore", "LedgerStore", "CardReader",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "LoyaltyCoreTests", dependencies: ["LoyaltyCore"]),
        .testTarget(name: "LedgerStoreTests", dependencies: ["LedgerStore", "LoyaltyCore"]),
        .testTarget(name: "CardReaderTests", dependencies: ["CardReader", "LoyaltyCore"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["LedgerStore", "LoyaltyCore", "loyalty-agent"]
        ),
    ]
)

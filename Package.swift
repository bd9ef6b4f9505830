// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "omnichannel-bridge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bridge", targets: ["BridgeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "ChannelKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Channels/ChannelKit",
            swiftSettings: strict
        ),
        .target(
            name: "LINEChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/LINE",
            swiftSettings: strict
        ),
        .target(
            name: "WhatsAppChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/WhatsApp",
            swiftSettings: strict
        ),
        .target(
            name: "MessengerChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/Messenger",
            swiftSettings: strict
        ),
        .target(
            name: "SMSChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/SMS",
            swiftSettings: strict
        ),
        .target(
            name: "WeChatChannel",
            dependencies: ["ChannelKit", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Sources/Channels/WeChat",
            swiftSettings: strict
        ),
        .target(
            name: "WebchatChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/Webchat",
            swiftSettings: strict
        ),
        .target(
            name: "SlackChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/Slack",
            swiftSettings: strict
        ),
        .target(
            name: "UniversalInbox",
            dependencies: [
                "ChannelKit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                "CSQLiteTuning",
            ],
            path: "Sources/UniversalInbox",
            swiftSettings: strict
        ),
        // SQLite's process-wide settings, made when the binary loads (C: `sqlite3_config` is variadic).
        .target(name: "CSQLiteTuning", path: "Sources/CSQLiteTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The PostgreSQL side of the store: connection settings, the schema, `bridge migrate`, and
        // the PostgreSQL implementations of UniversalInbox's store protocols.
        .target(
            name: "PostgresStore",
            dependencies: [
                "ChannelKit", "UniversalInbox",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/PostgresStore",
            swiftSettings: strict
        ),
        .target(
            name: "Broadcast",
            dependencies: ["ChannelKit", "UniversalInbox", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Broadcast",
            swiftSettings: strict
        ),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        .target(
            name: "Email",
            dependencies: ["ChannelKit", "CCurl"],
            path: "Sources/Email",
            swiftSettings: strict
        ),
        // E-mail as a channel: parsing received mail (MIME, charsets, quotes, loops), pure and fuzz-safe.
        .target(
            name: "EmailChannel",
            dependencies: ["ChannelKit"],
            path: "Sources/Channels/Email",
            swiftSettings: strict
        ),
        .target(
            name: "Notifier",
            dependencies: [
                "ChannelKit", "UniversalInbox", "Email", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Sources/Notifier",
            swiftSettings: strict
        ),
        .systemLibrary(name: "CCrypt", path: "Sources/CCrypt"),
        .target(
            name: "PlatformSignatures",
            dependencies: ["ChannelKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/PlatformSignatures",
            swiftSettings: strict
        ),
        .target(
            name: "PlatformStandIns",
            dependencies: [
                "ChannelKit", "PlatformSignatures",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/PlatformStandIns",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "BridgeServer",
            dependencies: [
                "ChannelKit", "LINEChannel", "WhatsAppChannel", "MessengerChannel", "SMSChannel", "WeChatChannel", "SlackChannel", "UniversalInbox", "PlatformStandIns", "CCrypt", "Broadcast", "Notifier", "Email", "PostgresStore",
                "EmailChannel",
                "FuzzHarness",  // only its libFuzzer driver, in fuzzing builds
                "WebchatChannel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/BridgeServer",
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/web")],
            swiftSettings: strict
        ),
        // Fuzzing: every channel's verify+parse on signed inputs (scripts/fuzz.sh builds WebhookFuzz
        // with -sanitize=fuzzer into .build-fuzz; without it, WebhookFuzz replays files).
        .target(
            name: "FuzzHarness",
            dependencies: ["ChannelKit", "LINEChannel", "WhatsAppChannel", "MessengerChannel", "SMSChannel", "WeChatChannel", "SlackChannel", "PlatformSignatures",
                           "EmailChannel"],
            path: "Fuzz/harness",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "WebhookFuzz",
            dependencies: ["FuzzHarness"],
            path: "Fuzz/webhooks",
            swiftSettings: strict
        ),
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/support",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "IngestBenchmark",
            dependencies: [
                "ChannelKit", "PlatformStandIns", "BenchmarkSupport", "UniversalInbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ingest",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ClusterTest",
            dependencies: [
                "PlatformStandIns", "BenchmarkSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/cluster",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "BroadcastBenchmark",
            dependencies: [
                "UniversalInbox", "PlatformStandIns", "BenchmarkSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/broadcast",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "InboxBenchmark",
            dependencies: [
                "UniversalInbox", "ChannelKit", "PostgresStore", "BenchmarkSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/inbox",
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "UniversalInbox", "PostgresStore", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChannelTests",
            dependencies: ["ChannelKit", "LINEChannel", "WhatsAppChannel", "MessengerChannel", "SMSChannel", "WeChatChannel", "SlackChannel", "PlatformStandIns", "BridgeServer", "FuzzHarness", "TestSupport",
                           "WebchatChannel",
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/ChannelTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EmailChannelTests",
            dependencies: ["EmailChannel", "ChannelKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/EmailChannelTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "InboxTests",
            dependencies: [
                "UniversalInbox", "ChannelKit", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Tests/InboxTests",
            swiftSettings: strict
        ),
        // The store: the contract every store protocol's implementations keep, run against SQLite and
        // against the throwaway PostgreSQL that scripts/test.sh starts (BRIDGE_TEST_POSTGRES_URL; the
        // PostgreSQL half is skipped without it), and the PostgreSQL schema itself.
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "BridgeServer", "ChannelKit", "PostgresStore", "TestSupport", "UniversalInbox", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/StoreTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: ["BridgeServer", "PlatformStandIns", "ChannelKit", "TestSupport", "LINEChannel", "WhatsAppChannel", "MessengerChannel", "SMSChannel", "WeChatChannel", "SlackChannel", "UniversalInbox", "Notifier", "Email", "Broadcast", "PostgresStore",
                           "WebchatChannel",
                           "EmailChannel",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "_CryptoExtras", package: "swift-crypto"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Tests/ServerTests",
            swiftSettings: strict
        ),
    ]
)

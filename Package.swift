// swift-tools-version: 6.1
import PackageDescription

// Module map (how an event travels): SyncCore (contract, rules) -> AMQP (broker) -> Fleet (topology,
// configuration, publisher) -> Workers (visit, link and lead workers over Store and Salesforce, the REST
// client over HTTP). C libraries stay behind
// CRabbitMQ / CCurl / CShims and never leak past AMQP and HTTP.

let package = Package(
    name: "docsend-sync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "docsend-sync", targets: ["docsend-sync"]),
        .executable(name: "salesforce-sandbox", targets: ["salesforce-sandbox"]),
        .executable(name: "amqp-bench", targets: ["amqp-bench"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "HTTP", targets: ["HTTP"]),
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .library(name: "Salesforce", targets: ["Salesforce"]),
        .library(name: "SalesforceSandbox", targets: ["SalesforceSandbox"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Workers", targets: ["Workers"]),
        .library(name: "Timing", targets: ["Timing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .target(name: "CShims", dependencies: ["CRabbitMQ", "CCurl"]),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),

        // MARK: I/O edges
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "CShims", "Timing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "HTTP",
            dependencies: [
                "CCurl", "CShims", "Timing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Salesforce",
            dependencies: [
                "HTTP", "Timing",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: State store (SQLite embedded, PostgreSQL for a fleet)
        .target(
            name: "Store",
            dependencies: [
                "CSQLite", "Timing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Pure rules and the contract
        .target(name: "SyncCore"),
        // Time helpers shared by the I/O edges, the store and the Salesforce client: one bounded wait
        // (`withTimeLimit`), one `Backoff`, one `Duration` to milliseconds conversion.
        .target(name: "Timing"),

        // MARK: Composition
        .target(
            name: "Fleet",
            dependencies: [
                "AMQP", "SyncCore",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: The workers (visit, link, lead), their retry and parking policy, and team administration
        .target(
            name: "Workers",
            dependencies: [
                "AMQP", "HTTP", "Salesforce", "Store", "SyncCore", "Fleet",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Salesforce emulator
        .target(
            name: "SalesforceSandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Executables (thin)
        .executableTarget(
            name: "docsend-sync",
            dependencies: [
                "Fleet", "Workers", "Store", "HTTP", "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "salesforce-sandbox",
            dependencies: [
                "SalesforceSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "amqp-bench",
            dependencies: [
                "AMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore"]),
        // Helpers shared by the test targets that talk to the private broker of scripts/test.
        .target(
            name: "TestSupport", dependencies: ["AMQP", .product(name: "Logging", package: "swift-log")], path: "Tests/TestSupport"),
        .testTarget(
            name: "AMQPTests",
            dependencies: [
                "AMQP", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "HTTP", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "TimingTests", dependencies: ["Timing"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "AMQP", "SyncCore", "TestSupport"]),
        .testTarget(
            name: "SalesforceTests",
            dependencies: ["Salesforce", "SalesforceSandbox", "HTTP", .product(name: "Logging", package: "swift-log")]
        ),
        // SyncCore only for the check that the activity-demo seed matches the activity simulator's teams
        // (the sandbox library itself never depends on SyncCore).
        .testTarget(
            name: "SalesforceSandboxTests",
            dependencies: ["SalesforceSandbox", "HTTP", "SyncCore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "WorkersTests",
            dependencies: [
                "Workers", "Fleet", "AMQP", "Store", "Salesforce", "SalesforceSandbox", "SyncCore", "HTTP", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "StoreTests", dependencies: ["Store", .product(name: "Logging", package: "swift-log")]),
    ]
)

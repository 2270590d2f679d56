// swift-tools-version: 6.1
import PackageDescription

// Module map (how an event travels): SyncCore (contract, rules) -> AMQP (broker) -> Fleet (topology,
// configuration, publisher) -> Workers (visit, link and lead workers over Store and Salesforce, the REST
// client over HTTP) -> DocsendSyncCLI (the commands of the docsend-sync binary). JSON (the one `JSONValue`)
// is shared by SyncCore and Salesforce; Jobs (typed jobs, queue drivers, the processor) sits between SyncCore and
// the workers (docs/architecture.md). C libraries stay behind
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
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .library(name: "Salesforce", targets: ["Salesforce"]),
        .library(name: "SalesforceSandbox", targets: ["SalesforceSandbox"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Workers", targets: ["Workers"]),
        .library(name: "Jobs", targets: ["Jobs"]),
        .library(name: "Timing", targets: ["Timing"]),
        .library(name: "Admin", targets: ["Admin"]),
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
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
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
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
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
                "HTTP", "JSON", "Timing",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
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
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Pure rules and the contract
        .target(name: "SyncCore", dependencies: ["JSON"]),
        // The one dynamic JSON value, shared by the contract and the Salesforce client (not the sandbox's).
        .target(name: "JSON"),
        // Time helpers shared by the I/O edges, the store, the Salesforce client and the workers: one bounded wait
        // (`withTimeLimit`), one `Backoff`, one `Duration` to milliseconds conversion.
        .target(name: "Timing"),

        // MARK: Composition
        .target(
            name: "Fleet",
            dependencies: [
                "AMQP", "Jobs", "SyncCore",
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),

        // MARK: Typed jobs: the fleet's messages, the queue driver protocol, the in-memory queue, the processor
        .target(
            name: "Jobs",
            dependencies: [
                "SyncCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: The workers (visit, link, lead), their retry and parking policy, and team administration
        .target(
            name: "Workers",
            dependencies: [
                "AMQP", "HTTP", "Jobs", "Salesforce", "Store", "SyncCore", "Fleet", "Timing",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: The admin service: DocSend's API and the browser flows (connect, settings, audit), over the workers'
        // team administration, the store and the Salesforce client; the settings page is rendered with Mustache
        .target(
            name: "Admin",
            dependencies: [
                "Workers", "Store", "Salesforce", "HTTP", "JSON", "Jobs", "SyncCore", "Fleet", "AMQP",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
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
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: The command line (worker, team, parking, topology, publish, simulate, status), tested in-process
        .target(
            name: "DocsendSyncCLI",
            dependencies: [
                "AMQP", "Admin", "Fleet", "Workers", "Store", "HTTP", "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: Executables (thin)
        .executableTarget(
            name: "docsend-sync",
            dependencies: [
                "DocsendSyncCLI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "salesforce-sandbox",
            dependencies: [
                "SalesforceSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "JSON"]),
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
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "SyncCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "AMQP", "SyncCore", "TestSupport"]),
        .testTarget(
            name: "SalesforceTests",
            dependencies: [
                "Salesforce", "SalesforceSandbox", "HTTP", "JSON", .product(name: "Logging", package: "swift-log"),
            ]
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
                "Workers", "Fleet", "AMQP", "Jobs", "Store", "Salesforce", "SalesforceSandbox", "SyncCore", "HTTP", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command line parsed and run in-process (the TeamCommandTests of WorkersTests run the binary); Store and
        // Hummingbird for `status` (a store with a team needing a login, a management API answering garbage).
        .testTarget(
            name: "CLITests",
            dependencies: [
                "DocsendSyncCLI", "AMQP", "Fleet", "SyncCore", "TestSupport", "Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The admin service over real HTTP: the sandbox in-process, a real store (SQLite; PostgreSQL when
        // DOCSEND_TEST_POSTGRES_URL is set).
        .testTarget(
            name: "AdminTests",
            dependencies: [
                "Admin", "Workers", "Store", "Salesforce", "SalesforceSandbox", "HTTP", "SyncCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

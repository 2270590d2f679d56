import AMQP
import Fleet
import HTTP
import Foundation
import Jobs
import Logging
import SalesforceSandbox
import ServiceLifecycle
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// The store backends the end-to-end tests run on. PostgreSQL joins when `DOCSEND_TEST_POSTGRES_URL` is set
/// (scripts/test starts a private server), and is required when `DOCSEND_TEST_REQUIRE_SERVICES=1`.
enum StoreBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["DOCSEND_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var available: [StoreBackend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["DOCSEND_TEST_REQUIRE_SERVICES"] == "1"
            ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { rawValue }
}

/// Which job queue a world's workers run on: RabbitMQ (end to end), or the in-memory queue (the rules alone: no
/// broker, no store server, the sandbox in this process).
enum JobTransport: String, Sendable, CustomTestStringConvertible {
    case broker, memory
    var testDescription: String { rawValue }
}

/// A store backend and a transport: the cases a rule test runs in. The in-memory queue on SQLite always; the broker
/// on each available backend when a broker is.
struct WorldSetup: Sendable, CustomTestStringConvertible {
    var backend: StoreBackend
    var transport: JobTransport

    static var available: [WorldSetup] {
        [WorldSetup(backend: .sqlite, transport: .memory)]
            + (TestBroker.isAvailable ? StoreBackend.available.map { WorldSetup(backend: $0, transport: .broker) } : [])
    }

    var testDescription: String { "\(transport.rawValue), \(backend.rawValue)" }
}

/// One end-to-end world for one test: the private broker with a topology of its own (a unique prefix, so
/// tests run side by side), a Salesforce sandbox over HTTP, an empty store on the chosen backend, and the demo
/// team connected to the sandbox. Workers run in this process (``runWorkers(_:instances:_:)``) or as real
/// `docsend-sync worker` processes (``spawnWorker(_:)``).
final class FleetHarness: Sendable {
    static let teamID = "team_demo"
    /// Quiet, unless `DOCSEND_TEST_LOG_LEVEL` asks for the workers' logs (on standard error).
    static let logger: Logger = {
        let name = ProcessInfo.processInfo.environment["DOCSEND_TEST_LOG_LEVEL"] ?? ""
        guard let level = Logger.Level(rawValue: name) else {
            return Logger(label: "workers-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        }
        var logger = Logger(label: "workers-tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        return logger
    }()
    /// `.build/debug/docsend-sync`, built by `swift build --build-tests`.
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/docsend-sync").path

    let backend: StoreBackend
    let sandbox: SalesforceSandbox
    let topology: SyncTopology
    let storeURL: String
    let key: StoreEncryptionKey
    let store: any SyncStore
    /// The broker connection (`nil`: the world runs on ``memory``).
    let brokerConnection: AMQPConnection?
    /// The in-memory queue (`nil`: the world runs on the broker).
    let memory: MemoryJobQueue?
    let directory: URL

    private init(
        backend: StoreBackend, sandbox: SalesforceSandbox, topology: SyncTopology, storeURL: String,
        key: StoreEncryptionKey, store: any SyncStore, broker: AMQPConnection?, memory: MemoryJobQueue?, directory: URL
    ) {
        self.backend = backend
        self.sandbox = sandbox
        self.topology = topology
        self.storeURL = storeURL
        self.key = key
        self.store = store
        self.brokerConnection = broker
        self.memory = memory
        self.directory = directory
    }

    /// The broker connection of a broker world (a broker-only helper used in a memory world is a test bug).
    var broker: AMQPConnection {
        guard let brokerConnection else { preconditionFailure("a broker-only helper was used in an in-memory world") }
        return brokerConnection
    }

    /// How many worlds exist at once: each declares about fifteen quorum queues, and a few dozen worlds
    /// declaring at once overwhelm a broker on a small machine.
    static let gate = WorldGate(permits: 3)

    /// Starts a world; `body` runs in it and everything is torn down afterwards, also when it throws.
    static func with(
        _ setup: WorldSetup, seed: SandboxSeed = .workerTests, settings: TeamSettings = TeamSettings(),
        resyncInterval: Duration = .seconds(2), retryIntervals: [Duration] = [.milliseconds(300), .milliseconds(600)],
        visitorRefreshDelay: Duration = .milliseconds(500), name: String = #function,
        _ body: (FleetHarness) async throws -> Void
    ) async throws {
        try await with(
            setup.backend, transport: setup.transport, seed: seed, settings: settings, resyncInterval: resyncInterval,
            retryIntervals: retryIntervals, visitorRefreshDelay: visitorRefreshDelay, name: name, body)
    }

    static func with(
        _ backend: StoreBackend, transport: JobTransport = .broker, seed: SandboxSeed = .workerTests, settings: TeamSettings = TeamSettings(),
        resyncInterval: Duration = .seconds(2), retryIntervals: [Duration] = [.milliseconds(300), .milliseconds(600)],
        visitorRefreshDelay: Duration = .milliseconds(500), name: String = #function,
        _ body: (FleetHarness) async throws -> Void
    ) async throws {
        await gate.enter()
        do {
            try await withWorld(
                backend, transport: transport, seed: seed, settings: settings, resyncInterval: resyncInterval, retryIntervals: retryIntervals,
                visitorRefreshDelay: visitorRefreshDelay, name: name, body)
        } catch {
            await gate.leave()
            throw error
        }
        await gate.leave()
    }

    private static func withWorld(
        _ backend: StoreBackend, transport: JobTransport, seed: SandboxSeed, settings: TeamSettings, resyncInterval: Duration,
        retryIntervals: [Duration], visitorRefreshDelay: Duration, name: String,
        _ body: (FleetHarness) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("docsend-workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let unique = TestBroker.uniqueName(name)
        let topology = SyncTopology(
            prefix: unique, activityExchange: "\(unique).activity", retryIntervals: retryIntervals,
            resyncInterval: resyncInterval, visitorRefreshDelay: visitorRefreshDelay, deliveryLimit: 20)
        let storeURL: String
        switch backend {
        case .sqlite:
            storeURL = "sqlite://" + directory.appendingPathComponent("sync.db").path
        case .postgres:
            let base = try #require(StoreBackend.postgresURL, "DOCSEND_TEST_POSTGRES_URL is not set: run scripts/test")
            let schema = "w_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            storeURL = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        }
        let key = StoreEncryptionKey.random()
        let sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: seed))
        let store = try await openStore(url: storeURL, encryptionKey: key, logger: logger)
        let broker = transport == .broker ? try await TestBroker.connect(name: name) : nil
        let memory =
            transport == .memory
            ? MemoryJobQueue(delays: .init(resync: resyncInterval, visitorRefresh: visitorRefreshDelay)) : nil
        let harness = FleetHarness(
            backend: backend, sandbox: sandbox, topology: topology, storeURL: storeURL, key: key, store: store,
            broker: broker, memory: memory, directory: directory)
        do {
            try await broker?.declare(topology.topology, redeclareOnReconnect: false)
            try await harness.connectTeam(settings: settings)
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    private func tearDown() async {
        if let broker = brokerConnection {
            for queue in topology.topology.queues { try? await broker.deleteQueue(queue.name) }
            for exchange in topology.topology.exchanges { try? await broker.deleteExchange(exchange.name) }
            await broker.close()
        }
        try? await store.close()
        await sandbox.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Connects the demo team to the sandbox with the demo client's refresh token (or `refreshToken`, e.g. one
    /// issued for this team alone), and saves `settings`.
    func connectTeam(
        _ teamID: String = FleetHarness.teamID, settings: TeamSettings, refreshToken: String = SandboxSeed.Demo.refreshToken,
        to other: SalesforceSandbox? = nil
    ) async throws {
        let org = other ?? sandbox
        try await store.saveConnection(
            SalesforceConnection(
                teamID: teamID, instanceURL: org.baseURL, loginURL: org.baseURL,
                clientID: SandboxSeed.Demo.clientId, refreshToken: refreshToken))
        try await saveSettings(settings, teamID: teamID)
    }

    func saveSettings(_ settings: TeamSettings, teamID: String = FleetHarness.teamID) async throws {
        try await store.saveTeamSettings(teamID: teamID, json: try JSONEncoder().encode(settings))
    }

    var app: SalesforceAppSettings {
        SalesforceAppSettings(
            loginURL: sandbox.baseURL, clientID: SandboxSeed.Demo.clientId, clientSecret: SandboxSeed.Demo.clientSecret,
            requestTimeout: .seconds(3), pauseInterval: .milliseconds(300))
    }

    // MARK: Workers

    /// Runs `instances` in-process worker sets of `roles` (each with its own broker connection and Salesforce
    /// clients, like separate processes) while `body` runs, then stops them gracefully. `app` replaces the world's
    /// app settings (``app``), say to gather Salesforce calls longer.
    func runWorkers(
        _ roles: [SyncTopology.Role] = SyncTopology.Role.allCases, instances: Int = 1, concurrency: Int = 4,
        teamConcurrency: Int? = nil, app: SalesforceAppSettings? = nil, _ body: () async throws -> Void
    ) async throws {
        // Each instance has its own Salesforce clients, as separate processes would; on the broker, its own
        // connection. The group owns the connections and the HTTP client (the world keeps its store).
        let http = try HTTPClient(logger: Self.logger)
        var owned: [any Service] = [http]
        var services: [any Service] = []
        for _ in 0..<instances {
            let orgs = TeamOrgs(store: store, app: app ?? self.app, http: http, logger: Self.logger)
            let queue: any JobQueueDriver
            if let memory {
                queue = memory
            } else {
                let connection = try await TestBroker.connect(name: "worker")
                owned.append(connection)
                queue = AMQPJobQueue(connection: connection, topology: topology)
            }
            services += WorkerProcess.processors(
                roles: roles, queue: queue, topology: topology, orgs: orgs, concurrency: concurrency,
                teamConcurrency: teamConcurrency, prefetch: concurrency * 2, logger: Self.logger)
        }
        try await FleetProcess.running(resources: FleetResources(owned: owned), services: services, logger: Self.logger, body)
    }

    /// Runs `services` (job processors) while `body` runs, then stops them gracefully.
    static func running(_ services: [any Service], _ body: () async throws -> Void) async throws {
        try await FleetProcess.running(resources: FleetResources(owned: []), services: services, logger: logger, body)
    }

    /// The environment a `docsend-sync worker` process of this world reads.
    var workerEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOCSEND_SYNC_") }
        environment["DOCSEND_SYNC_AMQP_URL"] = TestBroker.url ?? "amqp://guest:guest@127.0.0.1:5672/"
        environment["DOCSEND_SYNC_TOPOLOGY_PREFIX"] = topology.prefix
        environment["DOCSEND_SYNC_TOPOLOGY_EXCHANGE"] = topology.activityExchange
        environment["DOCSEND_SYNC_TOPOLOGY_RETRY_INTERVALS"] = topology.retryIntervals.map(IntervalFormat.format).joined(separator: ",")
        environment["DOCSEND_SYNC_TOPOLOGY_RESYNC_INTERVAL"] = IntervalFormat.format(topology.resyncInterval)
        environment["DOCSEND_SYNC_TOPOLOGY_VISITOR_REFRESH_DELAY"] = IntervalFormat.format(topology.visitorRefreshDelay)
        environment["DOCSEND_SYNC_STORE_URL"] = storeURL
        environment["DOCSEND_SYNC_STORE_ENCRYPTION_KEY"] = key.base64
        environment["DOCSEND_SYNC_SALESFORCE_CLIENT_SECRET"] = SandboxSeed.Demo.clientSecret
        environment["DOCSEND_SYNC_SALESFORCE_REQUEST_TIMEOUT"] = "10s"
        environment["DOCSEND_SYNC_LOG_LEVEL"] = "debug"
        // Tests run workers side by side: each serves its metrics on a free loopback port (its log says which).
        environment["DOCSEND_SYNC_METRICS_HOST"] = "127.0.0.1"
        environment["DOCSEND_SYNC_METRICS_PORT"] = "0"
        return environment
    }

    /// Starts a `docsend-sync worker ROLE` process of this world, with `environment` over
    /// ``workerEnvironment``; its output goes to a log file in the world's directory.
    func spawnWorker(_ role: String, arguments: [String] = [], environment: [String: String] = [:]) throws
        -> WorkerProcessHandle
    {
        try Self.launch(
            ["worker", role, "--concurrency", "4"] + arguments,
            environment: workerEnvironment.merging(environment) { $1 }, in: directory)
    }

    /// Starts `docsend-sync ARGUMENTS` with `environment`; both output streams go to a new log file in
    /// `directory`.
    static func launch(_ arguments: [String], environment: [String: String], in directory: URL, stdin: Pipe? = nil)
        throws -> WorkerProcessHandle
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        let log = directory.appendingPathComponent("\(arguments.prefix(2).joined(separator: "-"))-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        if let stdin { process.standardInput = stdin }
        try process.run()
        try handle.close()
        return WorkerProcessHandle(process: process, log: log)
    }
}

import AMQP
import Fleet
import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Store
import UnixSignals

/// What a docsend-sync process runs on, opened once and owned by its one `ServiceGroup`: the store, the HTTP client
/// that reaches Salesforce, and the broker connections (one consuming and acknowledging, one publishing: a broker
/// resource alarm blocks publishing connections, and acknowledgements must keep flowing while it lasts).
public struct FleetResources: Sendable {
    /// What to open.
    public struct Needs: Sendable {
        /// The store: its URL, the key sealing refresh tokens, the limit of one call.
        public var store: (url: String, encryptionKey: StoreEncryptionKey, timeout: Duration)?
        /// The HTTP client for Salesforce.
        public var http: HTTPClient.Configuration?
        /// The broker.
        public var broker: AMQPConfiguration?
        /// A second broker connection for publishing (workers); otherwise one connection does both.
        public var separatePublisher = false
        /// A topology to declare once connected (workers declare theirs before consuming).
        public var topology: Topology?

        public init(
            store: (url: String, encryptionKey: StoreEncryptionKey, timeout: Duration)? = nil,
            http: HTTPClient.Configuration? = nil, broker: AMQPConfiguration? = nil, separatePublisher: Bool = false,
            topology: Topology? = nil
        ) {
            self.store = store
            self.http = http
            self.broker = broker
            self.separatePublisher = separatePublisher
            self.topology = topology
        }
    }

    public let store: (any SyncStore)?
    public let http: HTTPClient?
    /// The connection deliveries come on.
    public let consumer: AMQPConnection?
    /// The connection messages go out on (the consumer's when there is one connection).
    public let publisher: AMQPConnection?
    /// What these resources own, as services, dependencies first (a group shuts them down last).
    let owned: [any Service]
    /// How to close what they own without a group, in opening order.
    private let closers: [@Sendable () async -> Void]

    /// Resources opened elsewhere (tests share the rest of the composition this way); `owned` are closed with the
    /// group that runs them.
    public init(
        store: (any SyncStore)? = nil, http: HTTPClient? = nil, consumer: AMQPConnection? = nil,
        publisher: AMQPConnection? = nil, owned: [any Service]
    ) {
        self.init(store: store, http: http, consumer: consumer, publisher: publisher, owned: owned, closers: [])
    }

    private init(
        store: (any SyncStore)?, http: HTTPClient?, consumer: AMQPConnection?, publisher: AMQPConnection?,
        owned: [any Service], closers: [@Sendable () async -> Void]
    ) {
        self.store = store
        self.http = http
        self.consumer = consumer
        self.publisher = publisher ?? consumer
        self.owned = owned
        self.closers = closers
    }

    /// Closes what ``open(_:logger:)`` opened, last opened first: for a process that fails before its group runs.
    public func close() async {
        for close in closers.reversed() { await close() }
    }

    /// Opens what `needs` asks for, in dependency order; when one fails, what was opened is closed again.
    public static func open(_ needs: Needs, logger: Logger) async throws -> FleetResources {
        var closers: [@Sendable () async -> Void] = []
        do {
            var store: (any SyncStore)?
            if let settings = needs.store {
                let opened = try await openStore(
                    url: settings.url, encryptionKey: settings.encryptionKey, timeout: settings.timeout, logger: logger)
                closers.append { try? await opened.close() }
                store = opened
            }
            var http: HTTPClient?
            if let configuration = needs.http {
                let client = try HTTPClient(configuration: configuration, logger: logger)
                closers.append { await client.shutdown() }
                http = client
            }
            var consumer: AMQPConnection?
            var publisher: AMQPConnection?
            if let configuration = needs.broker {
                let connection = try await AMQPConnection.connect(configuration, logger: logger)
                closers.append { await connection.close() }
                consumer = connection
                if let topology = needs.topology { try await connection.declare(topology) }
                if needs.separatePublisher {
                    let second = try await AMQPConnection.connect(configuration, logger: logger)
                    closers.append { await second.close() }
                    publisher = second
                }
            }
            var owned: [any Service] = []
            if let store { owned.append(store) }
            if let http { owned.append(http) }
            if let consumer { owned.append(consumer) }
            if let publisher { owned.append(publisher) }
            return FleetResources(
                store: store, http: http, consumer: consumer, publisher: publisher, owned: owned, closers: closers)
        } catch {
            for close in closers.reversed() { await close() }
            throw error
        }
    }
}

extension FleetResources {
    /// A resource the caller needs that was not opened (a composition mistake, reported rather than crashed on).
    public struct Missing: Error, CustomStringConvertible {
        public let resource: String
        public var description: String { "the process has no \(resource): it was not among the resources opened" }
    }

    /// The store, or ``Missing``.
    public var requiredStore: any SyncStore {
        get throws { guard let store else { throw Missing(resource: "store") }; return store }
    }

    /// The HTTP client, or ``Missing``.
    public var requiredHTTPClient: HTTPClient {
        get throws { guard let http else { throw Missing(resource: "HTTP client") }; return http }
    }

    /// The (consuming) broker connection, or ``Missing``.
    public var requiredConnection: AMQPConnection {
        get throws { guard let consumer else { throw Missing(resource: "broker connection") }; return consumer }
    }
}

/// The one way a docsend-sync process runs: its resources and the services over them in one `ServiceGroup`.
///
/// The resources come first, so a graceful shutdown (SIGTERM, SIGINT, or the end of a command) stops the workers
/// first (they drain), then closes the broker connections, the HTTP client and the store, in that order.
public enum FleetProcess {
    /// The process's group: `resources` first, then `services`. `signals` start a graceful shutdown, which may take
    /// `drainTimeout` before what is left is cancelled.
    public static func group(
        resources: FleetResources, services: [any Service], signals: [UnixSignal] = [.sigterm, .sigint],
        drainTimeout: Duration? = nil, logger: Logger
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: resources.owned.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
                + services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = drainTimeout
        return ServiceGroup(configuration: configuration)
    }

    /// Runs `body` with the resources of `needs` open and running, then shuts them down gracefully: the form
    /// one-shot commands (`team`, `parking`, `status` …) use. `body`'s error, if any, is the one thrown.
    public static func withResources<Result>(
        _ needs: FleetResources.Needs, logger: Logger, _ body: (FleetResources) async throws -> Result
    ) async throws -> Result {
        let resources = try await FleetResources.open(needs, logger: logger)
        return try await running(resources: resources, services: [], logger: logger) { try await body(resources) }
    }

    /// Runs `resources` and `services` in one group while `body` runs, then shuts the group down gracefully (the
    /// services first, the resources last) and waits for it. Tests run their workers this way.
    public static func running<Result>(
        resources: FleetResources, services: [any Service], logger: Logger, _ body: () async throws -> Result
    ) async throws -> Result {
        let group = group(resources: resources, services: services, signals: [], logger: logger)
        let task = Task { try await group.run() }
        let result: Result
        do {
            result = try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
        return result
    }
}

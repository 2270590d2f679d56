import AMQP
import Fleet
import Foundation
import SyncCore
import Testing
import TestSupport

extension TestBroker {
    /// A topology with its own prefix and exchange, so that tests never share queues.
    static func isolatedTopology(retry: [Duration] = [.seconds(1), .seconds(3)], resync: Duration = .seconds(2), deliveryLimit: Int = 20) -> SyncTopology {
        let id = UUID().uuidString.prefix(8).lowercased()
        return SyncTopology(
            prefix: "test-\(id)", activityExchange: "test-\(id).activity", retryIntervals: retry, resyncInterval: resync,
            deliveryLimit: deliveryLimit)
    }

    static func remove(_ topology: SyncTopology, on connection: AMQPConnection) async throws {
        for queue in topology.topology.queues { try await connection.deleteQueue(queue.name) }
        for exchange in topology.topology.exchanges { try await connection.deleteExchange(exchange.name) }
    }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("The docsend-sync topology")
struct TopologyTests {
    @Test("deploy/rabbitmq/definitions.json is exactly `docsend-sync topology export` with default settings")
    func committedDefinitionsMatchTheExport() throws {
        let committed = try Data(contentsOf: repositoryRoot.appendingPathComponent("deploy/rabbitmq/definitions.json"))
        let exported = try SyncTopology().topology.definitionsJSON()
        #expect(
            committed == exported,
            "deploy/rabbitmq/definitions.json drifted: regenerate it with `docsend-sync topology export > deploy/rabbitmq/definitions.json`")
    }

    @Test("Names: work queues per role, the interval in every tier queue's name, one parking queue")
    func names() {
        let topology = SyncTopology(retryIntervals: [.seconds(60), .seconds(5), .milliseconds(1500)], resyncInterval: .seconds(600))
        #expect(topology.queue(.visits) == "docsend-sync.visits")
        #expect(topology.retryTiers(.links).map(\.queue) == [
            "docsend-sync.links.retry.1500ms", "docsend-sync.links.retry.5s", "docsend-sync.links.retry.1m",
        ])
        #expect(topology.resyncTier.queue == "docsend-sync.visits.resync.10m")
        #expect(topology.retryTier(.leads, attempt: 2)?.queue == "docsend-sync.leads.retry.5s")
        #expect(topology.retryTier(.leads, attempt: 4) == nil)
        let queues = topology.topology.queues
        #expect(queues.count == Set(queues.map(\.name)).count)
        #expect(queues.allSatisfy { $0.arguments["x-queue-type"] == "quorum" })
        let tier = queues.first { $0.name == "docsend-sync.visits.resync.10m" }
        #expect(tier?.arguments["x-message-ttl"] == .int(600_000))
        #expect(tier?.arguments["x-dead-letter-routing-key"] == "docsend-sync.visits")
    }

    @Test("Intervals parse and format the way queue names show them")
    func intervals() {
        #expect(IntervalFormat.parse("5s") == .seconds(5))
        #expect(IntervalFormat.parse("10m") == .seconds(600))
        #expect(IntervalFormat.parse("250ms") == .milliseconds(250))
        #expect(IntervalFormat.parse(" 2h ") == .seconds(7200))
        for bad in ["", "5", "s", "-5s", "1.5s", "5 s", "5d", "٣s"] { #expect(IntervalFormat.parse(bad) == nil, "\(bad)") }
        #expect(IntervalFormat.format(.seconds(90)) == "90s")
        #expect(IntervalFormat.format(.milliseconds(1500)) == "1500ms")
        #expect(IntervalFormat.format(.seconds(3600)) == "1h")
    }

    @Test("Configuration comes from flags over DOCSEND_SYNC_* variables; bad values name their key")
    func configuration() throws {
        let environment = [
            "DOCSEND_SYNC_TOPOLOGY_RETRY_INTERVALS": "2s,30s", "DOCSEND_SYNC_TOPOLOGY_RESYNC_INTERVAL": "45s",
            "DOCSEND_SYNC_TOPOLOGY_PREFIX": "from-env", "DOCSEND_SYNC_AMQP_URL": "amqp://u:p@broker:5673/v",
        ]
        let config = FleetConfiguration.reader(overrides: ["topology.prefix": "from-flag"], environment: environment)
        let topology = try SyncTopology(config: config)
        #expect(topology.prefix == "from-flag")
        #expect(topology.retryIntervals == [.seconds(2), .seconds(30)])
        #expect(topology.resyncInterval == .seconds(45))
        let amqp = try AMQPConfiguration(config: config, connectionName: "test")
        #expect(amqp.host == "broker" && amqp.port == 5673 && amqp.vhost == "v")

        let bad = FleetConfiguration.reader(environment: ["DOCSEND_SYNC_TOPOLOGY_RETRY_INTERVALS": "5s,soon"])
        let error = #expect(throws: ConfigurationError.self) { try SyncTopology(config: bad) }
        #expect(error?.description.contains("DOCSEND_SYNC_TOPOLOGY_RETRY_INTERVALS") == true)
        #expect(throws: ConfigurationError.self) {
            try SyncTopology(config: FleetConfiguration.reader(environment: ["DOCSEND_SYNC_TOPOLOGY_PREFIX": "a b"]))
        }
        #expect(throws: ConfigurationError.self) {
            try AMQPConfiguration(config: FleetConfiguration.reader(environment: ["DOCSEND_SYNC_AMQP_URL": "http://x"]), connectionName: "t")
        }
    }
}

@Suite("The topology on a real broker", .enabled(if: TestBroker.isAvailable))
struct TopologyOnBrokerTests {
    @Test("Declaring twice is idempotent, and events route by type to their work queue")
    func declareAndRoute() async throws {
        let topology = TestBroker.isolatedTopology()
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        var simulator = ActivitySimulator(seed: 7)
        let events = simulator.events(count: 60)
        let publisher = EventPublisher(connection: connection, exchange: topology.activityExchange)
        for event in events { try await publisher.publish(event) }
        let visits = events.filter { $0.type == .visitStarted || $0.type == .visitUpdated }.count
        let starts = events.filter { $0.type == .visitStarted }.count
        #expect(try await connection.queueStatus(topology.queue(.visits)).messages == visits)
        // Links get their own events and every visit.started (how a link's Task learns of new visitors).
        #expect(try await connection.queueStatus(topology.queue(.links)).messages == events.count - visits + starts)
        #expect(try await connection.queueStatus(topology.queue(.leads)).messages == 0)
        try await TestBroker.remove(topology, on: connection)
        await connection.close()
    }

    @Test("A message sent to a retry tier comes back to its work queue after the tier's TTL")
    func retryTierReturnsToWorkQueue() async throws {
        // A tier long enough for the checks below to run before it expires, on a loaded machine too.
        let topology = TestBroker.isolatedTopology(retry: [.seconds(3), .seconds(6)])
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        let tier = try #require(topology.retryTier(.links, attempt: 1))
        let sent = ContinuousClock.now
        try await connection.publish(
            AMQPMessage(
                exchange: topology.delayExchange, routingKey: tier.queue, body: Data("again".utf8),
                properties: .init(headers: ["docsend-attempts": 1], messageID: "m-1")))
        #expect(try await connection.queueStatus(tier.queue).messages == 1)
        #expect(try await connection.queueStatus(topology.queue(.links)).messages == 0)

        let consumer = try await connection.consume(queue: topology.queue(.links))
        var iterator = consumer.makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        let waited = ContinuousClock.now - sent
        #expect(waited >= .milliseconds(2900), "came back after \(waited)")
        #expect(waited < .seconds(20))
        #expect(delivery.body == Data("again".utf8))
        #expect(delivery.properties.messageID == "m-1")
        #expect(delivery.properties.headers["docsend-attempts"] == .int(1))
        // The broker says where it was and why.
        guard case .array(let deaths)? = delivery.properties.headers["x-death"], case .table(let death)? = deaths.first else {
            Issue.record("no x-death header")
            return
        }
        #expect(death["queue"]?.stringValue == tier.queue)
        #expect(death["reason"]?.stringValue == "expired")
        delivery.ack()
        consumer.cancel()
        try await TestBroker.remove(topology, on: connection)
        await connection.close()
    }

    @Test("A message delivered more often than the delivery limit is parked by the broker")
    func deliveryLimitParks() async throws {
        let topology = TestBroker.isolatedTopology(deliveryLimit: 2)
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        try await connection.publish(
            AMQPMessage(exchange: topology.workExchange, routingKey: topology.queue(.leads), body: Data("poison".utf8)))
        let consumer = try await connection.consume(queue: topology.queue(.leads), prefetch: 1)
        var deliveries = 0
        for try await delivery in consumer {
            deliveries += 1
            delivery.nack(requeue: true)  // as if the worker crashed on it every time
            if deliveries == 3 { break }
        }
        try await eventually("the poison message is parked") {
            try await connection.queueStatus(topology.parkingQueue).messages == 1
        }
        #expect(try await connection.queueStatus(topology.queue(.leads)).messages == 0)
        consumer.cancel()
        try await TestBroker.remove(topology, on: connection)
        await connection.close()
    }

    @Test("The committed definitions file imports into RabbitMQ as is")
    func definitionsImport() throws {
        // rabbitmqctl runs as the rabbitmq user, which may not read the checkout (a clone in a 0700
        // directory): hand it a world-readable copy.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("definitions-\(UUID()).json")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("deploy/rabbitmq/definitions.json"), to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: copy.path)
        let result = try TestBroker.runRabbitmqctl(["import_definitions", copy.path])
        #expect(result.status == 0, "\(result.output)")
        let queues = try TestBroker.runRabbitmqctl(["list_queues", "name", "type"]).output
        #expect(queues.contains("docsend-sync.visits.resync.10m"))
    }
}

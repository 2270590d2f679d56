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

/// What a world publishes and what landed in it: events in, Tasks, Leads, states and parked messages out.
extension FleetHarness {
    // MARK: Events and what landed

    func publish(_ event: Event) async throws {
        if let memory {
            try await memory.push(.event(event))
        } else {
            try await EventPublisher(connection: broker, exchange: topology.activityExchange).publish(event)
        }
    }

    /// How many messages are parked.
    func parkedCount() async throws -> Int {
        if let memory { return memory.parked.count }
        return try await broker.queueStatus(topology.parkingQueue).messages
    }

    /// The failure codes of the parked messages.
    func parkedCodes() async throws -> [String] {
        if let memory { return memory.parked.map(\.failureCode) }
        return try await parked().compactMap { $0.properties.headers[WorkHeaders.failureCode]?.stringValue }
    }

    /// A parked message as both transports can tell it.
    struct ParkedSummary {
        var code: String?
        var reason: String?
        var attempts: Int?
        var body: Data
    }

    /// What is parked, in either transport.
    func parkedSummaries() async throws -> [ParkedSummary] {
        if let memory {
            return memory.parked.map { ParkedSummary(code: $0.failureCode, reason: $0.reason, attempts: $0.failures, body: $0.body) }
        }
        return try await parked().map {
            ParkedSummary(
                code: $0.properties.headers[WorkHeaders.failureCode]?.stringValue,
                reason: $0.properties.headers[WorkHeaders.failureReason]?.stringValue,
                attempts: $0.properties.headers[WorkHeaders.attempts]?.intValue.map(Int.init), body: $0.body)
        }
    }

    /// Puts a raw body (a hostile producer's) on the bus with routing key and `type` `key`.
    func publishRaw(key: String, body: Data) async throws {
        if let memory {
            for role in WorkerRole.allCases where role.consumes(eventType: key) { memory.pushRaw(name: key, body: body, to: role) }
            return
        }
        try await broker.publish(
            AMQPMessage(
                exchange: topology.activityExchange, routingKey: key, body: body,
                properties: AMQPProperties(contentType: "application/json", type: key)))
    }

    /// How many delayed jobs wait (on the broker: re-sync ticks in their tier; in memory: every delayed job).
    func pendingResyncTicks() async throws -> Int {
        if let memory { return memory.counts.delayed }
        return try await broker.queueStatus(topology.resyncTier.queue).messages
    }

    /// Live Tasks of the sandbox.
    func tasks() async -> [SandboxRecord] {
        await sandbox.org.records("Task").filter { !$0.isDeleted }
    }

    /// Live Tasks whose `field` is `value`.
    func tasks(_ field: String, _ value: String) async -> [SandboxRecord] {
        await tasks().filter { $0[field]?.stringValue == value }
    }

    /// Live Leads with `email` (case-insensitive).
    func leads(email: String) async -> [SandboxRecord] {
        await sandbox.org.records("Lead").filter {
            !$0.isDeleted && $0["Email"]?.stringValue?.lowercased() == email.lowercased()
        }
    }

    /// How many successful writes reached the Task with this visit id (each sync is one).
    func visitWrites(_ visitID: String) async -> Int { await taskWrites("DocSend_Visit_Id__c", visitID) }

    /// How many writes (upserts, and updates by id: later writes go so) created or updated the Tasks whose `field` is
    /// `value`, alone or in a collection, from the sandbox's change feed.
    func taskWrites(_ field: String, _ value: String) async -> Int {
        let ids = Set(await tasks(field, value).map(\.id))
        return await sandbox.org.changes(after: 0, limit: 1_000_000).filter {
            ids.contains($0.id) && [.upsertCreate, .upsertUpdate, .update].contains($0.operation)
        }.count
    }

    /// The visit worker's stored state of a visit.
    func visitState(_ visitID: String) async throws -> StoredVisit? {
        try await store.loadState(teamID: Self.teamID, kind: .visit, objectID: visitID).map {
            try JSONDecoder().decode(StoredVisit.self, from: $0.state)
        }
    }

    /// The link worker's stored state of a link.
    func linkState(_ linkID: String, kind: SyncObjectKind = .link) async throws -> StoredLink? {
        try await store.loadState(teamID: Self.teamID, kind: kind, objectID: linkID).map {
            try JSONDecoder().decode(StoredLink.self, from: $0.state)
        }
    }

    /// Messages in the parking queue, read and requeued (peeked) through a short consumer.
    func parked(timeout: Duration = .seconds(1)) async throws -> [AMQPDelivery] {
        let expected = try await broker.queueStatus(topology.parkingQueue).messages
        let consumer = try await broker.consume(queue: topology.parkingQueue, prefetch: 100)
        var found: [AMQPDelivery] = []
        let deadline = ContinuousClock.now + timeout
        var iterator = consumer.makeAsyncIterator()
        while found.count < expected, ContinuousClock.now < deadline {
            guard let delivery = try await iterator.next() else { break }
            found.append(delivery)
        }
        consumer.cancel()
        for delivery in found { delivery.nack(requeue: true) }
        // The returns are asynchronous: wait until the queue counts them again, so that the next look sees them.
        let settled = ContinuousClock.now + .seconds(10)
        while try await broker.queueStatus(topology.parkingQueue).messages < expected, ContinuousClock.now < settled {
            try await Task.sleep(for: .milliseconds(20))
        }
        return found
    }
}

/// A worker process started by a test; killed (SIGKILL) when the test forgets to stop it.
final class WorkerProcessHandle: @unchecked Sendable {
    let process: Process
    let log: URL

    init(process: Process, log: URL) {
        self.process = process
        self.log = log
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits for the exit status.
    func terminate(timeout: Duration = .seconds(30)) async -> Int32? {
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }
}

/// An HTTP client, shut down when the last reference to it goes away (`HTTPClient`'s own deinit).
final class HTTPClientBox: Sendable {
    let client: HTTPClient
    init() throws { client = try HTTPClient(logger: FleetHarness.logger) }
}

/// A counting semaphore for tests.
actor WorldGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    func enter() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func leave() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

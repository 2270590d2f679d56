import AMQP
import Fleet
import Foundation
import SalesforceSandbox
import Store
import SyncCore
import Synchronization
import TestSupport
import Testing

@testable import Workers

/// The chaos run (issue 9 item 6): a simulated stream through `docsend-sync worker` processes (several per role)
/// while workers are SIGKILLed and replaced, the broker restarts, and the Salesforce sandbox injects 503s, hung
/// requests, `UNABLE_TO_LOCK_ROW`, short-lived access tokens and refresh-token rotation. What lands is compared
/// with what the stream implies by the rules (``Expectation``, shared with ``FleetStreamTests``), and the figures
/// are printed as a table (``ChaosReport``).
///
/// It restarts the shared broker, so it runs only in `scripts/test`'s disruptive phase, in its short form
/// (``ChaosParameters``' defaults); `scripts/chaos` runs the full form through the `DOCSEND_CHAOS_*` variables.
@Suite(
    "Chaos: kills, broker restarts and Salesforce faults under a simulated stream", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["DOCSEND_TEST_DISRUPTIVE"] == "1"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
    .timeLimit(.minutes(ChaosParameters.current.timeLimitMinutes)))
struct ChaosDisruptiveTests {
    @Test("every Task and Lead the stream implies lands exactly once, nothing parked")
    func chaos() async throws {
        let parameters = ChaosParameters.current
        try await FleetHarness.with(
            parameters.store, seed: .activityDemo, resyncInterval: .seconds(2), retryIntervals: parameters.retryIntervals
        ) { harness in
            let report = try await ChaosRun(harness: harness, parameters: parameters).run()
            let table = report.table()
            print(table)
            if let path = parameters.reportPath { try table.write(toFile: path, atomically: true, encoding: .utf8) }
            if let directory = parameters.logDirectory { try Self.keepLogs(of: harness, in: directory) }

            // Plain values, so that a failure prints a number and not the whole report.
            let (implied, kills, restarts, drained) = (report.expected.taskCount, report.kills, report.brokerRestarts, report.drained)
            let (missing, duplicated, unexpected, parked) = (report.missing, report.duplicated, report.unexpected, report.parkedCount)
            let uncleanExits = report.uncleanExits
            #expect(implied > 0, "the stream implies no Task: the run would prove nothing")
            #expect(kills >= min(1, parameters.maximumKills), "no worker was killed")
            #expect(restarts == parameters.brokerRestarts, "broker restarts")
            #expect(drained, "the queues did not drain within \(parameters.seconds) s")
            #expect(missing == 0, "missing")
            #expect(duplicated == 0, "duplicated")
            #expect(unexpected == 0, "unexpected")
            #expect(parked == 0, "parked")
            #expect(uncleanExits.isEmpty, "workers that did not exit 0 on SIGTERM")
        }
    }

    /// Copies the workers' logs out of the world's directory (which the harness removes).
    static func keepLogs(of harness: FleetHarness, in directory: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try files.contentsOfDirectory(atPath: harness.directory.path) where name.hasSuffix(".log") {
            let target = (directory as NSString).appendingPathComponent(name)
            try? files.removeItem(atPath: target)
            try files.copyItem(atPath: harness.directory.appendingPathComponent(name).path, toPath: target)
        }
    }
}

/// The knobs of a chaos run, from `DOCSEND_CHAOS_*` environment variables; the defaults are the short form
/// `scripts/test` runs (600 events, one kill, one broker restart, faults on).
struct ChaosParameters: Sendable {
    /// `DOCSEND_CHAOS_EVENTS`: simulated events published.
    var events = 600
    /// `DOCSEND_CHAOS_SEED`: the simulator's seed (the sandbox's faults use it too).
    var seed: UInt64 = 2026
    /// `DOCSEND_CHAOS_SECONDS`: deadline for the stream to be published and every queue drained.
    var seconds = 150
    /// `DOCSEND_CHAOS_PROCESSES`: `docsend-sync worker` processes per role.
    var processesPerRole = 3
    /// `DOCSEND_CHAOS_KILL_EVERY`: seconds between two SIGKILLs.
    var killEvery = 5
    /// `DOCSEND_CHAOS_KILLS`: at most this many SIGKILLs (`0`: none; `unlimited`: until the queues drain).
    var maximumKills = 1
    /// `DOCSEND_CHAOS_BROKER_RESTARTS`: broker restarts, spread over the run.
    var brokerRestarts = 1
    /// `DOCSEND_CHAOS_FAULTS`: `1` (default) injects the Salesforce faults; `0` runs without them.
    var faults = true
    /// `DOCSEND_CHAOS_HANG_SECONDS`: how long a hung Salesforce request hangs.
    var hangSeconds = 5.0
    /// `DOCSEND_CHAOS_REQUEST_TIMEOUT`: the workers' `salesforce.requestTimeout` (shorter than a hang).
    var requestTimeout = "3s"
    /// `DOCSEND_CHAOS_TOKEN_LIFETIME`: seconds an access token lives.
    var tokenLifetime = 30.0
    /// `DOCSEND_CHAOS_ROTATION`: `1` (default) makes the org rotate refresh tokens; `0` keeps them (with faults on).
    var rotation = true
    /// `DOCSEND_CHAOS_RETRY_INTERVALS`: the retry tiers (enough that random faults alone never exhaust them).
    var retryIntervals: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(15), .seconds(30)]
    /// `DOCSEND_CHAOS_STORE`: `postgres` (default when a PostgreSQL is described) or `sqlite`.
    var store: StoreBackend = StoreBackend.postgresURL != nil ? .postgres : .sqlite
    /// `DOCSEND_CHAOS_LOG_LEVEL`: the workers' log level.
    var logLevel = "info"
    /// `DOCSEND_CHAOS_REPORT`: a file the table is written to.
    var reportPath: String?
    /// `DOCSEND_CHAOS_LOGS`: a directory the workers' logs are copied to.
    var logDirectory: String?
    /// `DOCSEND_CHAOS_PIDS`: a file each worker's process id is appended to when it starts, so that
    /// `scripts/chaos` can stop the workers by id even when this test is interrupted.
    var pidFile: String?

    /// The run's own deadline plus room for the world's set-up and the report.
    var timeLimitMinutes: Int { (seconds + 60 * 5) / 60 + 1 }

    static let current = ChaosParameters(environment: ProcessInfo.processInfo.environment)

    init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            environment["DOCSEND_CHAOS_\(name)"].flatMap { $0.isEmpty ? nil : $0 }
        }
        events = value("EVENTS").flatMap(Int.init) ?? events
        seed = value("SEED").flatMap(UInt64.init) ?? seed
        seconds = value("SECONDS").flatMap(Int.init) ?? seconds
        processesPerRole = value("PROCESSES").flatMap(Int.init) ?? processesPerRole
        killEvery = value("KILL_EVERY").flatMap(Int.init) ?? killEvery
        if let kills = value("KILLS") { maximumKills = kills == "unlimited" ? .max : Int(kills) ?? maximumKills }
        brokerRestarts = value("BROKER_RESTARTS").flatMap(Int.init) ?? brokerRestarts
        faults = value("FAULTS").map { $0 != "0" } ?? faults
        hangSeconds = value("HANG_SECONDS").flatMap(Double.init) ?? hangSeconds
        requestTimeout = value("REQUEST_TIMEOUT") ?? requestTimeout
        tokenLifetime = value("TOKEN_LIFETIME").flatMap(Double.init) ?? tokenLifetime
        rotation = value("ROTATION").map { $0 != "0" } ?? rotation
        if let intervals = value("RETRY_INTERVALS") {
            let parsed = intervals.split(separator: ",").compactMap { IntervalFormat.parse(String($0)) }
            if !parsed.isEmpty { retryIntervals = parsed }
        }
        store = value("STORE").flatMap(StoreBackend.init(rawValue:)) ?? store
        logLevel = value("LOG_LEVEL") ?? logLevel
        reportPath = value("REPORT")
        logDirectory = value("LOGS")
        pidFile = value("PIDS")
    }
}

/// One chaos run in a ``FleetHarness`` world.
struct ChaosRun {
    let harness: FleetHarness
    let parameters: ChaosParameters
    /// The simulator's two teams, as ``FleetStreamTests`` sets them up.
    static let settings = FleetStreamTests.settings
    static let roles = ["visits", "links", "leads"]

    func run() async throws -> ChaosReport {
        let org = harness.sandbox.org
        // Each team signs in with a refresh token of its own, as after its own `team connect`: with rotation on,
        // two teams sharing one token family would revoke each other.
        for (team, settings) in Self.settings {
            let token = try await org.issueRefreshToken(clientId: SandboxSeed.Demo.clientId)
            try await harness.connectTeam(team, settings: settings, refreshToken: token)
        }
        var simulator = ActivitySimulator(
            seed: parameters.seed, configuration: .init(duplicateRatio: 0.05, lateDeliveryRatio: 0.05))
        let events = simulator.events(count: parameters.events)
        let expected = try await Expectation(events: events, org: org, settings: Self.settings)
        if parameters.faults { try await injectFaults() }

        let environment = [
            "DOCSEND_SYNC_SALESFORCE_REQUEST_TIMEOUT": parameters.requestTimeout,
            "DOCSEND_SYNC_LOG_LEVEL": parameters.logLevel,
        ]
        var workers: [(role: String, handle: WorkerProcessHandle)] = try (0..<parameters.processesPerRole).flatMap { _ in
            try Self.roles.map { (role: $0, handle: try spawn($0, environment: environment)) }
        }
        var random = Xoshiro256StarStar(seed: parameters.seed)
        let started = ContinuousClock.now
        let deadline = started + .seconds(parameters.seconds)
        let published = PublishProgress()
        let publishing = Task { try await publish(events, progress: published, deadline: deadline) }

        var kills = 0
        var restarts = 0
        var nextKill = started + .seconds(parameters.killEvery)
        var idleChecks = 0
        var drainedAt: ContinuousClock.Instant?
        var completeAt: ContinuousClock.Instant?
        var requests = RequestTally()
        var restartTimes: [Duration] = []
        func killOne() throws {
            let index = Int(random.next() % UInt64(workers.count))
            workers[index].handle.kill()
            workers[index].handle = try spawn(workers[index].role, environment: environment)
            kills += 1
            nextKill = ContinuousClock.now + .seconds(parameters.killEvery)
        }
        while ContinuousClock.now < deadline {
            requests.add(await org.requests())
            let allPublished = published.count == events.count
            let idle = allPublished ? ((try? await harness.isIdle()) ?? false) : false
            let taskCount = await harness.tasks().count
            if completeAt == nil, taskCount >= expected.taskCount, await leadCount() >= expected.leads.count {
                completeAt = ContinuousClock.now
            }
            if idle {
                // The chaos is for work in progress. When the stream went through before all of it happened, what
                // is still owed happens now (one kill at least, every planned restart); then the queues must stay
                // idle for three checks in a row.
                if kills == 0, parameters.maximumKills > 0 {
                    try killOne()
                    idleChecks = 0
                } else if restarts < parameters.brokerRestarts {
                    restartTimes.append(try await restartBroker())
                    restarts += 1
                    idleChecks = 0
                } else {
                    idleChecks += 1
                    if idleChecks >= 3 {
                        drainedAt = ContinuousClock.now
                        break
                    }
                }
            } else {
                idleChecks = 0
                if kills < parameters.maximumKills, ContinuousClock.now >= nextKill { try killOne() }
                // Restarts are spread over the run: the k-th once k/(n+1) of the implied Tasks landed.
                let landed = Double(taskCount) / Double(max(expected.taskCount, 1))
                if restarts < parameters.brokerRestarts,
                    landed >= Double(restarts + 1) / Double(parameters.brokerRestarts + 1)
                {
                    restartTimes.append(try await restartBroker())
                    restarts += 1
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
        publishing.cancel()
        let publishedIn = try? await publishing.value
        if drainedAt != nil {
            try await Task.sleep(for: .seconds(3))  // anything late would land now
        }

        // A worker started by the last kill gets to install its signal handlers before it is asked to stop.
        try? await eventually(timeout: .seconds(30), "every worker consuming") {
            workers.allSatisfy { $0.handle.output.contains("consuming") }
        }
        let exits = await withTaskGroup(of: String?.self) { group in
            for worker in workers {
                group.addTask {
                    let status = await worker.handle.terminate()
                    if status == 0 { return nil }
                    let log = worker.handle.log.lastPathComponent
                    return status.map { "\(log) exited with status \($0)" } ?? "\(log) did not stop within 30 s"
                }
            }
            return await group.reduce(into: [String]()) { if let line = $1 { $0.append(line) } }
        }
        requests.add(await org.requests())
        return ChaosReport(
            parameters: parameters, expected: expected, tasks: await harness.tasks(),
            leads: await org.records("Lead").filter { !$0.isDeleted && $0["LeadSource"]?.stringValue == "DocSend" },
            parked: try await readParked(), left: await messagesLeft(), requests: requests,
            kills: kills, brokerRestarts: restartTimes, published: published.count, publishedIn: publishedIn,
            drainedIn: drainedAt.map { $0 - started }, completeIn: completeAt.map { $0 - started },
            elapsed: ContinuousClock.now - started, uncleanExits: exits.sorted())
    }

    /// Leads the workers created (`LeadSource` DocSend), live.
    func leadCount() async -> Int {
        await harness.sandbox.org.records("Lead").filter { !$0.isDeleted && $0["LeadSource"]?.stringValue == "DocSend" }.count
    }

    /// Starts a worker process, and notes its id in ``ChaosParameters/pidFile``.
    func spawn(_ role: String, environment: [String: String]) throws -> WorkerProcessHandle {
        let worker = try harness.spawnWorker(role, environment: environment)
        if let path = parameters.pidFile {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try file.seekToEnd()
            try file.write(contentsOf: Data("\(worker.process.processIdentifier)\n".utf8))
            try file.close()
        }
        return worker
    }

    /// 5% 503, 1% hung requests, 1% `UNABLE_TO_LOCK_ROW` on writes, access tokens that expire, rotating refresh tokens
    /// (unless ``ChaosParameters/rotation`` is off).
    func injectFaults() async throws {
        let org = harness.sandbox.org
        await org.setFaults(
            FaultSettings(
                rules: [
                    FaultRule(kind: .hang, probability: 0.01),
                    FaultRule(kind: .serviceUnavailable, probability: 0.05),
                    FaultRule(kind: .unableToLockRow, probability: 0.01, path: "/services/data/*", method: "PATCH"),
                    FaultRule(kind: .unableToLockRow, probability: 0.01, path: "/services/data/*", method: "POST"),
                ], randomSeed: parameters.seed, hangSeconds: parameters.hangSeconds))
        await org.setAccessTokenLifetime(seconds: parameters.tokenLifetime)
        var client = try #require(
            SandboxSeed.activityDemo.oauthClients?.first { $0.clientId == SandboxSeed.Demo.clientId }, "the demo client")
        client.rotateRefreshTokens = parameters.rotation
        await org.addOAuthClient(client)
    }

    /// Publishes the stream on a few lanes; a publish that fails (the broker restarting) is tried again until
    /// `deadline`. Returns how long it took.
    func publish(_ events: [Event], progress: PublishProgress, deadline: ContinuousClock.Instant) async throws -> Duration {
        let started = ContinuousClock.now
        let lanes = 32
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for index in stride(from: lane, to: events.count, by: lanes) {
                        while true {
                            do {
                                try await harness.publish(events[index])
                                break
                            } catch {
                                guard ContinuousClock.now < deadline, !Task.isCancelled else { throw error }
                                try await Task.sleep(for: .milliseconds(500))
                            }
                        }
                        progress.add()
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }

    /// Stops and starts the broker's application, as the other disruptive tests do, and waits until it answers.
    func restartBroker() async throws -> Duration {
        let started = ContinuousClock.now
        try TestBroker.rabbitmqctl("stop_app")
        do {
            try await Task.sleep(for: .seconds(2))
        } catch {
            _ = try? await TestBroker.startApp()
            throw error
        }
        try await TestBroker.startApp()
        try await eventually(timeout: .seconds(60), "the broker back") {
            (try? await harness.broker.queueStatus(harness.topology.queue(.visits))) != nil
        }
        return ContinuousClock.now - started
    }

    /// Every parked message, taken off the parking queue (the world is thrown away afterwards).
    func readParked() async throws -> [ParkedMessage] {
        let expected = try await harness.broker.queueStatus(harness.topology.parkingQueue).messages
        guard expected > 0 else { return [] }
        let consumer = try await harness.broker.consume(queue: harness.topology.parkingQueue, prefetch: 500)
        var found: [ParkedMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        var iterator = consumer.makeAsyncIterator()
        while found.count < expected, ContinuousClock.now < deadline {
            guard let delivery = try await iterator.next() else { break }
            found.append(ParkedMessage(delivery))
            delivery.ack()
        }
        consumer.cancel()
        return found
    }

    /// Messages still waiting in a work, retry or re-sync queue.
    func messagesLeft() async -> Int {
        var left = 0
        for queue in harness.topology.topology.queues where queue.name != harness.topology.parkingQueue {
            left += (try? await harness.broker.queueStatus(queue.name).messages) ?? 0
        }
        return left
    }
}

/// How many events the publishing lanes have had confirmed.
final class PublishProgress: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}

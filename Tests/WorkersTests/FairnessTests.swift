import Foundation
import SalesforceSandbox
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// One team's burst and another team's events on the same queue (issue 15's fairness): org A on a slow Salesforce of
/// its own, org B on the world's sandbox. Nothing here is timed: the checks are what is synced when.
@Suite("Fairness between teams", .timeLimit(.minutes(10)))
struct FairnessTests {
    static let settings = TeamSettings(createLeadsForUnmatchedEmails: false)
    static let burst = 60

    /// Runs `body` with team_a connected to a sandbox of its own answering after `latency`, and A's burst and then
    /// B's three visits published; returns nothing, the body checks.
    static func withBurst(
        _ harness: FleetHarness, latencyMs: Int = 150,
        _ body: (_ orgA: SalesforceSandbox, _ publish: () async throws -> Void) async throws -> Void
    ) async throws {
        let orgA = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: .workerTests))
        do {
            try await harness.connectTeam("team_a", settings: settings, to: orgA)
            await orgA.org.setFaults(FaultSettings(latency: LatencySpec(fixedMs: latencyMs, path: "/services/data/*")))
            try await body(orgA) {
                for n in 0..<burst {
                    try await harness.publish(Events.started(email: "a\(n)@burst.example", account: Events.acme, team: "team_a"))
                }
                for n in 0..<3 {
                    try await harness.publish(Events.started(email: "b\(n)@quiet.example", account: Events.acme))
                }
            }
        } catch {
            await orgA.shutdown()
            throw error
        }
        await orgA.shutdown()
    }

    static func tasks(_ org: SalesforceSandbox) async -> Int { await org.org.records("Task").filter { !$0.isDeleted }.count }

    @Test("B's visits published behind A's burst are synced while most of A's burst still waits; all of A's follow, once each",
          arguments: WorldSetup.available)
    func burstDoesNotHoldOthers(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: Self.settings, resyncInterval: .seconds(600)) { harness in
            try await Self.withBurst(harness) { orgA, publish in
                // 4 places, 2 of them at most for one team.
                try await harness.runWorkers([.visits], concurrency: 4) {
                    try await publish()
                    try await eventually(timeout: .seconds(60), "B's three Tasks") { await harness.tasks().count == 3 }
                    let aSynced = await Self.tasks(orgA)
                    #expect(aSynced < Self.burst * 2 / 3, "B waited for \(aSynced) of A's \(Self.burst) visits")
                    try await eventually(timeout: .seconds(120), "A's burst synced") { await Self.tasks(orgA) == Self.burst }
                }
                #expect(try await harness.parkedCount() == 0)
                #expect(await Self.tasks(orgA) == Self.burst, "each of A's visits once")
                if let broker = harness.brokerConnection {
                    #expect(try await broker.queueStatus(harness.topology.overflowQueue(.visits)).messages == 0)
                }
            }
        }
    }

    @Test("two docsend-sync worker processes share the overflow queue: B is not held, A's burst is synced once each",
          .enabled(if: TestBroker.isAvailable), .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
          arguments: StoreBackend.available)
    func twoProcesses(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, settings: Self.settings, resyncInterval: .seconds(600)) { harness in
            try await Self.withBurst(harness) { orgA, publish in
                let workers = try (0..<2).map { _ in try harness.spawnWorker("visits") }
                do {
                    try await eventually("both workers consuming both queues") {
                        let main = try await harness.broker.queueStatus(harness.topology.queue(.visits)).consumers
                        let overflow = try await harness.broker.queueStatus(harness.topology.overflowQueue(.visits)).consumers
                        return main == 2 && overflow == 2
                    }
                    try await publish()
                    try await eventually(timeout: .seconds(60), "B's three Tasks") { await harness.tasks().count == 3 }
                    let aSynced = await Self.tasks(orgA)
                    #expect(aSynced < Self.burst * 2 / 3, "B waited for \(aSynced) of A's \(Self.burst) visits")
                    try await eventually(timeout: .seconds(120), "A's burst synced") { await Self.tasks(orgA) == Self.burst }
                    for worker in workers {
                        #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
                        #expect(worker.output.contains("docsend-team-concurrency=2"))
                    }
                } catch {
                    for worker in workers { worker.kill() }
                    throw error
                }
                #expect(try await harness.parkedCount() == 0)
                #expect(await Self.tasks(orgA) == Self.burst)
            }
        }
    }
}

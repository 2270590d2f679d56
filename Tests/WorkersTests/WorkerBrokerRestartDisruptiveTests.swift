import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Restarts the shared broker, so it runs only in `scripts/test`'s disruptive phase
/// (`DOCSEND_TEST_DISRUPTIVE=1`), alone.
@Suite(
    "Workers across a broker restart", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["DOCSEND_TEST_DISRUPTIVE"] == "1"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(10)))
struct WorkerBrokerRestartDisruptiveTests {
    @Test("the broker restarts under a worker with visits in work: it reconnects, and every visit gets exactly one Task")
    func restartUnderWorkers() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            // Slow upserts keep messages in work when the broker goes away.
            await harness.sandbox.org.setFaults(
                FaultSettings(latency: LatencySpec(fixedMs: 300, path: "/services/data/*/composite/sobjects/Task/*")))
            let worker = try harness.spawnWorker("all", arguments: ["--concurrency", "8"])
            let visits = (0..<40).map { _ in Events.started(email: "alice@acme.example") }
            let ids = visits.compactMap { event -> String? in
                if case .visitStarted(let visit) = event.payload { return visit.visitID }
                return nil
            }
            for event in visits.prefix(20) { try await harness.publish(event) }
            try await eventually("some visits written") { await harness.tasks().count >= 3 }

            try TestBroker.rabbitmqctl("stop_app")
            try await Task.sleep(for: .seconds(2))
            try await TestBroker.startApp()
            try await eventually(timeout: .seconds(60), "the broker back") {
                (try? await harness.broker.queueStatus(harness.topology.queue(.visits))) != nil
            }
            for event in visits.suffix(20) { try await harness.publish(event) }

            try await eventually(timeout: .seconds(120), "every visit synced") {
                var done = 0
                for id in ids where try await harness.visitState(id)?.sync.syncCount ?? 0 >= 1 { done += 1 }
                return done == ids.count
            }
            for id in ids { #expect(await harness.tasks("DocSend_Visit_Id__c", id).count == 1) }
            #expect(worker.output.contains("reconnect"), "the worker noticed the restart")
            #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
        }
    }

    @Test("SIGTERM while the broker is down: the worker stops at once and exits 0")
    func sigtermWhileBrokerDown() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("all")
            try await eventually("the worker consuming") {
                try await harness.broker.queueStatus(harness.topology.queue(.visits)).consumers == 1
            }
            try TestBroker.rabbitmqctl("stop_app")
            do {
                try await Task.sleep(for: .seconds(1))
                let stopping = ContinuousClock.now
                let status = await worker.terminate(timeout: .seconds(20))
                #expect(status == 0, "\(worker.output.suffix(2000))")
                #expect(ContinuousClock.now - stopping < .seconds(10), "it did not wait for the broker to come back")
            } catch {
                _ = try? await TestBroker.startApp()
                throw error
            }
            try await TestBroker.startApp()
            try await eventually(timeout: .seconds(60), "the broker back") {
                (try? await harness.broker.queueStatus(harness.topology.queue(.visits))) != nil
            }
        }
    }

    @Test("/readyz answers 503 while the broker is down and 200 once it is back; /healthz stays 200; reconnects counted")
    func readinessFollowsTheBroker() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("all")
            let url = try await worker.monitoringURL()
            try await eventually("the worker ready") { try await Scrape.get(url + "/readyz").status == 200 }
            try TestBroker.rabbitmqctl("stop_app")
            do {
                let down = try await eventually(timeout: .seconds(30), "/readyz failing") {
                    let response = try await Scrape.get(url + "/readyz")
                    return response.status == 503 ? String(decoding: response.body, as: UTF8.self) : nil
                }
                #expect(down.contains("broker connection is down"), "\(down)")
                #expect(try await Scrape.get(url + "/healthz").status == 200, "alive while not ready")
            } catch {
                _ = try? await TestBroker.startApp()
                throw error
            }
            try await TestBroker.startApp()
            try await eventually(timeout: .seconds(60), "/readyz back to 200") {
                try await Scrape.get(url + "/readyz").status == 200
            }
            let scrape = try await Scrape.metrics(url)
            #expect(scrape.sum("docsend_sync_amqp_reconnects_total") >= 1, "\(scrape.lines("docsend_sync_amqp"))")
            #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
        }
    }
}

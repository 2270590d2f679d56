import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// `docsend-sync worker all`: every role in one process, and a clean stop on SIGTERM.
@Suite(
    "Worker process lifecycle", .enabled(if: TestBroker.isAvailable),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(10)))
struct DrainTests {
    @Test("worker all handles visits, links and leads in one process", arguments: StoreBackend.available)
    func allRoles(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            let worker = try harness.spawnWorker("all")
            let visit = Events.started(email: "fresh@newco.example", name: "Fresh Face")
            let link = Events.linkCreated(account: Events.acme)
            guard case .visitStarted(let started) = visit.payload, case .linkCreated(let created) = link.payload else { return }
            try await harness.publish(visit)
            try await harness.publish(link)
            try await eventually(timeout: .seconds(30), "the visit Task on a new Lead, and the link Task") {
                let visitTask = await harness.tasks("DocSend_Visit_Id__c", started.visitID).first
                let linkTask = await harness.tasks("DocSend_Link_Id__c", created.linkID).first
                let lead = await harness.leads(email: "fresh@newco.example").first
                return visitTask != nil && linkTask != nil && lead != nil && visitTask?["WhoId"]?.stringValue == lead?.id
            }
            #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
        }
    }

    @Test("SIGTERM drains the message in work: it completes, is acknowledged, and the process exits 0",
          arguments: StoreBackend.available)
    func sigtermDrains(backend: StoreBackend) async throws {
        // A long re-sync interval keeps the visit's next tick in its tier while the queues are checked.
        try await FleetHarness.with(backend, resyncInterval: .seconds(120)) { harness in
            await harness.sandbox.org.setFaults(
                FaultSettings(latency: LatencySpec(fixedMs: 2000, path: "/services/data/*/composite/sobjects/Task/*")))
            let worker = try harness.spawnWorker("all")
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await eventually("the worker consuming") {
                try await harness.broker.queueStatus(harness.topology.queue(.visits)).consumers == 1
            }
            try await harness.publish(event)
            try await eventually("the message in work") {
                await harness.sandbox.org.requests().contains { $0.path.hasSuffix("/query") }
            }
            let status = await worker.terminate()
            #expect(status == 0, "\(worker.output.suffix(2000))")
            #expect(worker.output.contains("drained and stopped"))
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
            #expect(try await harness.visitState(visit.visitID)?.sync.syncCount == 1, "the work finished before the exit")
            let visits = try await harness.broker.queueStatus(harness.topology.queue(.visits))
            #expect(visits.messages == 0, "nothing requeued: the message was acknowledged before the exit")
            #expect(try await harness.broker.queueStatus(harness.topology.resyncTier.queue).messages == 1, "the next tick")
            #expect(try await harness.broker.queueStatus(harness.topology.queue(.visits)).consumers == 0)
        }
    }
}

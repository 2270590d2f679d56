import Foundation
import HTTP
import Jobs
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// A sales rep deletes a visit Task or a link Task in Salesforce; the next re-sync or visitor refresh writes it again
/// whole (`deleted_tasks: recreate`) or leaves it deleted (`leave`), never half (issue 16). On each `WorldSetup`, the
/// sandbox over HTTP; the Task is deleted through the REST API as a rep's delete would be (to the recycle bin, where
/// an upsert on the external id does not find it).
@Suite("Deleted Tasks", .timeLimit(.minutes(10)))
struct DeletedTaskTests {
    /// Every Task with `field` = `value`, deleted ones included.
    private static func allTasks(_ harness: FleetHarness, _ field: String, _ value: String) async -> [SandboxRecord] {
        await harness.sandbox.org.records("Task").filter { $0[field]?.stringValue == value }
    }

    /// Deletes a record through the REST API (`DELETE /sobjects/Task/{id}`), as a rep's delete in Salesforce.
    private static func deleteTask(_ harness: FleetHarness, _ id: String) async throws {
        let http = try HTTPClientBox()
        let response = try await http.client.execute(
            HTTPRequest(
                method: .delete, url: "\(harness.sandbox.baseURL)/services/data/v62.0/sobjects/Task/\(id)",
                headers: ["Authorization": "Bearer \(SandboxSeed.Demo.accessToken)"]))
        #expect(response.status == 204, "\(String(decoding: response.body, as: UTF8.self))")
        #expect(await harness.tasks().contains { $0.id == id } == false)
    }

    /// The first sync's Task of a visit by Alice on Acme, as the rules write it.
    private static func expectWhole(_ task: SandboxRecord, percent: String) {
        #expect(task["WhoId"]?.stringValue == SandboxSeed.Ids.alice)
        #expect(task["WhatId"]?.stringValue == SandboxSeed.Ids.acme)
        #expect(task["Status"]?.stringValue == "Completed")
        #expect(task["OwnerId"]?.stringValue == SandboxSeed.Ids.rep)
        #expect(task["Subject"]?.stringValue == "DocSend: Alice Anders viewed \"Q4 Pricing Proposal.pdf\"")
        #expect(task["Description"]?.stringValue?.contains("Percent viewed: \(percent)") == true)
    }

    @Test("a visit Task a rep deleted: the re-sync writes it again whole, once, and records its new id",
          arguments: WorldSetup.available)
    func visitRecreated(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, resyncInterval: .seconds(3)) { harness in
            let visitID = Events.id("visit")
            try await harness.runWorkers([.visits, .leads]) {
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", name: "Alice Anders", account: Events.acme))
                let first = try await eventually("the first sync") { await harness.tasks("DocSend_Visit_Id__c", visitID).first }
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.updated(visitID, duration: 30, percent: 40))
                let again = try await eventually(timeout: .seconds(30), "the Task written again") {
                    await harness.tasks("DocSend_Visit_Id__c", visitID).first
                }
                #expect(again.id != first.id)
                try await eventually("the state records the new Task") { try await harness.visitState(visitID)?.taskID == again.id }
            }
            let live = await harness.tasks("DocSend_Visit_Id__c", visitID)
            #expect(live.count == 1, "one live Task, never a half one beside it")
            let task = try #require(live.first)
            Self.expectWhole(task, percent: "40%")
            #expect(await Self.allTasks(harness, "DocSend_Visit_Id__c", visitID).count == 2, "the deleted one and its replacement")
            let ledger = try await harness.store.ledgerEntry(teamID: FleetHarness.teamID, kind: .visit, objectID: visitID)
            #expect(ledger?.salesforceID == task.id)
            #expect(try await harness.visitState(visitID)?.notSynced == nil)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("a visit Task a rep deleted, the team leaving deleted Tasks: nothing is written, now or later",
          arguments: WorldSetup.available)
    func visitLeftDeleted(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(deletedTasks: .leave), resyncInterval: .seconds(3)) { harness in
            let visitID = Events.id("visit")
            var deletedID: String?
            try await harness.runWorkers([.visits, .leads]) {
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", name: "Alice Anders", account: Events.acme))
                let first = try await eventually("the first sync") { await harness.tasks("DocSend_Visit_Id__c", visitID).first }
                deletedID = first.id
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.updated(visitID, duration: 30, percent: 40))
                try await eventually(timeout: .seconds(30), "the deletion recorded") {
                    try await harness.visitState(visitID)?.notSynced?.code == "task_deleted_in_salesforce"
                }
                #expect(try await harness.visitState(visitID)?.sync.isFinished == true)
                // A later update (it would reopen a finished visit with a Task) writes nothing either.
                try await harness.publish(Events.updated(visitID, duration: 90, percent: 80, ended: true))
                try await eventually(timeout: .seconds(30), "the late update handled") {
                    guard let state = try await harness.visitState(visitID) else { return false }
                    return state.sync.latest?.percentViewed == 80 && state.sync.isFinished
                }
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visitID).isEmpty, "no live Task, half or whole")
            #expect(await Self.allTasks(harness, "DocSend_Visit_Id__c", visitID).map(\.id) == [deletedID].compactMap { $0 })
            #expect(try await harness.store.ledgerEntry(teamID: FleetHarness.teamID, kind: .visit, objectID: visitID)?.salesforceID == deletedID)
            #expect(try await harness.pendingResyncTicks() == 0)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("a state saved before the Task's id was kept: the upsert's created Task is completed, or deleted when left",
          arguments: [DeletedTaskPolicy.recreate, .leave])
    func stateWithoutTaskID(policy: DeletedTaskPolicy) async throws {
        let setup = WorldSetup(backend: .sqlite, transport: .memory)
        try await FleetHarness.with(setup, settings: TeamSettings(deletedTasks: policy), resyncInterval: .seconds(3)) { harness in
            let visitID = Events.id("visit")
            try await harness.runWorkers([.visits, .leads]) {
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", name: "Alice Anders", account: Events.acme))
                let first = try await eventually("the first sync") { await harness.tasks("DocSend_Visit_Id__c", visitID).first }
                try await eventually("the state saved") { try await harness.visitState(visitID)?.taskID == first.id }
                // The state as an older version saved it: no Task id.
                let record = try #require(try await harness.store.loadState(teamID: FleetHarness.teamID, kind: .visit, objectID: visitID))
                var old = try JSONDecoder().decode(StoredVisit.self, from: record.state)
                old.taskID = nil
                _ = try await harness.store.saveState(
                    teamID: FleetHarness.teamID, kind: .visit, objectID: visitID, state: try JSONEncoder().encode(old),
                    expectedVersion: record.version)
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.updated(visitID, duration: 30, percent: 40))
                try await eventually(timeout: .seconds(30), "the deleted Task handled") {
                    guard let state = try await harness.visitState(visitID) else { return false }
                    return policy == .recreate ? state.taskID != nil : state.notSynced != nil
                }
            }
            let live = await harness.tasks("DocSend_Visit_Id__c", visitID)
            switch policy {
            case .recreate:
                #expect(live.count == 1)
                Self.expectWhole(try #require(live.first), percent: "40%")
                #expect(try await harness.visitState(visitID)?.taskID == live.first?.id)
            case .leave:
                #expect(live.isEmpty, "the half Task the upsert made is deleted")
            }
        }
    }

    @Test("a link Task a rep deleted: the visitor refresh writes it again whole with every visitor",
          arguments: WorldSetup.available)
    func linkRecreated(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(event)
                let first = try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).first }
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.started(email: "bob@example.com", name: "Bob", link: link.linkID))
                let again = try await eventually(timeout: .seconds(30), "the link Task written again") {
                    await harness.tasks("DocSend_Link_Id__c", link.linkID).first
                }
                #expect(again.id != first.id)
                #expect(again["Subject"]?.stringValue == first["Subject"]?.stringValue)
                try await eventually("the state records the new Task") { try await harness.linkState(link.linkID)?.taskID == again.id }
            }
            let live = await harness.tasks("DocSend_Link_Id__c", link.linkID)
            #expect(live.count == 1)
            let task = try #require(live.first)
            #expect(task["WhatId"]?.stringValue == SandboxSeed.Ids.acme)
            #expect(task["OwnerId"]?.stringValue == SandboxSeed.Ids.rep)
            #expect(task["Status"]?.stringValue == "Completed")
            #expect(task["Subject"]?.stringValue?.isEmpty == false)
            let comments = try #require(task["Description"]?.stringValue)
            #expect(comments.contains("Document name: Series B Pitch Deck.pdf"))
            #expect(comments.contains("Visitors (1):"))
            #expect(comments.contains("- Bob <bob@example.com>"))
            let ledger = try await harness.store.ledgerEntry(teamID: FleetHarness.teamID, kind: .link, objectID: link.linkID)
            #expect(ledger?.salesforceID == task.id)
            #expect(try await harness.linkState(link.linkID)?.pending.isEmpty == true)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("a link Task a rep deleted, the team leaving deleted Tasks: no refresh writes it again",
          arguments: WorldSetup.available)
    func linkLeftDeleted(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(deletedTasks: .leave)) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(event)
                let first = try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).first }
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.started(email: "bob@example.com", name: "Bob", link: link.linkID))
                try await eventually(timeout: .seconds(30), "the deletion recorded") {
                    try await harness.linkState(link.linkID)?.notSynced?.code == "task_deleted_in_salesforce"
                }
                // Later visitors schedule no refresh; wait several refresh delays for a write that must not come.
                try await harness.publish(Events.started(email: "carol@example.com", name: "Carol", link: link.linkID))
                try await Task.sleep(for: .seconds(3))
                let state = try #require(try await harness.linkState(link.linkID))
                #expect(state.scheduledRefresh == nil)
                #expect(state.pending.isEmpty)
            }
            #expect(await harness.tasks("DocSend_Link_Id__c", link.linkID).isEmpty, "no live Task, half or whole")
            #expect(await Self.allTasks(harness, "DocSend_Link_Id__c", link.linkID).count == 1)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("two docsend-sync worker processes and duplicate re-sync ticks all find the Task deleted: one Task, whole",
          .enabled(if: TestBroker.isAvailable), .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
          arguments: StoreBackend.available)
    func twoProcessesRecreateOnce(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, resyncInterval: .seconds(3)) { harness in
            let workers = try (0..<2).map { _ in try harness.spawnWorker("visits") }
            do {
                try await eventually("both workers consuming") {
                    try await harness.broker.queueStatus(harness.topology.queue(.visits)).consumers == 2
                }
                let visitID = Events.id("visit")
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", name: "Alice Anders", account: Events.acme))
                let first = try await eventually(timeout: .seconds(30), "the first sync") {
                    await harness.tasks("DocSend_Visit_Id__c", visitID).first
                }
                try await Self.deleteTask(harness, first.id)
                try await harness.publish(Events.updated(visitID, duration: 30, percent: 40))
                // The awaited tick, twice more (a redelivered or duplicated re-sync): all three find the Task gone.
                let tick = try await eventually("the awaited tick") { try await harness.visitState(visitID)?.sync.pendingTick }
                let queue = AMQPJobQueue(connection: harness.broker, topology: harness.topology)
                for _ in 0..<2 {
                    try await queue.push(.visitResync(VisitResyncTick(teamID: FleetHarness.teamID, visitID: visitID, sequence: tick)))
                }
                let again = try await eventually(timeout: .seconds(60), "the Task written again") {
                    await harness.tasks("DocSend_Visit_Id__c", visitID).first
                }
                try await eventually(timeout: .seconds(30), "the state records the new Task") {
                    try await harness.visitState(visitID)?.taskID == again.id
                }
                try await eventually(timeout: .seconds(30), "the duplicates consumed") {
                    let ticks = try await harness.pendingResyncTicks()
                    let ready = try await harness.broker.queueStatus(harness.topology.queue(.visits)).messages
                    return ticks == 0 && ready == 0
                }
                for worker in workers { #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))") }
                let live = await harness.tasks("DocSend_Visit_Id__c", visitID)
                #expect(live.count == 1, "exactly one Task, whichever process wrote it")
                Self.expectWhole(try #require(live.first), percent: "40%")
                #expect(await Self.allTasks(harness, "DocSend_Visit_Id__c", visitID).count == 2)
                let ledger = try await harness.store.ledgerEntry(teamID: FleetHarness.teamID, kind: .visit, objectID: visitID)
                #expect(ledger?.salesforceID == live.first?.id)
                #expect(try await harness.parkedCount() == 0)
            } catch {
                for worker in workers { worker.kill() }
                throw error
            }
        }
    }
}

import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Issue 5's fleet test: three `docsend-sync worker` processes per role, one broker, one sandbox, a simulated
/// stream of 2,000 events with duplicates and late deliveries, and a worker killed mid-stream (redeliveries).
/// The sandbox must end with exactly the Tasks and Leads the stream implies: computed here from the stream and
/// the org's seeded records through the rules, never from the fleet's own ledger.
@Suite(
    "A fleet of worker processes against a simulated stream", .serialized, .enabled(if: TestBroker.isAvailable),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(10)))
struct FleetStreamTests {
    static let settings: [String: TeamSettings] = [
        "team_demo": TeamSettings(createLeadsForUnmatchedEmails: true),
        "team_northwind": TeamSettings(createOpenTasksForUnmatchedRecords: true),
    ]

    @Test("3 processes per role, 2,000 events: every implied Task and Lead exactly once", arguments: StoreBackend.available)
    func twoThousandEvents(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, seed: .activityDemo, resyncInterval: .seconds(2)) { harness in
            for (team, settings) in Self.settings { try await harness.connectTeam(team, settings: settings) }
            var simulator = ActivitySimulator(
                seed: 2026, configuration: .init(duplicateRatio: 0.05, lateDeliveryRatio: 0.05))
            let events = simulator.events(count: 2000)
            let expected = try await Expectation(events: events, org: harness.sandbox.org, settings: Self.settings)
            let summary =
                "the stream implies \(expected.visitTasks.count) visit Tasks, \(expected.linkTasks.count) link Tasks, "
                + "\(expected.spaceLinkTasks.count) space link Tasks, \(expected.leads.count) Leads"
            print(summary)
            // The stream exercises every kind (a guard against a simulator change that would make this test vacuous).
            #expect(
                expected.visitTasks.count > 300 && expected.linkTasks.count > 10 && expected.spaceLinkTasks.count > 5
                    && expected.leads.count > 10, "\(summary)")

            var workers = try (0..<3).flatMap { _ in try ["visits", "links", "leads"].map { try harness.spawnWorker($0) } }
            for (index, event) in events.enumerated() {
                try await harness.publish(event)
                if index == 700 {
                    // A visit worker dies with messages in work: the broker redelivers them to the others.
                    workers[0].kill()
                    workers[0] = try harness.spawnWorker("visits")
                }
            }
            do {
                try await eventually(timeout: .seconds(300), "every queue drained and the Tasks written") {
                    let written = await harness.tasks().count
                    guard written >= expected.taskCount else { return false }
                    return try await harness.isIdle()
                }
            } catch {
                // What was left, for the one who reads the failure.
                var queues: [String] = []
                for queue in harness.topology.topology.queues {
                    let messages = try await harness.broker.queueStatus(queue.name).messages
                    if messages > 0 { queues.append("\(queue.name): \(messages)") }
                }
                let unacknowledged = try TestBroker.rabbitmqctl("list_queues", "name", "messages_unacknowledged", "--no-table-headers")
                Issue.record(
                    """
                    \(await harness.tasks().count) of \(expected.taskCount) Tasks; ready: \(queues); unacknowledged: \(unacknowledged)
                    last worker lines: \(workers.map { String($0.output.suffix(600)) }.joined(separator: "\n---\n"))
                    """)
                throw error
            }
            try await Task.sleep(for: .seconds(3))  // anything late would land now
            #expect(try await harness.isIdle())
            for worker in workers { #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))") }

            let tasks = await harness.tasks()
            let byVisit = Dictionary(grouping: tasks.compactMap { $0["DocSend_Visit_Id__c"]?.stringValue }, by: { $0 })
            let byLink = Dictionary(grouping: tasks.compactMap { $0["DocSend_Link_Id__c"]?.stringValue }, by: { $0 })
            let bySpace = Dictionary(grouping: tasks.compactMap { $0["DocSend_Space_Link_Id__c"]?.stringValue }, by: { $0 })
            #expect(byVisit.values.allSatisfy { $0.count == 1 }, "a visit with two Tasks")
            #expect(byLink.values.allSatisfy { $0.count == 1 }, "a link with two Tasks")
            #expect(bySpace.values.allSatisfy { $0.count == 1 }, "a space link with two Tasks")
            #expect(Set(byVisit.keys) == expected.visitTasks, "visit Tasks: missing \(expected.visitTasks.subtracting(byVisit.keys).sorted().prefix(5)), unexpected \(Set(byVisit.keys).subtracting(expected.visitTasks).sorted().prefix(5))")
            #expect(Set(byLink.keys) == expected.linkTasks)
            #expect(Set(bySpace.keys) == expected.spaceLinkTasks)
            #expect(tasks.count == expected.taskCount)

            let leads = await harness.sandbox.org.records("Lead").filter { !$0.isDeleted && $0["LeadSource"]?.stringValue == "DocSend" }
            let leadEmails = leads.compactMap { $0["Email"]?.stringValue?.lowercased() }
            #expect(leadEmails.count == Set(leadEmails).count, "an email with two Leads")
            #expect(Set(leadEmails) == expected.leads)
            #expect(try await harness.parked().isEmpty)
        }
    }
}

/// What a stream implies, by the rules, given the org's seeded records and the teams' settings.
struct Expectation {
    var visitTasks: Set<String> = []
    var linkTasks: Set<String> = []
    var spaceLinkTasks: Set<String> = []
    /// Lowercased emails that get a new Lead.
    var leads: Set<String> = []

    var taskCount: Int { visitTasks.count + linkTasks.count + spaceLinkTasks.count }

    init(events: [Event], org: SandboxOrg, settings: [String: TeamSettings]) async throws {
        func date(_ record: SandboxRecord) -> Date {
            SalesforceDateTime.parse(record["LastModifiedDate"]?.stringValue) ?? .distantPast
        }
        var people = await org.records("Contact").filter { !$0.isDeleted }.map {
            SalesforcePerson(kind: .contact, id: $0.id, email: $0["Email"]?.stringValue, isConverted: false, lastModifiedDate: date($0))
        }
        people += await org.records("Lead").filter { !$0.isDeleted }.map {
            SalesforcePerson(
                kind: .lead, id: $0.id, email: $0["Email"]?.stringValue, isConverted: $0["IsConverted"]?.boolValue ?? false,
                lastModifiedDate: date($0))
        }
        let accounts = await org.records("Account").filter { !$0.isDeleted }.map {
            SalesforceAccount(id: $0.id, name: $0["Name"]?.stringValue ?? "", lastModifiedDate: date($0))
        }
        let users = await org.records("User").map {
            SalesforceUser(id: $0.id, email: $0["Email"]?.stringValue ?? "", isActive: $0["IsActive"]?.boolValue ?? true)
        }
        var seen: Set<String> = []
        for event in events where seen.insert(event.id).inserted {
            let team = settings[event.teamID] ?? TeamSettings()
            switch event.payload {
            case .visitStarted(let visit):
                switch VisitRouting.route(visit, settings: team, people: people, accounts: accounts, users: users) {
                case .task: visitTasks.insert(visit.visitID)
                case .createLead(let draft, _):
                    visitTasks.insert(visit.visitID)
                    leads.insert(draft.email.lowercased())
                    // Later visits by this email find the new Lead.
                    people.append(
                        SalesforcePerson(kind: .lead, id: "new:\(draft.email.lowercased())", email: draft.email, isConverted: false, lastModifiedDate: Date()))
                case .notSynced: break
                }
            case .linkCreated(let link):
                if case .task = LinkRouting.route(link, settings: team, accounts: accounts, users: users) {
                    linkTasks.insert(link.linkID)
                }
            case .spaceLinkCreated(let spaceLink):
                if case .task = LinkRouting.route(spaceLink, settings: team, accounts: accounts, users: users) {
                    spaceLinkTasks.insert(spaceLink.spaceLinkID)
                }
            case .visitUpdated: break
            }
        }
    }
}

extension FleetHarness {
    /// No message ready or in work in any queue of the topology but the parking queue.
    func isIdle() async throws -> Bool {
        for queue in topology.topology.queues where queue.name != topology.parkingQueue {
            if try await broker.queueStatus(queue.name).messages > 0 { return false }
        }
        let output = try TestBroker.rabbitmqctl("list_queues", "name", "messages_unacknowledged", "--no-table-headers")
        for line in output.split(separator: "\n") where line.hasPrefix(topology.prefix + ".") {
            if line.split(separator: "\t").last.map(String.init).flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) ?? 0 > 0 {
                return false
            }
        }
        return true
    }
}

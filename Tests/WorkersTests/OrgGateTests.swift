import Foundation
import Jobs
import Synchronization
import Salesforce
import SalesforceSandbox
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// The decisions of one org's gate, on values and an explicit clock.
@Suite("Org gate")
struct OrgGateTests {
    let policy = OrgGate.Policy(reserve: 0.2, slowZone: 0.05, slowSpacing: .seconds(1), breakerThreshold: 5, pauseInterval: .seconds(10))
    let well = SalesforceClient.Health()

    func code(_ decision: OrgGate.Decision) -> String {
        switch decision {
        case .admit: "admit"
        case .probe: "probe"
        case .wait(let failure):
            failure.disposition == .wait ? failure.code : "not a wait: \(failure.disposition)"
        }
    }

    @Test("usage below the slow zone is admitted; in it, one job a second; at the reserve, paused")
    func budget() {
        let gate = OrgGate(policy: policy)
        let start = ContinuousClock.now
        #expect(code(gate.decide(health: well, usage: nil, teamID: "t", now: start)) == "admit")
        #expect(code(gate.decide(health: well, usage: APIUsage(used: 74, max: 100), teamID: "t", now: start)) == "admit")
        #expect(code(gate.decide(health: well, usage: APIUsage(used: 76, max: 100), teamID: "t", now: start)) == "admit")
        #expect(
            code(gate.decide(health: well, usage: APIUsage(used: 76, max: 100), teamID: "t", now: start + .milliseconds(500)))
                == "org_slowed.api_budget")
        #expect(code(gate.decide(health: well, usage: APIUsage(used: 77, max: 100), teamID: "t", now: start + .seconds(1))) == "admit")
        #expect(
            code(gate.decide(health: well, usage: APIUsage(used: 80, max: 100), teamID: "t", now: start + .seconds(3)))
                == "org_paused.api_budget")
    }

    @Test("a pause ends in one probe; others wait while it runs; a good answer resumes, a bad one doubles the pause up to ten times")
    func probes() throws {
        let gate = OrgGate(policy: policy)
        let failing = SalesforceClient.Health(failuresInARow: 5)
        let start = ContinuousClock.now
        #expect(code(gate.decide(health: failing, usage: nil, teamID: "t", now: start)) == "org_paused.circuit_open")
        #expect(code(gate.decide(health: failing, usage: nil, teamID: "t", now: start + .seconds(9))) == "org_paused.circuit_open")
        var now = start + .seconds(10)
        var pause = Duration.seconds(10)
        for _ in 0..<6 {
            #expect(code(gate.decide(health: failing, usage: nil, teamID: "t", now: now)) == "probe")
            #expect(code(gate.decide(health: failing, usage: nil, teamID: "t", now: now)) == "org_paused.circuit_open", "one probe at a time")
            let failure = try #require(gate.probed(health: failing, usage: nil, teamID: "t", now: now))
            pause = min(pause * 2, .seconds(100))
            #expect(failure.retryAfter == pause)
            now += pause
        }
        #expect(code(gate.decide(health: failing, usage: nil, teamID: "t", now: now)) == "probe")
        #expect(gate.probed(health: well, usage: nil, teamID: "t", now: now) == nil, "the probe answered: resumed")
        #expect(code(gate.decide(health: well, usage: nil, teamID: "t", now: now)) == "admit")
    }

    @Test("REQUEST_LIMIT_EXCEEDED pauses the org whatever the usage said; a job's answers that clear it resume it")
    func limitExceeded() {
        let gate = OrgGate(policy: policy)
        let start = ContinuousClock.now
        let refused = SalesforceClient.Health(limitExceeded: true)
        #expect(code(gate.decide(health: refused, usage: APIUsage(used: 10, max: 100), teamID: "t", now: start)) == "org_paused.api_budget")
        #expect(code(gate.decide(health: well, usage: APIUsage(used: 10, max: 100), teamID: "t", now: start + .seconds(1))) == "admit")
    }

    @Test("a waiting job goes through the retry tier nearest its pause, its attempts not counted, and is never parked")
    func waitsWithoutAttempts() async throws {
        let queue = MemoryJobQueue(delays: .init(resync: .seconds(60), visitorRefresh: .seconds(60)))
        let handler = PausedUntil(waits: 6)
        let processor = JobProcessor(
            role: .visits, queue: queue, handler: handler,
            configuration: .init(concurrency: 1, prefetch: 1, retry: .tiers([.milliseconds(50), .milliseconds(100)])),
            classify: { error, teamID in WorkFailure.classify(error, teamID: teamID ?? "") }, logger: FleetHarness.logger)
        try await queue.push(.event(Events.started(email: "alice@acme.example")))
        try await FleetHarness.running([processor]) {
            try await eventually("handled after six waits") { handler.calls.withLock { $0.count } == 7 }
        }
        #expect(queue.parked.isEmpty)
        #expect(handler.calls.withLock { $0 } == Array(repeating: 0, count: 7), "no attempt counted: \(handler.calls.withLock { $0 })")
    }
}

/// Throws ``WorkFailure/Disposition/wait`` `waits` times, then handles; records the failed attempts each call saw.
final class PausedUntil: JobHandler {
    let waits: Int
    let calls = Mutex<[Int]>([])

    init(waits: Int) { self.waits = waits }

    func handle(_ job: Job, context: JobContext) async throws {
        let count = calls.withLock { calls in
            calls.append(context.failedAttempts)
            return calls.count
        }
        if count <= waits {
            throw WorkFailure.wait(code: "org_paused.circuit_open", "paused", retryAfter: .milliseconds(80))
        }
    }
}

/// The budget and the circuit end to end: the sandbox's allocation, and a second org answering 503.
@Suite("Org budget and circuit", .timeLimit(.minutes(10)))
struct OrgBudgetTests {
    @Test("with the org's allocation low, the fleet stops at the reserve, parks nothing, and resumes when it is raised",
          arguments: WorldSetup.available)
    func budget(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: false), resyncInterval: .seconds(600)) {
            harness in
            // 20 calls a day, 10 used by the customer's other integrations: 16 (80%) is ours to reach.
            await harness.sandbox.org.setAPILimit(max: 20, used: 10)
            let events = (0..<30).map { Events.started(email: "visitor\($0)@budget.example", account: Events.acme) }
            for event in events { try await harness.publish(event) }
            var app = harness.app
            app.pauseInterval = .milliseconds(500)
            app.batchWindow = .zero  // each visit its own calls: the budget runs out part way
            app.batchMaxWait = .zero
            try await harness.runWorkers([.visits], concurrency: 2, app: app) {
                try await eventually(timeout: .seconds(60), "the org paused at its reserve") {
                    let used = await harness.sandbox.org.apiUsage().used
                    return used >= 16
                }
                let tasksAtPause = await harness.tasks().count
                try await Task.sleep(for: .seconds(4))
                let requests = await harness.sandbox.org.requests()
                let limitsProbes = requests.filter { $0.path.hasSuffix("/limits") }.count
                let used = await harness.sandbox.org.apiUsage().used
                // Only the probes (GET /limits) spent calls past the reserve, and the jobs in work when it was reached.
                #expect(used - limitsProbes <= 16 + 4, "used \(used), of which \(limitsProbes) probes")
                #expect(await harness.tasks().count <= tasksAtPause + 2, "no Task written while paused")
                #expect(await harness.tasks().count < 30)
                #expect(try await harness.parkedCount() == 0)

                await harness.sandbox.org.setAPILimit(max: 100_000)
                try await eventually(timeout: .seconds(60), "every visit synced once the allocation is raised") {
                    await harness.tasks().count == 30
                }
            }
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("org A's Salesforce answering 503 to everything: org B's visits flow, A's are all synced once it recovers, nothing parked",
          arguments: WorldSetup.available)
    func circuit(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: false), resyncInterval: .seconds(600)) {
            harness in
            let orgA = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: .workerTests))
            do {
                try await harness.connectTeam("team_a", settings: TeamSettings(createLeadsForUnmatchedEmails: false), to: orgA)
                await orgA.org.addFault(FaultRule(kind: .serviceUnavailable, path: "/services/data/*"))
                let eventsA = (0..<20).map { Events.started(email: "a\($0)@down.example", account: Events.acme, team: "team_a") }
                let eventsB = (0..<20).map { Events.started(email: "b\($0)@up.example", account: Events.acme) }
                var app = harness.app
                app.pauseInterval = .milliseconds(500)
                try await harness.runWorkers([.visits], concurrency: 4, app: app) {
                    for (a, b) in zip(eventsA, eventsB) {
                        try await harness.publish(a)
                        try await harness.publish(b)
                    }
                    try await eventually(timeout: .seconds(60), "org B's 20 Tasks while A is down") {
                        await harness.tasks().count == 20
                    }
                    let aTasks = await orgA.org.records("Task").filter { !$0.isDeleted }.count
                    #expect(aTasks == 0)
                    try await Task.sleep(for: .seconds(3))
                    #expect(try await harness.parkedCount() == 0, "A's visits wait, they are not parked")
                    // The pause is in the store for `docsend-sync status` while it lasts (each pause here is short, and
                    // a row lapses with its pause until the next probe pauses the org again): A's only, with its reason.
                    try await eventually(timeout: .seconds(60), "A's pause listed") {
                        try await !harness.store.orgPauses().isEmpty
                    }
                    let pauses = try await harness.store.orgPauses()
                    #expect(Set(pauses.map(\.teamID)).isSubset(of: ["team_a"]), "\(pauses)")
                    #expect(pauses.allSatisfy { $0.reason == "circuit_open" }, "\(pauses)")
                    await orgA.org.setFaults(FaultSettings())
                    try await eventually(timeout: .seconds(90), "org A's 20 Tasks once it recovers") {
                        await orgA.org.records("Task").filter { !$0.isDeleted }.count == 20
                    }
                    try await eventually("A's pause removed once it resumed") { try await harness.store.orgPauses().isEmpty }
                }
                #expect(try await harness.parkedCount() == 0)
                // While A was down, its jobs waited: the org saw spaced probes, not a retry storm.
                let failed = await orgA.org.requests().filter { $0.status == 503 }.count
                #expect(failed < 60, "\(failed) answers of 503")
            } catch {
                await orgA.shutdown()
                throw error
            }
            await orgA.shutdown()
        }
    }
}

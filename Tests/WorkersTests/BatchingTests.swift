import Foundation
import HTTP
import Salesforce
import SalesforceSandbox
import SyncCore
import Synchronization
import TestSupport
import Testing

@testable import Workers

/// ``Gatherer``: requests made together share calls, each caller gets its own result.
@Suite("Gatherer")
struct GathererTests {
    /// Records every batch a gatherer sent.
    final class Calls: Sendable {
        let batches = Mutex<[[Int]]>([])
        var sizes: [Int] { batches.withLock { $0.map(\.count) } }
    }

    @Test("450 requests at once with a limit of 200: three calls (200, 200, 50), each caller answered its own")
    func limit() async throws {
        let calls = Calls()
        let gatherer = Gatherer<Int, Int>(window: .milliseconds(50), maxWait: .seconds(10), limit: 200) { requests in
            calls.batches.withLock { $0.append(requests) }
            return requests.map { .success($0 * 10) }
        }
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for request in 0..<450 { group.addTask { (request, try await gatherer.submit(request)) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(calls.sizes.sorted() == [50, 200, 200])
        #expect(answers.count == 450)
        #expect(answers.allSatisfy { $0.value == $0.key * 10 })
    }

    @Test("a failed record fails its own caller only; a call answering too few fails the rest, not the others")
    func ownResults() async throws {
        struct Odd: Error {}
        let gatherer = Gatherer<Int, Int>(window: .milliseconds(20), maxWait: .seconds(10), limit: 10) { requests in
            Array(requests.map { $0 % 2 == 0 ? .success($0) : .failure(Odd()) }.prefix(8))
        }
        let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for request in 0..<10 {
                group.addTask {
                    do { return (request, .success(try await gatherer.submit(request))) } catch { return (request, .failure(error)) }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let order = try #require(outcomes.count == 10 ? outcomes : nil)
        // The batch's order is arrival order, which the task group does not fix: check by kind of answer.
        var succeeded = 0
        var odd = 0
        var shortAnswer = 0
        for (request, outcome) in order {
            switch outcome {
            case .success(let value):
                #expect(value == request)
                succeeded += 1
            case .failure(let error) where error is Odd: odd += 1
            case .failure(let error) where error is GathererError: shortAnswer += 1
            case .failure(let error): Issue.record("unexpected \(error)")
            }
        }
        #expect(shortAnswer == 2)
        #expect(succeeded + odd == 8)
    }

    @Test("while the calls allowed are out, requests keep gathering: the next call takes them all")
    func groupCommit() async throws {
        let calls = Calls()
        let gate = Gate()
        let gatherer = Gatherer<Int, Int>(window: .milliseconds(1), maxWait: .milliseconds(1), limit: 200, callsInFlight: 1) {
            requests in
            calls.batches.withLock { $0.append(requests) }
            if requests == [0] { await gate.wait() }
            return requests.map { .success($0) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await gatherer.submit(0) }
            try await eventually("the first call out") { calls.sizes == [1] }
            for request in 1...50 { group.addTask { _ = try await gatherer.submit(request) } }
            try await eventually("50 waiting") { gatherer.waitingCount == 50 }
            gate.open()
            try await group.waitForAll()
        }
        #expect(calls.sizes == [1, 50])
    }

    @Test("a window of zero sends every request on its own")
    func noWindow() async throws {
        let calls = Calls()
        let gatherer = Gatherer<Int, Int>(window: .zero, maxWait: .zero, limit: 200, callsInFlight: 100) { requests in
            calls.batches.withLock { $0.append(requests) }
            return requests.map { .success($0) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for request in 0..<20 { group.addTask { _ = try await gatherer.submit(request) } }
            try await group.waitForAll()
        }
        #expect(calls.sizes == Array(repeating: 1, count: 20))
    }

    @Test("requests that keep coming are sent once the first has waited the longest wait, not held forever")
    func maxWait() async throws {
        let calls = Calls()
        // Never quiet for a second, so only the 100 ms longest wait sends a batch.
        let gatherer = Gatherer<Int, Int>(window: .seconds(1), maxWait: .milliseconds(100), limit: 200) { requests in
            calls.batches.withLock { $0.append(requests) }
            return requests.map { .success($0) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // 60 requests 10 ms apart or more: at least 600 ms, so at least five longest waits.
            for request in 0..<60 {
                group.addTask { _ = try await gatherer.submit(request) }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await group.waitForAll()
        }
        #expect(calls.sizes.reduce(0, +) == 60)
        #expect(calls.sizes.count >= 2, "\(calls.sizes)")
    }

    @Test("IN lists: 200 values at most, and no longer than a request line allows once encoded")
    func chunks() {
        let short = (0..<450).map { "v\($0)@example.com" }
        #expect(OrgBatches.chunks(short).map(\.count) == [200, 200, 50])
        // 52 characters, 40 of them two bytes each percent-encoded as six: 285 bytes a literal, 42 to a list.
        let wide = (0..<50).map { _ in String(repeating: "é", count: 40) + "@example.com" }
        let lists = OrgBatches.chunks(wide)
        #expect(lists.flatMap { $0 } == wide)
        #expect(lists.count > 1)
        /// The bytes a literal takes in the query URL: percent-encoded, with its quotes and comma.
        func encoded(_ value: String) -> Int {
            value.utf8.reduce(9) { total, byte in
                let plain = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
                return total + (plain ? 1 : 3)
            }
        }
        for list in lists { #expect(list.map(encoded).reduce(0, +) <= OrgBatches.maxEncodedListLength) }
    }
}

/// Holds callers until opened.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// Batching end to end, on each `WorldSetup`: one org's burst makes a handful of Salesforce calls (counted in the
/// sandbox's request log), every visit gets exactly one Task, and a record Salesforce refuses parks only its own
/// message.
@Suite("Batched Salesforce calls", .timeLimit(.minutes(10)))
struct BatchingTests {
    @Test("500 visits of one org at once on two workers: a handful of lookups and Collections upserts, one Task each, one bad record parked alone",
          arguments: WorldSetup.available)
    func burst(setup: WorldSetup) async throws {
        let settings = TeamSettings(createLeadsForUnmatchedEmails: false)
        try await FleetHarness.with(setup, settings: settings, resyncInterval: .seconds(600)) { harness in
            try await burst(harness)
        }
    }

    /// 499 good visits (one in ten by a Contact, the others account fallbacks) and, in the middle, one whose DocSend
    /// account is linked to an Account deleted since: Salesforce refuses that Task's `WhatId`.
    static func events() -> [Event] {
        let globex = AccountInfo(id: "acct_globex", name: "Globex", salesforceAccountID: SandboxSeed.Ids.globex)
        let gone = AccountInfo(id: "acct_gone", name: "Gone Inc", salesforceAccountID: "001000000000999")
        return (0..<500).map { index in
            if index == 250 { return Events.started(email: "stranger@gone.example", account: gone) }
            if index % 10 == 0 { return Events.started(email: "alice@acme.example", account: globex) }
            return Events.started(email: "visitor\(index)@burst.example", account: globex)
        }
    }

    private func burst(_ harness: FleetHarness) async throws {
        let events = Self.events()
        let visitIDs = events.compactMap { event -> String? in
            guard case .visitStarted(let visit) = event.payload else { return nil }
            return visit.visitID
        }
        await harness.sandbox.org.clearRequests()
        // Queued before the workers start: a burst, not paced by the test's publisher.
        for event in events { try await harness.publish(event) }
        // A debug build on a shared machine reaches each step slower than the default window expects: gather longer,
        // so that the counts show the mechanism rather than this machine's speed. scripts/bench-fleet measures the
        // defaults, in a release build (docs/benchmarks.md).
        var app = harness.app
        app.batchWindow = .milliseconds(100)
        app.batchMaxWait = .seconds(2)
        // Two worker sets, as two processes: each gathers its own share; no visit gets two Tasks. The team shares
        // are off (one team may take every place): this counts the batching alone. With them, a team's burst beyond
        // its share comes back from the overflow queue in smaller groups (FairnessTests; bench-fleet's figures).
        try await harness.runWorkers([.visits], instances: 2, concurrency: 200, teamConcurrency: 200, app: app) {
            try await eventually(timeout: .seconds(240), "499 Tasks and one parked") {
                let parked = try await harness.parkedCount()
                let tasks = await harness.tasks().count
                return parked == 1 && tasks == 499
            }
        }
        let requests = await harness.sandbox.org.requests()
        // The lookups: composite requests of IN queries (Contacts and Leads by email, Accounts by name).
        let lookups = requests.filter { $0.path.hasSuffix("/composite") }
        let upserts = requests.filter { $0.path.contains("/composite/sobjects/Task/") }.count
        // 500 one at a time would be 1,000 queries and 500 upserts; 200 a call at best is 3 of each, 4 for two
        // workers sharing the burst.
        #expect(lookups.count <= 8, "composite lookups: \(lookups.count)")
        #expect(lookups.allSatisfy { $0.body.contains("FROM%20Contact") && $0.body.contains("FROM%20Lead") })
        let alone = requests.filter { request in
            request.path.hasSuffix("/query") && ["FROM Contact", "FROM Lead"].contains { (request.query["q"] ?? "").contains($0) }
        }
        #expect(alone.isEmpty, "no lookup of one visit alone")
        #expect(upserts <= 8, "Collections upserts: \(upserts)")
        #expect(!requests.contains { $0.method == "PATCH" && $0.path.contains("/sobjects/Task/DocSend_Visit_Id__c/") })
        let perVisit = Dictionary(grouping: await harness.tasks()) { $0["DocSend_Visit_Id__c"]?.stringValue ?? "" }
        let bad = visitIDs[250]
        #expect(visitIDs.filter { $0 != bad }.allSatisfy { perVisit[$0]?.count == 1 }, "every good visit has exactly one Task")
        #expect(perVisit[bad] == nil)
        let parked = try await harness.parkedSummaries()
        #expect(parked.map(\.code) == ["salesforce.INVALID_CROSS_REFERENCE_KEY"], "\(parked.map(\.reason))")
    }
}

/// The people found for an email, kept per org and process for the lookup lifetime.
@Suite("People found, kept")
struct PeopleKeptTests {
    @Test("kept for the lifetime (a Contact added meanwhile is not asked for); fresh asks again; a Lead made here is seen at once")
    func kept() async throws {
        try await FleetHarness.with(.sqlite, transport: .memory) { harness in
            let http = try HTTPClient(logger: FleetHarness.logger)
            var app = harness.app
            app.lookupLifetime = .seconds(600)
            let orgs = TeamOrgs(store: harness.store, app: app, http: http, logger: FleetHarness.logger)
            do {
                let org = try await orgs.context(teamID: FleetHarness.teamID, logger: FleetHarness.logger)
                let email = "newcomer@kept.example"
                #expect(try await org.people(email: email).isEmpty)
                let contact = try await harness.sandbox.org.create(
                    "Contact", JSONObject([("LastName", .string("Newcomer")), ("Email", .string("Newcomer@Kept.example"))]))
                #expect(try await org.people(email: "NEWCOMER@kept.example").isEmpty, "kept: not asked again")
                #expect(try await org.people(email: email, fresh: true).map(\.id) == [contact])
                let asked = await harness.sandbox.org.requests().filter {
                    $0.path.hasSuffix("/composite") && $0.body.contains("newcomer%40kept.example")
                }
                #expect(asked.count == 2)

                let other = "other@kept.example"
                #expect(try await org.people(email: other).isEmpty)
                let lead = try await org.createLead(
                    fields: ["LastName": .string("Other"), "Company": .string("Kept"), "Email": .string(other)],
                    allowingDuplicates: false, logger: FleetHarness.logger)
                #expect(try await org.people(email: other).map(\.id) == [lead])
            } catch {
                await http.shutdown()
                throw error
            }
            await http.shutdown()
        }
    }
}

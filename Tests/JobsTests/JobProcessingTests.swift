import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Synchronization
import SyncCore
import Testing

/// The job layer alone: typed jobs through the in-memory queue and a processor, with handlers written here.
@Suite("Job processing on the in-memory queue")
struct JobProcessingTests {
    static let logger = Logger(label: "jobs-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A handler that records what it was given and fails as `outcome` says.
    final class Recorder: JobHandler, Sendable {
        let seen = Mutex<[(job: Job, failedAttempts: Int)]>([])
        let outcome: @Sendable (Job, Int) throws -> Void
        let followUp: (@Sendable (Job) -> Job?)?

        init(followUp: (@Sendable (Job) -> Job?)? = nil, outcome: @escaping @Sendable (Job, Int) throws -> Void = { _, _ in }) {
            self.outcome = outcome
            self.followUp = followUp
        }

        func handle(_ job: Job, context: JobContext) async throws {
            seen.withLock { $0.append((job, context.failedAttempts)) }
            #expect(context.teamID == job.teamID)
            try outcome(job, context.failedAttempts)
            if let next = followUp?(job) { try await context.send(next) }
        }

        var count: Int { seen.withLock { $0.count } }
    }

    static func started(_ visitID: String = UUID().uuidString) -> Event {
        Event(
            id: "evt_\(visitID)", occurredAt: Date(timeIntervalSince1970: 1_800_000_000), teamID: "team_1",
            payload: .visitStarted(
                VisitStarted(
                    visitID: visitID, linkID: "link_1", linkOwnerEmail: "owner@acme.example",
                    document: DocumentInfo(id: "doc_1", name: "Deck.pdf", url: "https://docsend.example/d/1"), account: nil,
                    visitor: VisitorInfo(email: "alice@acme.example", name: nil),
                    analyticsURL: "https://docsend.example/a/1", startedAt: Date(timeIntervalSince1970: 1_800_000_000))))
    }

    static func queue() -> MemoryJobQueue {
        MemoryJobQueue(delays: .init(resync: .milliseconds(50), visitorRefresh: .milliseconds(50)))
    }

    /// Runs a processor of `role` over `queue` while `body` runs, then shuts it down gracefully.
    static func processing(
        _ role: WorkerRole, _ queue: MemoryJobQueue, _ handler: any JobHandler, retry: RetryStrategy = .dontRetry,
        concurrency: Int = 2, admitParking: @escaping JobProcessor.ParkingAdmission = { _, _ in true },
        _ body: () async throws -> Void
    ) async throws {
        let processor = JobProcessor(
            role: role, queue: queue, handler: handler,
            configuration: .init(concurrency: concurrency, prefetch: concurrency * 2, retry: retry),
            classify: { error, teamID in
                (error as? WorkFailure) ?? .retryable(code: "unexpected", "\(error)", teamID: teamID)
            }, admitParking: admitParking, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [processor], logger: logger))
        let task = Task { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("every job has one wire form: encoded, then decoded, it is the same job")
    func roundTrip() throws {
        let jobs: [Job] = [
            .event(Self.started("v1")),
            .visitResync(VisitResyncTick(teamID: "t", visitID: "v", sequence: 2)),
            .leadRequest(LeadRequest(teamID: "t", visitID: "v", visitorEmail: "a@b.example", visitorName: nil, accountName: "B", ownerID: nil)),
            .leadReady(LeadReady(teamID: "t", visitID: "v", personID: "00Q1", personKind: .lead)),
            .linkRefresh(LinkVisitorRefresh(teamID: "t", linkID: "l", token: "tok")),
        ]
        for job in jobs {
            #expect(try JobCoding.decode(name: job.name, body: try JobCoding.encode(job)) == job)
        }
        let error = #expect(throws: WorkFailure.self) { try JobCoding.decode(name: "visit.started", body: Data("{".utf8)) }
        #expect(error?.code == "contract_violation.invalid_json")
        #expect(error?.disposition == .park)
    }

    @Test("public events go to every role bound to them; follow-ups to their role, after their delay")
    func routing() async throws {
        let queue = Self.queue()
        let visits = Recorder()
        let links = Recorder()
        try await Self.processing(.visits, queue, visits) {
            try await Self.processing(.links, queue, links) {
                try await queue.push(.event(Self.started()))
                try await queue.push(.visitResync(VisitResyncTick(teamID: "team_1", visitID: "v", sequence: 1)))
                try await Self.eventually("delivered") { visits.count == 2 && links.count == 1 }
            }
        }
        #expect(WorkerRole.links.consumes(eventType: "visit.started"))
        #expect(!WorkerRole.links.consumes(eventType: "visit.updated"))
        #expect(WorkerRole.visits.consumes(eventType: "visit.updated"))
        #expect(!WorkerRole.leads.consumes(eventType: "visit.started"))
    }

    @Test("a failure that may pass is retried through each delay of the strategy, then parked with the attempts")
    func retriedThenParked() async throws {
        let queue = Self.queue()
        let handler = Recorder(outcome: { _, _ in throw WorkFailure.retryable(code: "salesforce.UNKNOWN_EXCEPTION", "boom") })
        try await Self.processing(.visits, queue, handler, retry: .tiers([.milliseconds(20), .milliseconds(10)])) {
            try await queue.push(.event(Self.started()))
            try await Self.eventually("parked") { queue.parked.count == 1 }
        }
        #expect(handler.seen.withLock { $0.map(\.failedAttempts) } == [0, 1, 2])
        let parked = try #require(queue.parked.first)
        #expect(parked.failures == 3)
        #expect(parked.failureCode == "salesforce.UNKNOWN_EXCEPTION")
        #expect(parked.reason == "retries exhausted after 3 attempts: boom")
        #expect(parked.role == .visits)
    }

    @Test("a permanent failure is parked at once; a skipped one is completed and never parked")
    func parkedAndSkipped() async throws {
        let queue = Self.queue()
        let handler = Recorder(outcome: { job, _ in
            if case .event(let event) = job, case .visitStarted(let visit) = event.payload, visit.visitID == "skip" {
                throw WorkFailure.skipped(code: "team_not_connected", "no connection")
            }
            throw WorkFailure.permanent(code: "salesforce.INVALID_FIELD", "gone")
        })
        try await Self.processing(.visits, queue, handler, retry: .tiers([.milliseconds(10)])) {
            try await queue.push(.event(Self.started("skip")))
            try await queue.push(.event(Self.started("park")))
            try await Self.eventually("settled") { handler.count == 2 && queue.parked.count == 1 }
            try await Self.eventually("nothing left") { queue.ready(.visits) == 0 && queue.counts.unsettled == 0 }
        }
        #expect(queue.parked.map(\.failureCode) == ["salesforce.INVALID_FIELD"])
        #expect(queue.parked.first?.failures == 1)
    }

    @Test("a message that is not a job never reaches a handler: parked with the contract's reason")
    func poisonParked() async throws {
        let queue = Self.queue()
        let handler = Recorder()
        try await Self.processing(.visits, queue, handler) {
            queue.pushRaw(name: "visit.started", body: Data("{not json".utf8), to: .visits)
            queue.pushRaw(name: JobName.visitResync, body: Data("{}".utf8), to: .visits)
            try await queue.push(.event(Self.started()))
            try await Self.eventually("settled") { handler.count == 1 && queue.parked.count == 2 }
        }
        #expect(Set(queue.parked.map(\.failureCode)) == ["contract_violation.invalid_json", "invalid_internal_message"])
    }

    @Test("parking the admission refuses is completed and dropped")
    func parkingRefused() async throws {
        let queue = Self.queue()
        let handler = Recorder(outcome: { _, _ in throw WorkFailure.permanent(code: "x", "y") })
        try await Self.processing(.visits, queue, handler, admitParking: { _, _ in false }) {
            try await queue.push(.event(Self.started()))
            try await Self.eventually("handled") { handler.count == 1 }
            try await Self.eventually("nothing left") { queue.ready(.visits) == 0 && queue.counts.unsettled == 0 }
        }
        #expect(queue.parked.isEmpty)
    }

    @Test("follow-ups a handler sends arrive at their role after their delay")
    func followUps() async throws {
        let queue = Self.queue()
        let leads = Recorder()
        let visits = Recorder(followUp: { job in
            guard case .event = job else { return nil }
            return .leadRequest(LeadRequest(teamID: "team_1", visitID: "v", visitorEmail: "a@b.example", visitorName: nil, accountName: nil, ownerID: nil))
        })
        try await Self.processing(.visits, queue, visits) {
            try await Self.processing(.leads, queue, leads) {
                try await queue.push(.event(Self.started()))
                try await Self.eventually("the lead request") { leads.count == 1 }
            }
        }
        guard case .leadRequest(let request)? = leads.seen.withLock({ $0.first?.job }) else {
            Issue.record("not a lead request")
            return
        }
        #expect(request.visitID == "v")
    }

    @Test("a graceful shutdown lets the jobs in work finish and hands the rest back untouched")
    func drain() async throws {
        let queue = Self.queue()
        final class Slow: JobHandler, Sendable {
            let started = Mutex(0)
            let finished = Mutex(0)
            func handle(_ job: Job, context: JobContext) async throws {
                started.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(300))
                finished.withLock { $0 += 1 }
            }
        }
        let handler = Slow()
        try await Self.processing(.visits, queue, handler, concurrency: 1) {
            for _ in 0..<5 { try await queue.push(.event(Self.started())) }
            try await Self.eventually("one in work") { handler.started.withLock { $0 } == 1 }
        }
        #expect(handler.finished.withLock { $0 } == handler.started.withLock { $0 }, "a job in work was cut short")
        // Beyond the team's share (1 of 1 place), jobs went to the overflow lane: handed back there, as untouched.
        #expect(queue.ready(.visits) + queue.ready(.visits, lane: .overflow) == 5 - handler.finished.withLock { $0 })
        #expect(queue.counts.unsettled == 0)
        #expect(queue.ready(.links) == 5, "visit.started reaches the links role too")
        #expect(queue.parked.isEmpty)
    }
}

import Foundation
import Logging
import Synchronization
import Testing

@testable import Jobs

/// Fairness between teams in one processor: the rule (``TeamShares``) and a processor on the in-memory queue.
@Suite("Team shares")
struct TeamSharesTests {
    @Test("a team's jobs beyond twice its share on the main lane go to the overflow lane; other teams' jobs wait for a place")
    func mainLaneOverflow() {
        var shares = TeamShares<Int>(perTeam: 1, total: 2)
        #expect(shares.offer(1, team: "a", lane: .main) == .waiting)
        #expect(shares.offer(2, team: "a", lane: .main) == .waiting)
        #expect(shares.offer(3, team: "a", lane: .main) == .overflow, "a has twice its share waiting")
        #expect(shares.offer(4, team: "b", lane: .main) == .waiting)
        #expect(shares.next()?.element == 1)
        #expect(shares.next()?.element == 4, "b starts though a came first: a has its share in work")
        #expect(shares.next() == nil, "every place is taken")
        #expect(shares.offer(5, team: "a", lane: .main) == .overflow, "a has its share in work and as many waiting")
        shares.finished(team: "a")
        #expect(shares.next()?.element == 2)
        #expect(shares.offer(6, team: "a", lane: .main) == .waiting, "a has its share in work and none waiting")
        #expect(shares.next() == nil)
        shares.finished(team: "b")
        #expect(shares.next() == nil, "a place is free, but a has its share in work")
        #expect(shares.inWork == 1)
        #expect(shares.inWork(team: "a") == 1)
    }

    @Test("jobs from the overflow lane are never moved again: they wait for their team's next place, in order")
    func overflowLaneWaits() {
        var shares = TeamShares<Int>(perTeam: 1, total: 4)
        #expect(shares.offer(1, team: "a", lane: .overflow) == .waiting)
        #expect(shares.offer(2, team: "a", lane: .overflow) == .waiting)
        #expect(shares.offer(3, team: "b", lane: .main) == .waiting)
        #expect(shares.next()?.element == 1)
        #expect(shares.next()?.element == 3, "a's second waits for a's place; b goes first")
        #expect(shares.next() == nil)
        shares.finished(team: "a")
        #expect(shares.next()?.element == 2)
    }

    @Test("a job without a team (it did not decode) has no share and is never moved")
    func noTeam() {
        var shares = TeamShares<Int>(perTeam: 1, total: 3)
        for n in 1...3 { #expect(shares.offer(n, team: nil, lane: .main) == .waiting) }
        #expect([shares.next(), shares.next(), shares.next()].compactMap { $0?.element } == [1, 2, 3])
        #expect(shares.next() == nil)
        shares.finished(team: nil)
        #expect(shares.inWork == 2)
    }

    @Test("a graceful stop takes back every waiting job; the share is at least one place and at most all of them")
    func removeWaitingAndBounds() {
        var shares = TeamShares<Int>(perTeam: 0, total: 2)
        #expect(shares.perTeam == 1)
        #expect(TeamShares<Int>(perTeam: 9, total: 2).perTeam == 2)
        _ = shares.offer(1, team: "a", lane: .main)
        _ = shares.offer(2, team: "b", lane: .overflow)
        _ = shares.offer(3, team: "b", lane: .overflow)
        #expect(shares.removeWaiting() == [1, 2, 3])
        #expect(shares.next() == nil)
        #expect(shares.offer(4, team: "a", lane: .main) == .waiting, "nothing counted for a after the removal")
    }

    @Test("a waiting job takes the longest retry tier no longer than its org's pause, else the shortest")
    func waitingTier() {
        let tiers = RetryStrategy.tiers([.seconds(600), .seconds(5), .seconds(60)])
        #expect(tiers.delay(forWaiting: .seconds(1)) == .seconds(5))
        #expect(tiers.delay(forWaiting: .seconds(8)) == .seconds(5))
        #expect(tiers.delay(forWaiting: .seconds(120)) == .seconds(60))
        #expect(tiers.delay(forWaiting: .seconds(3600)) == .seconds(600))
        #expect(RetryStrategy.tiers([]).delay(forWaiting: .seconds(1)) == nil)
    }

    @Test("a bad public event several roles receive is parked by the first role consuming it")
    func parkingRole() {
        #expect(WorkerRole.parkingRole(forEventRoutedBy: "visit.started") == .visits)
        #expect(WorkerRole.parkingRole(forEventRoutedBy: "visit.updated") == .visits)
        #expect(WorkerRole.parkingRole(forEventRoutedBy: "link.created") == .links)
        #expect(WorkerRole.parkingRole(forEventRoutedBy: "space_link.created") == .links)
        #expect(WorkerRole.parkingRole(forEventRoutedBy: "lead.request") == nil)
    }

    @Test("a malformed visit.started reaches visits and links and is parked once, by visits; links completes its copy")
    func badEventParkedOnce() async throws {
        let queue = JobProcessingTests.queue()
        let handler = JobProcessingTests.Recorder()
        try await JobProcessingTests.processing(.visits, queue, handler) {
            try await JobProcessingTests.processing(.links, queue, handler) {
                queue.pushRawEvent(routingKey: "visit.started", name: "visit.started", body: Data("{not json".utf8))
                queue.pushRawEvent(routingKey: "visit.started", name: "visit.started", body: Data("{\"id\": 1}".utf8))
                try await JobProcessingTests.eventually("both copies settled") {
                    queue.counts.ready == 0 && queue.counts.unsettled == 0 && queue.parked.count == 2
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(queue.parked.map(\.role) == [.visits, .visits])
        #expect(queue.parked.allSatisfy { $0.failureCode.hasPrefix("contract_violation") }, "\(queue.parked.map(\.failureCode))")
        #expect(handler.count == 0)
        // The fleet's own copies (a replay) are parked by whichever role gets them.
        queue.pushRaw(name: "visit.started", body: Data("{not json".utf8), to: .links)
        try await JobProcessingTests.processing(.links, queue, handler) {
            try await JobProcessingTests.eventually("the links copy parked") { queue.parked.count == 3 }
        }
        #expect(queue.parked.last?.role == .links)
    }

    /// Holds team_a's jobs until opened; every other team's job returns at once.
    final class Gate: JobHandler, Sendable {
        let open = Mutex(false)
        let handled = Mutex<[String: [String]]>([:])

        func handle(_ job: Job, context: JobContext) async throws {
            while job.teamID == "team_a", !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            guard case .event(let event) = job else { return }
            handled.withLock { $0[job.teamID, default: []].append(event.id) }
        }

        func count(_ team: String) -> Int { handled.withLock { $0[team]?.count ?? 0 } }
    }

    static func visit(team: String, _ n: Int) -> Job {
        var event = JobProcessingTests.started("\(team)-\(n)")
        event.teamID = team
        return .event(event)
    }

    @Test("a team's burst holding its share of the places does not hold another team's job; nothing is lost or doubled")
    func burstDoesNotHoldOthers() async throws {
        let queue = JobProcessingTests.queue()
        let gate = Gate()
        try await JobProcessingTests.processing(.visits, queue, gate, concurrency: 4) {
            for n in 0..<40 { try await queue.push(Self.visit(team: "team_a", n)) }
            try await queue.push(Self.visit(team: "team_b", 0))
            try await JobProcessingTests.eventually("b handled while a's jobs hold their places") { gate.count("team_b") == 1 }
            #expect(gate.count("team_a") == 0)
            // a's share (2 places) in work, as many waiting, its overflow prefetch (2) waiting here, the rest in the
            // overflow lane.
            try await JobProcessingTests.eventually("a's burst moved") { queue.ready(.visits, lane: .overflow) == 34 }
            #expect(queue.ready(.visits) == 0, "the main lane keeps flowing")
            gate.open.withLock { $0 = true }
            try await JobProcessingTests.eventually("a's burst handled") { gate.count("team_a") == 40 }
        }
        let a = gate.handled.withLock { $0["team_a"] ?? [] }
        #expect(Set(a).count == 40, "each of a's jobs handled once")
        #expect(queue.parked.isEmpty)
        #expect(queue.counts.unsettled == 0)
    }

    @Test("a graceful stop hands back the overflow lane's waiting jobs untouched")
    func drainHandsBackOverflow() async throws {
        let queue = JobProcessingTests.queue()
        let gate = Gate()
        try await JobProcessingTests.processing(.visits, queue, gate, concurrency: 2) {
            for n in 0..<10 { try await queue.push(Self.visit(team: "team_a", n)) }
            try await JobProcessingTests.eventually("a's burst moved") { queue.ready(.visits, lane: .overflow) == 7 }
            gate.open.withLock { $0 = true }
        }
        let handled = gate.count("team_a")
        #expect(queue.ready(.visits) + queue.ready(.visits, lane: .overflow) == 10 - handled)
        #expect(queue.counts.unsettled == 0)
        #expect(queue.parked.isEmpty)
    }
}

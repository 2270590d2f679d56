import Foundation
import Testing

@testable import SyncCore

/// Plays a visit's events and the re-sync ticks they cause in time order, as the broker and a worker would.
struct VisitTimeline {
    var state = VisitSyncState(visitID: "vis_1")
    var syncs: [(at: Date, values: SyncedVisitValues)] = []
    let policy: VisitTimingPolicy

    init(policy: VisitTimingPolicy = .init()) { self.policy = policy }

    /// Events arrive at the given offsets (seconds from ``Fixture/base``); ticks arrive when due.
    mutating func play(_ events: [(TimeInterval, Event.Payload)], until end: TimeInterval = 100_000) {
        var pendingEvents = events.sorted { $0.0 < $1.0 }
        var ticks: [(due: Date, sequence: Int)] = []
        while true {
            let nextEvent = pendingEvents.first.map { Fixture.at($0.0) }
            let nextTick = ticks.min { $0.due < $1.due }
            if let eventTime = nextEvent, nextTick.map({ eventTime <= $0.due }) ?? true {
                let (_, payload) = pendingEvents.removeFirst()
                if state.apply(payload, policy: policy) == .syncNow {
                    sync(at: eventTime, &ticks)
                }
            } else if let tick = nextTick, tick.due <= Fixture.at(end) {
                ticks.removeAll { $0.sequence == tick.sequence && $0.due == tick.due }
                switch state.tick(tick.sequence, now: tick.due, policy: policy) {
                case .sync: sync(at: tick.due, &ticks)
                case .next(.tick(let sequence, let due)): ticks.append((due, sequence))
                case .next(.finished), .ignore: break
                }
            } else {
                return
            }
        }
    }

    private mutating func sync(at now: Date, _ ticks: inout [(due: Date, sequence: Int)]) {
        let values = state.currentValues
        syncs.append((now, values))
        if case .tick(let sequence, let due) = state.recordSync(values, at: now, policy: policy) {
            ticks.append((due, sequence))
        }
    }
}

@Suite("Visit timing (design §1 Timing)")
struct VisitTimingTests {
    let interval: TimeInterval = 600

    func started(_ offset: TimeInterval = 0) -> Event.Payload {
        .visitStarted(Fixture.visit(startedAt: Fixture.at(offset)))
    }

    /// Updates every minute from `from` to `to` (seconds), percent growing, `ended` on the last.
    func updates(until end: TimeInterval, endedAtEnd: Bool = true) -> [(TimeInterval, Event.Payload)] {
        stride(from: 60, through: end, by: 60).map { t in
            (t, .visitUpdated(Fixture.update(t, percent: min(100, t / 20), ended: endedAtEnd && t == end)))
        }
    }

    @Test("A lost tick is replaced only once it is overdue by more than its grace; the old one is ignored afterwards")
    func lostTickReplaced() {
        var state = VisitSyncState(visitID: "vis_1")
        _ = state.apply(started())
        guard case .tick(let first, let due) = state.recordSync(state.currentValues, at: Fixture.at(0)) else {
            Issue.record("a started visit schedules a tick")
            return
        }
        #expect(due == Fixture.at(interval))
        #expect(state.replaceOverdueTick(now: Fixture.at(interval + 100), grace: 200) == nil, "still within its grace")
        guard case .tick(let second, let next)? = state.replaceOverdueTick(now: Fixture.at(interval + 300), grace: 200) else {
            Issue.record("an overdue tick is replaced")
            return
        }
        #expect(second == first + 1 && state.pendingTick == second)
        #expect(next == Fixture.at(interval + 300 + interval))
        #expect(state.tick(first, now: Fixture.at(interval + 301)) == .ignore, "the lost tick, should it come, counts no more")
        state.finish()
        #expect(state.replaceOverdueTick(now: Fixture.at(10 * interval), grace: 200) == nil, "a finished visit awaits nothing")
    }

    @Test("A visit is synced when it starts, then every interval while active: 2.5 intervals → 4 syncs")
    func longVisit() {
        var timeline = VisitTimeline()
        timeline.play([(0, started())] + updates(until: 1500))
        #expect(timeline.syncs.map { $0.at } == [0, 600, 1200, 1800].map(Fixture.at))
        #expect(timeline.syncs.last?.values == SyncedVisitValues(durationSeconds: 1500, percentViewed: 75))
        #expect(timeline.state.isFinished)
        #expect(timeline.state.syncCount == 4)
    }

    @Test("A visit shorter than the interval is synced exactly twice: at the start and once it is over")
    func shortVisit() {
        var timeline = VisitTimeline()
        timeline.play([(0, started())] + updates(until: 180))
        #expect(timeline.syncs.count == 2)
        #expect(timeline.syncs.last?.values == SyncedVisitValues(durationSeconds: 180, percentViewed: 9))
        #expect(timeline.state.isFinished)
    }

    @Test("A short visit never gets a third sync, even when a late change arrives after its second")
    func shortVisitCap() {
        var timeline = VisitTimeline()
        timeline.play([
            (0, started()),
            (180, .visitUpdated(Fixture.update(180, percent: 10))),
            (700, .visitUpdated(Fixture.update(200, percent: 12, ended: true))),
        ])
        #expect(timeline.syncs.count == 2)
        #expect(timeline.state.isFinished)
    }

    @Test("A visit with no update after its start stops re-syncing once it is over")
    func noUpdates() {
        var timeline = VisitTimeline()
        timeline.play([(0, started())])
        #expect(timeline.syncs.count == 1)
        #expect(timeline.state.isFinished)
        #expect(timeline.state.pendingTick == nil)
    }

    @Test("Re-syncs happen only when duration or percent changed")
    func onlyWhenChanged() {
        var timeline = VisitTimeline()
        // Active (activity within each interval) but the same values from 60 s on, then ended at 1,500 s.
        let same = stride(from: 60.0, through: 1440, by: 60).map { t in
            (t, Event.Payload.visitUpdated(Fixture.update(t, duration: 60, percent: 5)))
        }
        timeline.play(
            [(0, started())] + same + [
                (1500, .visitUpdated(Fixture.update(1500, duration: 60, percent: 5, ended: true)))
            ])
        #expect(timeline.syncs.map { $0.at } == [Fixture.at(0), Fixture.at(600)])
        #expect(timeline.state.isFinished)
    }

    @Test("Duplicates and reordering change nothing: same final Task, never more syncs", arguments: 1...20)
    func duplicatesAndReordering(seed: UInt64) {
        let events: [(TimeInterval, Event.Payload)] = [(0, started())] + updates(until: 1500)
        var inOrder = VisitTimeline()
        inOrder.play(events)

        // Every event delivered twice, each update delayed by up to half an interval (so updates overtake each
        // other), one stale update before the start, and the start itself sometimes late behind its updates.
        var rng = Xoshiro256StarStar(seed: seed)
        var messy: [(TimeInterval, Event.Payload)] = []
        let startDelay = Double.random(in: 0..<120, using: &rng)
        for (offset, payload) in events + events {
            let jitter = Double.random(in: 0..<300, using: &rng)
            messy.append((offset == 0 ? startDelay : min(offset + jitter, 1500), payload))
        }
        messy.append((0, .visitUpdated(Fixture.update(60, percent: 3))))
        var disorderly = VisitTimeline()
        disorderly.play(messy)

        #expect(disorderly.syncs.last?.values == inOrder.syncs.last?.values)
        #expect(disorderly.syncs.count <= inOrder.syncs.count)
        #expect(disorderly.state.latest == inOrder.state.latest)
        #expect(disorderly.state.isFinished)
    }

    @Test("An update before the start is kept; the start then syncs with it")
    func updateBeforeStart() {
        var state = VisitSyncState(visitID: "vis_1")
        #expect(state.apply(.visitUpdated(Fixture.update(120, percent: 40))) == .stored)
        #expect(state.tick(1, now: Fixture.at(130)) == .ignore)
        #expect(state.apply(.visitStarted(Fixture.visit())) == .syncNow)
        #expect(state.currentValues == SyncedVisitValues(durationSeconds: 120, percentViewed: 40))
        #expect(state.apply(.visitStarted(Fixture.visit())) == .ignored)
    }

    @Test("An older update never overwrites a newer one; same instant → the larger values, in any order")
    func olderNeverOverwrites() {
        var state = VisitSyncState(visitID: "vis_1")
        _ = state.apply(Fixture.update(300, percent: 50))
        #expect(state.apply(Fixture.update(200, percent: 80)) == .ignored)
        #expect(state.latest?.percentViewed == 50)
        #expect(state.apply(Fixture.update(300, percent: 50)) == .ignored)
        _ = state.apply(Fixture.update(300, percent: 55))
        #expect(state.apply(Fixture.update(300, percent: 52)) == .ignored)
        #expect(state.latest?.percentViewed == 55)
        #expect(state.apply(Fixture.update(999, percent: 1, id: "other")) == .ignored)
    }

    @Test("A duplicate or stale tick is ignored")
    func staleTick() {
        var state = VisitSyncState(visitID: "vis_1")
        _ = state.apply(Fixture.visit())
        let next = state.recordSync(state.currentValues, at: Fixture.at(0))
        #expect(next == .tick(sequence: 1, dueAt: Fixture.at(600)))
        _ = state.apply(Fixture.update(300, percent: 30))
        #expect(state.tick(7, now: Fixture.at(600)) == .ignore)
        #expect(state.tick(1, now: Fixture.at(600)) == .sync)
        #expect(
            state.recordSync(state.currentValues, at: Fixture.at(600)) == .tick(sequence: 2, dueAt: Fixture.at(1200)))
        #expect(state.tick(1, now: Fixture.at(601)) == .ignore)  // the same tick redelivered
    }

    @Test("A late final update on a finished visit syncs once more, when the visit was long")
    func lateFinalUpdate() {
        var timeline = VisitTimeline()
        timeline.play([(0, started())] + updates(until: 900, endedAtEnd: false))
        #expect(timeline.state.isFinished)  // no activity for an interval after 900 s
        let before = timeline.syncs.count
        timeline.play([(2000, .visitUpdated(Fixture.update(950, percent: 60, ended: true)))])
        #expect(timeline.syncs.count == before + 1)
        #expect(timeline.state.isFinished)
    }

    @Test("A visit that was not synced is finished by the worker: its ticks and updates write nothing")
    func notSyncedVisit() {
        var state = VisitSyncState(visitID: "vis_1")
        #expect(state.apply(Fixture.visit()) == .syncNow)
        state.finish()  // routed to .notSynced
        #expect(state.apply(Fixture.update(900, percent: 90, ended: true)) == .stored)
        #expect(state.tick(1, now: Fixture.at(600)) == .ignore)
        #expect(state.isFinished)
        #expect(state.syncCount == 0)
    }

    @Test("The interval is a parameter: a 2-second tier behaves like the 10-minute one")
    func shortInterval() {
        var timeline = VisitTimeline(policy: VisitTimingPolicy(interval: 2))
        timeline.play([
            (0, started()), (1, .visitUpdated(Fixture.update(1, percent: 10))),
            (3, .visitUpdated(Fixture.update(3, percent: 20))),
            (5, .visitUpdated(Fixture.update(5, percent: 30, ended: true))),
        ])
        #expect(timeline.syncs.count == 4)
    }

    @Test("The state round-trips through JSON, for the store")
    func codable() throws {
        var state = VisitSyncState(visitID: "vis_1")
        _ = state.apply(Fixture.visit(account: Fixture.linkedAcme))
        _ = state.apply(Fixture.update(42, percent: 12.5))
        _ = state.recordSync(state.currentValues, at: Fixture.at(50))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(VisitSyncState.self, from: encoder.encode(state))
        #expect(decoded == state)
    }
}

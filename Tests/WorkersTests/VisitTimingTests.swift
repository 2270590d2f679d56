import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Design §1 "Timing", with the re-sync interval scaled to seconds, on each `WorldSetup`. One test at a time: the counts depend on
/// ticks arriving about when they are due.
@Suite("Visit timing through a queue", .serialized, .timeLimit(.minutes(10)))
struct VisitTimingTests {
    static let interval: TimeInterval = 3

    private func at(_ intervals: Double, from start: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: start + .milliseconds(Int(intervals * Self.interval * 1000)), clock: .continuous)
    }

    @Test("a visit lasting 2.5 intervals is synced 4 times, always on one Task", arguments: WorldSetup.available)
    func longVisit(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, resyncInterval: .seconds(Int(Self.interval))) { harness in
            let visitID = Events.id("visit")
            try await harness.runWorkers([.visits]) {
                let clock = ContinuousClock.now
                let start = Date()
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", at: start))
                for (offset, ended) in [(0.5, false), (1.5, false), (2.5, true)] {
                    try await at(offset, from: clock)
                    try await harness.publish(
                        Events.updated(
                            visitID, duration: Int(offset * Self.interval), percent: offset * 30,
                            at: start.addingTimeInterval(offset * Self.interval), ended: ended))
                }
                try await eventually(timeout: .seconds(20), "the visit finished") {
                    try await harness.visitState(visitID)?.sync.isFinished == true
                }
                try await at(4.5, from: clock)  // a stray tick would have come by now
            }
            #expect(await harness.visitWrites(visitID) == 4)
            let tasks = await harness.tasks("DocSend_Visit_Id__c", visitID)
            #expect(tasks.count == 1)
            #expect(tasks.first?["Description"]?.stringValue?.contains("Percent viewed: 75%") == true)
            #expect(try await harness.visitState(visitID)?.sync.syncCount == 4)
        }
    }

    @Test("a visit lasting 0.3 intervals is synced exactly twice", arguments: WorldSetup.available)
    func shortVisit(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, resyncInterval: .seconds(Int(Self.interval))) { harness in
            let visitID = Events.id("visit")
            try await harness.runWorkers([.visits]) {
                let clock = ContinuousClock.now
                let start = Date()
                try await harness.publish(Events.started(visitID, email: "alice@acme.example", at: start))
                try await at(0.3, from: clock)
                try await harness.publish(
                    Events.updated(visitID, duration: 1, percent: 20, at: start.addingTimeInterval(0.9), ended: true))
                try await eventually(timeout: .seconds(20), "the visit finished") {
                    try await harness.visitState(visitID)?.sync.isFinished == true
                }
                try await at(3, from: clock)
            }
            #expect(await harness.visitWrites(visitID) == 2)
            #expect(await harness.tasks("DocSend_Visit_Id__c", visitID).count == 1)
        }
    }

    @Test("a visit with no update after its start stops re-syncing once it is over", arguments: WorldSetup.available)
    func silentVisit(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, resyncInterval: .seconds(Int(Self.interval))) { harness in
            let visitID = Events.id("visit")
            try await harness.runWorkers([.visits]) {
                let clock = ContinuousClock.now
                try await harness.publish(Events.started(visitID, email: "alice@acme.example"))
                try await eventually(timeout: .seconds(20), "the visit finished") {
                    try await harness.visitState(visitID)?.sync.isFinished == true
                }
                try await at(2.5, from: clock)
            }
            #expect(await harness.visitWrites(visitID) == 1)
            let state = try #require(try await harness.visitState(visitID))
            #expect(state.sync.pendingTick == nil)
            #expect(try await harness.pendingResyncTicks() == 0)
        }
    }
}

import Foundation
import Testing

@testable import SyncCore

@Suite("Activity simulator")
struct ActivitySimulatorTests {
    static func stream(
        seed: UInt64 = 7, count: Int = 3_000, _ configure: (inout ActivitySimulator.Configuration) -> Void = { _ in }
    )
        -> [Event]
    {
        var configuration = ActivitySimulator.Configuration()
        configure(&configuration)
        var simulator = ActivitySimulator(seed: seed, configuration: configuration)
        return simulator.events(count: count)
    }

    static func visitsStarted(_ events: [Event]) -> [VisitStarted] {
        events.compactMap { if case .visitStarted(let visit) = $0.payload { visit } else { nil } }
    }

    static func updates(_ events: [Event]) -> [VisitUpdated] {
        events.compactMap { if case .visitUpdated(let update) = $0.payload { update } else { nil } }
    }

    @Test func theSameSeedGivesTheSameStream() {
        let first = Self.stream(seed: 42, count: 500)
        #expect(first == Self.stream(seed: 42, count: 500))
        #expect(first.jsonLines() == Self.stream(seed: 42, count: 500).jsonLines())
        #expect(first != Self.stream(seed: 43, count: 500))
        // A prefix of a stream is the shorter stream.
        #expect(Array(first.prefix(100)) == Self.stream(seed: 42, count: 100))
        #expect(Array(ActivitySimulator(seed: 42).prefix(100)) == Array(first.prefix(100)))
    }

    @Test func theGeneratorIsPinned() {
        // Pins the PRNG: a change here silently changes every seeded stream.
        var generator = Xoshiro256StarStar(seed: 0)
        #expect([generator.next(), generator.next()] == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A])
        var bounded = Xoshiro256StarStar(seed: 1)
        #expect((0..<1_000).allSatisfy { _ in (0..<7).contains(bounded.below(7)) })
    }

    @Test func everyEventDecodesBackToItself() throws {
        let events = Self.stream(count: 2_000)
        for event in events {
            #expect(try Event.decode(from: event.encoded()) == event)
        }
        let lines = events.jsonLines().split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == events.count)
        #expect(try Event.decode(from: Data(lines[17])) == events[17])
    }

    @Test func timestampsStartAtTheStartAndFollowTheRate() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let events = Self.stream(count: 4_000) {
            $0.start = start
            $0.eventsPerSecond = 5
        }
        #expect(events.allSatisfy { $0.occurredAt > start })
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.occurredAt <= $1.occurredAt })
        let elapsed = events[events.count - 1].occurredAt.timeIntervalSince(start)
        let rate = Double(events.count) / elapsed
        #expect(rate > 4.5 && rate < 5.5, "rate \(rate)")
    }

    @Test func visitsStartBeforeTheirUpdatesWhichRiseAndEndOnce() {
        let events = Self.stream(count: 5_000)
        var started: [String: VisitStarted] = [:]
        var last: [String: VisitUpdated] = [:]
        var endedVisits = 0
        for event in events {
            switch event.payload {
            case .visitStarted(let visit):
                #expect(started[visit.visitID] == nil, "a visit starts once")
                #expect(visit.startedAt <= event.occurredAt)
                started[visit.visitID] = visit
            case .visitUpdated(let update):
                guard let visit = started[update.visitID] else {
                    Issue.record("update before start for \(update.visitID)")
                    continue
                }
                #expect(visit.startedAt < update.lastActivityAt)
                #expect(update.lastActivityAt <= event.occurredAt)
                #expect(Double(update.durationSeconds) <= update.lastActivityAt.timeIntervalSince(visit.startedAt) + 1)
                if let previous = last[update.visitID] {
                    #expect(!previous.ended, "nothing after ended")
                    #expect(previous.percentViewed <= update.percentViewed)
                    #expect(previous.durationSeconds <= update.durationSeconds)
                    #expect(previous.lastActivityAt < update.lastActivityAt)
                }
                if update.ended { endedVisits += 1 }
                last[update.visitID] = update
            default:
                break
            }
        }
        #expect(started.count > 500)
        #expect(endedVisits > started.count / 2, "most visits end")
        // Durations run from seconds to the better part of the 40-minute maximum.
        let durations = last.values.filter(\.ended).map(\.durationSeconds)
        #expect(durations.contains { $0 < 30 })
        #expect(durations.contains { $0 > 20 * 60 })
        #expect(durations.allSatisfy { $0 <= 40 * 60 })
        // Some visits just stop: no ended update ever, although the stream went on long after.
        let abandoned = started.keys.filter { last[$0]?.ended != true }
        #expect(abandoned.count > started.count / 20)
    }

    @Test func activityGapsLongerThanTenMinutesHappen() {
        let events = Self.stream(count: 5_000) { $0.activityGapRatio = 0.2 }
        var previous: [String: Date] = [:]
        var longGaps = 0
        for event in events {
            if case .visitUpdated(let update) = event.payload {
                if let before = previous[update.visitID], update.lastActivityAt.timeIntervalSince(before) > 600 {
                    longGaps += 1
                }
                previous[update.visitID] = update.lastActivityAt
            }
        }
        #expect(longGaps > 10)
    }

    @Test func producesEveryTypeWithLinksVisitedAfterCreation() {
        let events = Self.stream(count: 5_000)
        let counts = Dictionary(grouping: events, by: \.type).mapValues(\.count)
        #expect(Set(counts.keys) == Set(EventType.allCases))
        let created = Set(
            events.compactMap { event -> String? in
                switch event.payload {
                case .linkCreated(let link): link.linkID
                case .spaceLinkCreated(let link): link.spaceLinkID
                default: nil
                }
            })
        let visitedLinks = Set(Self.visitsStarted(events).map(\.linkID))
        #expect(!created.intersection(visitedLinks).isEmpty, "visits happen on newly created links")
        #expect(Set(events.map(\.teamID)) == ["team_demo", "team_northwind"])
    }

    @Test func visitorsMatchTheConfiguredOrgInRoughlyTheConfiguredShares() {
        let events = Self.stream(count: 6_000) {
            $0.knownVisitorRatio = 0.5
            $0.missingEmailRatio = 0.2
            $0.repeatVisitorRatio = 0
            $0.emailCaseVariationRatio = 0
        }
        let teams = [ActivitySimulator.Team.demo, .northwind]
        let known = Set(teams.flatMap { $0.knownContactEmails + $0.knownLeadEmails })
        let visitors = Self.visitsStarted(events).map(\.visitor)
        let missing = Double(visitors.filter { $0.email == nil }.count) / Double(visitors.count)
        let matched = Double(visitors.filter { $0.email.map(known.contains) == true }.count) / Double(visitors.count)
        #expect(abs(missing - 0.2) < 0.04, "missing \(missing)")
        #expect(abs(matched - 0.8 * 0.5) < 0.05, "matched \(matched)")
        #expect(visitors.contains { $0.email.map { !known.contains($0) } == true }, "unmatched visitors too")
    }

    @Test func visitorsRepeatAndKnownEmailsSometimesChangeCase() {
        let visitors = Self.visitsStarted(Self.stream(count: 4_000) { $0.emailCaseVariationRatio = 0.5 })
            .compactMap(\.visitor.email)
        #expect(Set(visitors).count < visitors.count / 2, "repeat visitors")
        #expect(visitors.contains { $0 != $0.lowercased() })
    }

    @Test func accountsAreLinkedUnlinkedOrAbsent() {
        let accounts = Self.visitsStarted(Self.stream(count: 4_000)).map(\.account)
        let absent = Double(accounts.filter { $0 == nil }.count) / Double(accounts.count)
        #expect(absent > 0.05 && absent < 0.45, "absent \(absent)")
        #expect(accounts.contains { $0?.salesforceAccountID != nil })
        #expect(accounts.contains { $0 != nil && $0?.salesforceAccountID == nil })
        #expect(accounts.contains { $0?.name == "Wayne Enterprises" })
    }

    @Test func duplicatesRepeatTheSameEventWhenAsked() {
        let clean = Self.stream(count: 3_000)
        #expect(Set(clean.map(\.id)).count == clean.count, "no duplicates by default")

        let events = Self.stream(count: 3_000) { $0.duplicateRatio = 0.1 }
        var seen: [String: Event] = [:]
        var duplicates = 0
        for event in events {
            if let first = seen[event.id] {
                #expect(first == event, "a duplicate is the same event")
                duplicates += 1
            }
            seen[event.id] = event
        }
        let share = Double(duplicates) / Double(events.count)
        #expect(share > 0.06 && share < 0.13, "duplicates \(share)")
    }

    @Test func lateDeliveriesLetUpdatesPrecedeTheirStart() {
        let events = Self.stream(count: 3_000) { $0.lateDeliveryRatio = 0.2 }
        #expect(Set(events.map(\.id)).count == events.count, "late, not duplicated")
        var started: Set<String> = []
        var updatesBeforeStart = 0
        for event in events {
            switch event.payload {
            case .visitStarted(let visit): started.insert(visit.visitID)
            case .visitUpdated(let update) where !started.contains(update.visitID): updatesBeforeStart += 1
            default: break
            }
        }
        #expect(updatesBeforeStart > 0)
        #expect(zip(events, events.dropFirst()).contains { $0.occurredAt > $1.occurredAt })
        // Even when every event is held back, the stream keeps flowing.
        #expect(Self.stream(count: 500) { $0.lateDeliveryRatio = 1 }.count == 500)
    }

    @Test func usesTheCallersOrg() {
        let team = ActivitySimulator.Team(
            id: "team_sandbox", memberEmails: ["me@sandbox.example"], knownContactEmails: ["only@contact.example"],
            knownLeadEmails: [], accounts: [.init(name: "Solo", salesforceAccountID: "001000000000001AAA")])
        let events = Self.stream(count: 1_000) {
            $0.teams = [team]
            $0.knownVisitorRatio = 1
            $0.missingEmailRatio = 0
            $0.noAccountRatio = 0
            $0.emailCaseVariationRatio = 0
        }
        #expect(events.allSatisfy { $0.teamID == "team_sandbox" })
        let visits = Self.visitsStarted(events)
        #expect(visits.allSatisfy { $0.visitor.email == "only@contact.example" })
        #expect(
            visits.allSatisfy {
                $0.account?.salesforceAccountID == "001000000000001AAA" && $0.linkOwnerEmail == "me@sandbox.example"
            })
    }

    @Test func keepsUpWithLoadTestRates() {
        // Thousands of concurrent visits: the schedule must not scan them all per event.
        let events = Self.stream(count: 20_000) { $0.eventsPerSecond = 2_000 }
        let elapsed = events[events.count - 1].occurredAt.timeIntervalSince(events[0].occurredAt)
        #expect(abs(Double(events.count) / elapsed - 2_000) < 100)
    }

    @Test func aStreamWithoutTeamsIsEmpty() {
        #expect(Self.stream(count: 10) { $0.teams = [] }.isEmpty)
    }
}

import Foundation
import Testing

@testable import Store

/// More of ``SyncStoreConformanceTests``: the workers' retention passes and `team forget`'s erasure primitives.
extension SyncStoreConformanceTests {
    static let day: Duration = .seconds(86_400)

    // MARK: Retention

    @Test(arguments: Backend.available)
    func pruneStatesRemovesOnlyStatesOfTheKindsUnchangedForTheAge(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            for (kind, id) in [(SyncObjectKind.visit, "v_old"), (.visit, "v_new"), (.link, "l_old"), (.spaceLink, "s_old")] {
                _ = try await store.saveState(teamID: "team_1", kind: kind, objectID: id, state: json("{}"), expectedVersion: nil)
            }
            _ = try await store.saveState(teamID: "team_2", kind: .visit, objectID: "v_old", state: json("{}"), expectedVersion: nil)
            try await store.execute(sql: backend.backdateStatesSQL(objectIDs: ["v_old", "l_old", "s_old"], days: 40))

            #expect(try await store.pruneStates(kinds: [.visit], unchangedFor: Self.day * 30, limit: 100) == 2)
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v_old") == nil)
            #expect(try await store.loadState(teamID: "team_2", kind: .visit, objectID: "v_old") == nil)
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v_new") != nil, "a fresh visit stays")
            #expect(try await store.loadState(teamID: "team_1", kind: .link, objectID: "l_old") != nil, "another kind stays")
            // Older than 40 days is not older than 50.
            #expect(try await store.pruneStates(kinds: [.link, .spaceLink], unchangedFor: Self.day * 50, limit: 100) == 0)
            #expect(try await store.pruneStates(kinds: [.link, .spaceLink], unchangedFor: Self.day * 30, limit: 100) == 2)
            #expect(try await store.pruneStates(kinds: [], unchangedFor: .zero, limit: 100) == 0)
        }
    }

    @Test(arguments: Backend.available)
    func pruneStatesMeasuresTheAgeFromTheLastSave(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            _ = try await store.saveState(teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: nil)
            try await store.execute(sql: backend.backdateStatesSQL(objectIDs: ["v1"], days: 40))
            // A worker saves it again (a late update): it is no longer old.
            #expect(try await store.saveState(teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"n":2}"#), expectedVersion: 1) == 2)
            #expect(try await store.pruneStates(kinds: [.visit], unchangedFor: Self.day * 30, limit: 100) == 0)
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1")?.version == 2)
        }
    }

    @Test(arguments: Backend.available)
    func prunePassesAreBounded(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let ids = (0..<7).map { "v\($0)" }
            for id in ids {
                _ = try await store.saveState(teamID: "team_1", kind: .visit, objectID: id, state: json("{}"), expectedVersion: nil)
                _ = try await store.recordLedgerEntry(teamID: "team_1", kind: .visit, objectID: id, salesforceType: "Task", salesforceID: "00T\(id)")
            }
            try await store.execute(sql: backend.backdateStatesSQL(objectIDs: ids, days: 40))
            try await store.execute(sql: backend.backdateLedgerSQL(objectIDs: ids, days: 100))
            var states: [Int] = []
            var ledger: [Int] = []
            for _ in 0..<4 {
                states.append(try await store.pruneStates(kinds: [.visit], unchangedFor: Self.day * 30, limit: 3))
                ledger.append(try await store.pruneLedger(olderThan: Self.day * 90, limit: 3))
            }
            #expect(states == [3, 3, 1, 0])
            #expect(ledger == [3, 3, 1, 0])
            #expect(try await store.recentLedgerEntries(teamID: "team_1", limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func pruneLedgerKeepsRecentEntries(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            for id in ["old", "new"] {
                _ = try await store.recordLedgerEntry(teamID: "team_1", kind: .lead, objectID: id, salesforceType: "Lead", salesforceID: "00Q\(id)")
            }
            try await store.execute(sql: backend.backdateLedgerSQL(objectIDs: ["old"], days: 100))
            #expect(try await store.pruneLedger(olderThan: Self.day * 90, limit: 10) == 1)
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .lead, objectID: "old") == nil)
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .lead, objectID: "new")?.salesforceID == "00Qnew")
        }
    }

    @Test(arguments: Backend.available)
    func pruneClaimsRemovesOnlyLongExpiredLeases(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.claim(key: "lead:team_1:gone@x.example", owner: "dead", ttl: .seconds(60)))
            #expect(try await store.claim(key: "lead:team_1:held@x.example", owner: "alive", ttl: .seconds(60)))
            try await store.execute(sql: backend.expireClaimSQL(key: "lead:team_1:gone@x.example", hoursAgo: 2))
            #expect(try await store.pruneClaims(expiredFor: .seconds(3_600), limit: 10) == 1)
            // The held lease is still held: another owner cannot take it.
            #expect(try await store.claim(key: "lead:team_1:held@x.example", owner: "other", ttl: .seconds(60)) == false)
            // The pruned one is free (as it was once expired).
            #expect(try await store.claim(key: "lead:team_1:gone@x.example", owner: "other", ttl: .seconds(60)))
        }
    }

    @Test(arguments: Backend.available)
    func concurrentPrunePassesRemoveEachRowOnce(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(4, on: database) { stores in
            let old = (0..<60).map { "old\($0)" }
            for id in old + ["fresh"] {
                _ = try await stores[0].saveState(teamID: "team_1", kind: .visit, objectID: id, state: json("{}"), expectedVersion: nil)
            }
            try await stores[0].execute(sql: backend.backdateStatesSQL(objectIDs: old, days: 40))
            // Four processes prune at once, five rows a pass, until their passes find nothing.
            let removed = try await withThrowingTaskGroup(of: Int.self) { group in
                for store in stores {
                    group.addTask {
                        var total = 0
                        while true {
                            let pass = try await store.pruneStates(kinds: [.visit], unchangedFor: Self.day * 30, limit: 5)
                            #expect(pass <= 5)
                            if pass == 0 { return total }
                            total += pass
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(removed == old.count, "every old row counted once")
            #expect(try await stores[1].loadState(teamID: "team_1", kind: .visit, objectID: "fresh") != nil)
            #expect(try await stores[2].loadState(teamID: "team_1", kind: .visit, objectID: "old0") == nil)
        }
    }

    // MARK: Erasure

    @Test(arguments: Backend.available)
    func statesContainingFindsTextIgnoringCaseWithinTheTeamPageByPage(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let ada = #"{"visitor":{"email":"Ada@Example.com"}}"#
            for id in ["v1", "v2", "v3"] {
                _ = try await store.saveState(teamID: "team_1", kind: .visit, objectID: id, state: json(ada), expectedVersion: nil)
            }
            _ = try await store.saveState(
                teamID: "team_1", kind: .link, objectID: "l1",
                state: json(#"{"visitors":[{"email":"bob@example.com"},{"email":"ada@example.com"}]}"#), expectedVersion: nil)
            _ = try await store.saveState(
                teamID: "team_1", kind: .visit, objectID: "v4", state: json(#"{"visitor":{"email":"adam@example.com"}}"#),
                expectedVersion: nil)
            _ = try await store.saveState(teamID: "team_2", kind: .visit, objectID: "v1", state: json(ada), expectedVersion: nil)
            // `_` and `%` are literal: "ada_example" must not match "ada@example".
            #expect(try await store.statesContaining(teamID: "team_1", text: "ada_example.com", after: nil, limit: 10).isEmpty)

            var found: [StateKey] = []
            var cursor: StateKey?
            while true {
                let page = try await store.statesContaining(teamID: "team_1", text: "ADA@example.COM", after: cursor, limit: 2)
                #expect(page.count <= 2)
                found += page.map(\.key)
                guard let last = page.last else { break }
                cursor = last.key
            }
            #expect(
                Set(found) == [
                    StateKey(kind: .visit, objectID: "v1"), StateKey(kind: .visit, objectID: "v2"),
                    StateKey(kind: .visit, objectID: "v3"), StateKey(kind: .link, objectID: "l1"),
                ])
            #expect(found.count == 4, "no state twice")
            let one = try #require(try await store.statesContaining(teamID: "team_1", text: "bob@example.com", after: nil, limit: 10).first)
            #expect(one.key == StateKey(kind: .link, objectID: "l1"))
            #expect(one.record.version == 1)
            #expect(String(decoding: one.record.state, as: UTF8.self).contains("bob@example.com"))
        }
    }

    @Test(arguments: Backend.available)
    func deleteStateOnlyAtTheExpectedVersion(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            _ = try await store.saveState(teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: nil)
            _ = try await store.saveState(teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: 1)
            #expect(try await store.deleteState(teamID: "team_1", kind: .visit, objectID: "v1", expectedVersion: 1) == false)
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1")?.version == 2)
            #expect(try await store.deleteState(teamID: "team_1", kind: .visit, objectID: "v1", expectedVersion: 2))
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1") == nil)
            #expect(try await store.deleteState(teamID: "team_1", kind: .visit, objectID: "v1", expectedVersion: 2) == false)
            // A worker starts the object afresh afterwards.
            #expect(try await store.saveState(teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: nil) == 1)
        }
    }

    @Test(arguments: Backend.available)
    func deleteLedgerEntryAndClaim(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            _ = try await store.recordLedgerEntry(teamID: "team_1", kind: .lead, objectID: "ada@example.com", salesforceType: "Lead", salesforceID: "00Q1")
            _ = try await store.recordLedgerEntry(teamID: "team_2", kind: .lead, objectID: "ada@example.com", salesforceType: "Lead", salesforceID: "00Q2")
            #expect(try await store.deleteLedgerEntry(teamID: "team_1", kind: .lead, objectID: "ada@example.com"))
            #expect(try await store.deleteLedgerEntry(teamID: "team_1", kind: .lead, objectID: "ada@example.com") == false)
            #expect(try await store.ledgerEntry(teamID: "team_2", kind: .lead, objectID: "ada@example.com")?.salesforceID == "00Q2")

            #expect(try await store.claim(key: "lead:team_1:ada@example.com", owner: "w1", ttl: .seconds(60)))
            #expect(try await store.deleteClaim(key: "lead:team_1:ada@example.com"))
            #expect(try await store.deleteClaim(key: "lead:team_1:ada@example.com") == false)
            #expect(try await store.claim(key: "lead:team_1:ada@example.com", owner: "w2", ttl: .seconds(60)))
        }
    }
}

extension Backend {
    /// Moves the last save of the `sync_state` rows with these object ids (any team, any kind) `days` back.
    func backdateStatesSQL(objectIDs: [String], days: Int) -> String {
        let list = objectIDs.map { "'\($0)'" }.joined(separator: ", ")
        switch self {
        case .sqlite: return "UPDATE sync_state SET updated_at = updated_at - \(days) * 86400000 WHERE object_id IN (\(list))"
        case .postgres: return "UPDATE sync_state SET updated_at = updated_at - interval '\(days) days' WHERE object_id IN (\(list))"
        }
    }

    /// Moves the ledger entries with these object ids `days` back.
    func backdateLedgerSQL(objectIDs: [String], days: Int) -> String {
        let list = objectIDs.map { "'\($0)'" }.joined(separator: ", ")
        switch self {
        case .sqlite: return "UPDATE ledger SET created_at = created_at - \(days) * 86400000 WHERE object_id IN (\(list))"
        case .postgres: return "UPDATE ledger SET created_at = created_at - interval '\(days) days' WHERE object_id IN (\(list))"
        }
    }

    /// Makes a lease one that expired `hoursAgo` hours ago.
    func expireClaimSQL(key: String, hoursAgo: Int) -> String {
        switch self {
        case .sqlite:
            return "UPDATE claims SET expires_at = CAST(strftime('%s','now') AS INTEGER) * 1000 - \(hoursAgo) * 3600000 WHERE key = '\(key)'"
        case .postgres: return "UPDATE claims SET expires_at = now() - interval '\(hoursAgo) hours' WHERE key = '\(key)'"
        }
    }
}

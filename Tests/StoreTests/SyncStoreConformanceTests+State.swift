import Foundation
import Testing
@testable import Store

/// More of ``SyncStoreConformanceTests``: sync state, ledger, claims.
extension SyncStoreConformanceTests {
    // MARK: Sync state

    @Test(arguments: Backend.available)
    func stateOptimisticConcurrency(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1") == nil)
            #expect(
                try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"syncs":1}"#), expectedVersion: nil
                ) == 1
            )
            let first = try #require(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1"))
            #expect(first.version == 1)
            #expect(try canonical(first.state) == canonical(#"{"syncs":1}"#))
            #expect(abs(first.updatedAt.timeIntervalSinceNow) < 60)

            #expect(
                try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"syncs":2}"#), expectedVersion: 1
                ) == 2
            )
            // A worker that loaded version 1 lost the race.
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"syncs":9}"#), expectedVersion: 1
                )
            }
            #expect(stale?.code == .versionConflict)
            // A version from the future conflicts too.
            let future = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: 3
                )
            }
            #expect(future?.code == .versionConflict)
            // Two workers both seeing "no state yet": the second insert conflicts too.
            let duplicate = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: nil
                )
            }
            #expect(duplicate?.code == .versionConflict)
            // Updating state that was never saved conflicts: nothing is at that version.
            let missing = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v2", state: json("{}"), expectedVersion: 1
                )
            }
            #expect(missing?.code == .versionConflict)
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v2") == nil)

            let last = try #require(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1"))
            #expect(last.version == 2)
            #expect(try canonical(last.state) == canonical(#"{"syncs":2}"#))
        }
    }

    @Test(arguments: Backend.available)
    func stateIsKeyedByTeamKindAndObject(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            // The same id under every kind, and under another team: independent objects, each from version 1.
            let kinds: [SyncObjectKind] = [.visit, .link, .spaceLink, .lead]
            for (index, kind) in kinds.enumerated() {
                #expect(
                    try await store.saveState(
                        teamID: "team_1", kind: kind, objectID: "obj_1", state: json(#"{"kind":\#(index)}"#),
                        expectedVersion: nil
                    ) == 1
                )
            }
            #expect(
                try await store.saveState(
                    teamID: "team_2", kind: .link, objectID: "obj_1", state: json(#"{"team":2}"#), expectedVersion: nil
                ) == 1
            )
            // Saving one kind's state moves only its version.
            #expect(
                try await store.saveState(
                    teamID: "team_1", kind: .link, objectID: "obj_1",
                    state: json(#"{"visitors":["ada@example.com"],"not_synced_reason":null}"#), expectedVersion: 1
                ) == 2
            )
            for (index, kind) in kinds.enumerated() where kind != .link {
                let record = try #require(try await store.loadState(teamID: "team_1", kind: kind, objectID: "obj_1"))
                #expect(record.version == 1, "\(kind)")
                #expect(try canonical(record.state) == canonical(#"{"kind":\#(index)}"#), "\(kind)")
            }
            let link = try #require(try await store.loadState(teamID: "team_1", kind: .link, objectID: "obj_1"))
            #expect(link.version == 2)
            #expect(
                try canonical(link.state) == canonical(#"{"not_synced_reason":null,"visitors":["ada@example.com"]}"#)
            )
            let other = try #require(try await store.loadState(teamID: "team_2", kind: .link, objectID: "obj_1"))
            #expect(other.version == 1)
            #expect(try canonical(other.state) == canonical(#"{"team":2}"#))
            #expect(try await store.loadState(teamID: "team_2", kind: .visit, objectID: "obj_1") == nil)
            let unknown = SyncObjectKind(rawValue: "other")
            #expect(try await store.loadState(teamID: "team_1", kind: unknown, objectID: "obj_1") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func stateRejectsInvalidJSON(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let error = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .spaceLink, objectID: "sl_1", state: json("{not json"), expectedVersion: nil
                )
            }
            #expect(error?.code == .invalidData)
            #expect(try await store.loadState(teamID: "team_1", kind: .spaceLink, objectID: "sl_1") == nil)
            // The table checks it too, for writers that bypass the store.
            let raw = await #expect(throws: StoreError.self) {
                try await store.execute(
                    sql: backend.insertStateSQL(
                        teamID: "team_1", kind: "space_link", objectID: "sl_1", state: "{not json"
                    )
                )
            }
            #expect(raw?.code == .backend)
            #expect(try await store.loadState(teamID: "team_1", kind: .spaceLink, objectID: "sl_1") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentStateSavesHaveOneWinner(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            _ = try await stores[0].saveState(
                teamID: "team_1", kind: .link, objectID: "l1", state: json("{}"), expectedVersion: nil
            )
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        do {
                            _ = try await store.saveState(
                                teamID: "team_1", kind: .link, objectID: "l1", state: json(#"{"by":\#(index)}"#),
                                expectedVersion: 1
                            )
                            return true
                        } catch let error as StoreError where error.code == .versionConflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await stores[2].loadState(teamID: "team_1", kind: .link, objectID: "l1")?.version == 2)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentFirstStateSavesHaveOneWinner(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        do {
                            _ = try await store.saveState(
                                teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"by":\#(index)}"#),
                                expectedVersion: nil
                            )
                            return true
                        } catch let error as StoreError where error.code == .versionConflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await stores[1].loadState(teamID: "team_1", kind: .visit, objectID: "v1")?.version == 1)
        }
    }

    // MARK: Ledger

    @Test(arguments: Backend.available)
    func ledgerInsertIfAbsent(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1") == nil)
            let first = try await store.recordLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T1"
            )
            #expect(first.salesforceID == "00T1")
            #expect(first.salesforceType == "Task")
            let second = try await store.recordLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T2"
            )
            #expect(second.salesforceID == "00T1")
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1")?.salesforceID == "00T1")
            // Kind and team are part of the key.
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .link, objectID: "v1") == nil)
            #expect(try await store.ledgerEntry(teamID: "team_2", kind: .visit, objectID: "v1") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentLedgerRecordsAgreeOnOneEntry(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        try await store.recordLedgerEntry(
                            teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task",
                            salesforceID: "00T\(index)"
                        ).salesforceID
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(ids.count == 50)
            #expect(Set(ids).count == 1)
            let stored = try await stores[3].ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1")
            #expect(stored?.salesforceID == ids.first)
        }
    }

    // MARK: Claims

    @Test(arguments: Backend.available)
    func claimsAreLeases(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let key = "lead:team_1:ada@example.com"
            #expect(try await store.claim(key: key, owner: "w1", ttl: .seconds(30)))
            #expect(try await store.claim(key: key, owner: "w2", ttl: .seconds(30)) == false)
            #expect(try await store.claim(key: key, owner: "w1", ttl: .seconds(30)), "the owner renews")
            #expect(try await store.release(key: key, owner: "w2") == false)
            #expect(try await store.release(key: key, owner: "w1"))
            #expect(try await store.claim(key: key, owner: "w2", ttl: .seconds(30)))
            #expect(try await store.claim(key: "refresh:org_1", owner: "w1", ttl: .seconds(30)), "keys are independent")
        }
    }

    @Test(arguments: Backend.available)
    func anExpiredLeaseIsTakenOver(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            // A lease long enough to still hold at the next call on a loaded machine, short enough to wait out.
            #expect(try await store.claim(key: "refresh:org_1", owner: "crashed", ttl: .seconds(2)))
            #expect(try await store.claim(key: "refresh:org_1", owner: "w2", ttl: .seconds(30)) == false)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await store.claim(key: "refresh:org_1", owner: "w2", ttl: .seconds(30)))
            #expect(try await store.release(key: "refresh:org_1", owner: "crashed") == false)
            #expect(try await store.claim(key: "refresh:org_1", owner: "w3", ttl: .seconds(30)) == false)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentClaimsHaveOneWinner(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            let winners = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        try await store.claim(key: "lead:team_1:bob@example.com", owner: "w\(index)", ttl: .seconds(30))
                            ? "w\(index)" : nil
                    }
                }
                return try await group.reduce(into: [String]()) { if let won = $1 { $0.append(won) } }
            }
            #expect(winners.count == 1)
        }
    }
}

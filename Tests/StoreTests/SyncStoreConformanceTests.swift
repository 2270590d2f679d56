import Foundation
import Testing

@testable import Store

/// One behaviour, both backends: every test runs against SQLite and, when available, PostgreSQL.
@Suite("SyncStore conformance")
struct SyncStoreConformanceTests {
    // MARK: Team settings

    @Test(arguments: Backend.available)
    func teamSettingsRoundTripAndReplace(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.teamSettings(teamID: "team_1") == nil)
            try await store.saveTeamSettings(teamID: "team_1", json: json(#"{"sync_visits": true, "n": 1}"#))
            let first = try #require(try await store.teamSettings(teamID: "team_1"))
            #expect(try canonical(first.json) == canonical(#"{"n":1,"sync_visits":true}"#))
            #expect(abs(first.updatedAt.timeIntervalSinceNow) < 60)

            try await store.saveTeamSettings(teamID: "team_1", json: json(#"{"sync_visits": false}"#))
            let second = try #require(try await store.teamSettings(teamID: "team_1"))
            #expect(try canonical(second.json) == canonical(#"{"sync_visits":false}"#))
            #expect(try await store.teamSettings(teamID: "team_2") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func teamSettingsRejectInvalidJSON(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let error = await #expect(throws: StoreError.self) {
                try await store.saveTeamSettings(teamID: "team_1", json: json("{not json"))
            }
            #expect(error?.code == .invalidData)
            #expect(try await store.teamSettings(teamID: "team_1") == nil)
        }
    }

    // MARK: Salesforce connections

    static func connection(_ teamID: String, token: String = "refresh-1") -> SalesforceConnection {
        SalesforceConnection(
            teamID: teamID,
            instanceURL: "https://acme.my.salesforce.com",
            loginURL: "https://login.salesforce.com",
            clientID: "3MVG9-client",
            refreshToken: token
        )
    }

    @Test(arguments: Backend.available)
    func connectionRoundTripAndReauthentication(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.connection(teamID: "team_1") == nil)
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "none") == false)

            try await store.saveConnection(Self.connection("team_1"))
            var loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.instanceURL == "https://acme.my.salesforce.com")
            #expect(loaded.loginURL == "https://login.salesforce.com")
            #expect(loaded.clientID == "3MVG9-client")
            #expect(loaded.refreshToken == "refresh-1")
            #expect(!loaded.needsReauthentication)
            #expect(loaded.reauthenticationReason == nil)
            #expect(!loaded.description.contains("refresh-1"))

            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_grant: expired"))
            loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.needsReauthentication)
            #expect(loaded.reauthenticationReason == "invalid_grant: expired")

            // A new OAuth login replaces the connection and clears the flag.
            try await store.saveConnection(Self.connection("team_1", token: "refresh-2"))
            loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.refreshToken == "refresh-2")
            #expect(!loaded.needsReauthentication)
            #expect(loaded.reauthenticationReason == nil)
        }
    }

    @Test(arguments: Backend.available)
    func rotateRefreshTokenIsCompareAndSwap(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "a", new: "b") == false)
            try await store.saveConnection(Self.connection("team_1", token: "a"))
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "a", new: "b"))
            // A worker still holding "a" must not clobber "b".
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "a", new: "c") == false)
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == "b")
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "b", new: "c"))
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == "c")
        }
    }

    @Test(arguments: Backend.available)
    func concurrentRotationsHaveOneWinner(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            try await stores[0].saveConnection(Self.connection("team_1", token: "old"))
            let winners = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        try await store.rotateRefreshToken(teamID: "team_1", old: "old", new: "new-\(index)")
                            ? "new-\(index)" : nil
                    }
                }
                return try await group.reduce(into: [String]()) { if let won = $1 { $0.append(won) } }
            }
            #expect(winners.count == 1)
            #expect(try await stores[1].connection(teamID: "team_1")?.refreshToken == winners.first)
        }
    }

    @Test(arguments: Backend.available)
    func clientCredentialsConnectionRoundTrip(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            var connection = Self.connection("team_1")
            connection.refreshToken = nil
            #expect(connection.description.contains("refreshToken: nil"))
            try await store.saveConnection(connection)
            var loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.refreshToken == nil)
            #expect(loaded.instanceURL == "https://acme.my.salesforce.com")
            #expect(loaded.loginURL == "https://login.salesforce.com")
            #expect(loaded.clientID == "3MVG9-client")
            #expect(!loaded.needsReauthentication)
            #expect(try await store.storedRefreshTokenBytes(teamID: "team_1") == nil)

            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_client"))
            loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.needsReauthentication)
            #expect(loaded.reauthenticationReason == "invalid_client")
            #expect(loaded.refreshToken == nil)

            // Switching flows either way replaces the token columns.
            try await store.saveConnection(Self.connection("team_1", token: "refresh-1"))
            loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.refreshToken == "refresh-1")
            #expect(!loaded.description.contains("refresh-1"))
            #expect(loaded.description.contains("refreshToken: <redacted>"))
            try await store.saveConnection(connection)
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == nil)
            #expect(try await store.connection(teamID: "team_1") != nil)
        }
    }

    @Test(arguments: Backend.available)
    func rotatingAConnectionWithoutRefreshTokenReturnsFalse(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            var connection = Self.connection("team_1")
            connection.refreshToken = nil
            try await store.saveConnection(connection)
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "", new: "b") == false)
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "refresh-1", new: "b") == false)
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == nil)
            #expect(try await store.storedRefreshTokenBytes(teamID: "team_1") == nil)
        }
    }

    // MARK: Encryption

    @Test(arguments: Backend.available)
    func refreshTokenIsEncryptedAtRest(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let token = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrHZnM-refresh-token"
            try await store.saveConnection(Self.connection("team_1", token: token))
            let stored = try #require(try await store.storedRefreshTokenBytes(teamID: "team_1"))
            #expect(!stored.isEmpty)
            #expect(!Data(stored).contains(Data(token.utf8)))
            #expect(!Data(stored).contains(Data("5Aep861TSESvWeug".utf8)))
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == token)
        }
    }

    @Test(arguments: Backend.available)
    func wrongKeyIsAClearError(_ backend: Backend) async throws {
        try await withStore(backend) { store, database async throws in
            try await store.saveConnection(Self.connection("team_1", token: "secret-token"))
            let other = try await database.open(key: .random())
            let error = await #expect(throws: StoreError.self) {
                _ = try await other.connection(teamID: "team_1")
            }
            try await other.close()
            #expect(error?.code == .decryptionFailed)
            #expect(error?.message.contains("encryption key") == true)
            #expect(error.map { "\($0)" }?.contains("secret-token") == false)
        }
    }

    // MARK: Account links

    @Test(arguments: Backend.available)
    func accountLinks(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "acc_1") == nil)
            try await store.saveAccountLink(teamID: "team_1", docSendAccountID: "acc_1", salesforceAccountID: "001A")
            try await store.saveAccountLink(teamID: "team_2", docSendAccountID: "acc_1", salesforceAccountID: "001B")
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "acc_1") == "001A")
            #expect(try await store.accountLink(teamID: "team_2", docSendAccountID: "acc_1") == "001B")
            try await store.saveAccountLink(teamID: "team_1", docSendAccountID: "acc_1", salesforceAccountID: "001C")
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "acc_1") == "001C")
        }
    }

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

    // MARK: Migrations

    @Test(arguments: Backend.available)
    func migrationsAreRecordedAndIdempotent(_ backend: Backend) async throws {
        try await withStore(backend) { store, database async throws in
            let all = migrations.map(\.version)
            #expect(try await store.migrationVersions() == all)
            try await store.saveAccountLink(teamID: "t", docSendAccountID: "a", salesforceAccountID: "001")
            let again = try await database.open()
            #expect(try await again.migrationVersions() == all)
            #expect(try await again.accountLink(teamID: "t", docSendAccountID: "a") == "001")
            try await again.close()
        }
    }

    @Test(arguments: Backend.available)
    func concurrentOpensOfANewDatabaseMigrateOnce(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let stores = try await withThrowingTaskGroup(of: (any SyncStore).self) { group in
            for _ in 0..<5 { group.addTask { try await database.open() } }
            return try await group.reduce(into: [any SyncStore]()) { $0.append($1) }
        }
        for store in stores {
            #expect(try await store.migrationVersions() == migrations.map(\.version))
            try await store.close()
        }
    }

    @Test(arguments: Backend.available)
    func migrationTwoKeepsVisitsAndConnections(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }

        // A database at schema version 1, with a visit's state and a connection in it.
        try await database.withStore(migratingThrough: 1) { old async throws in
            #expect(try await old.migrationVersions() == [1])
            try await old.execute(sql: backend.insertVersion1VisitSQL)
            let cipher = TokenCipher(key: database.key)
            try await old.execute(
                sql: backend.insertOldConnectionSQL(
                    teamID: "team_1", sealed: try cipher.seal("refresh-v1", teamID: "team_1"),
                    digest: cipher.digest("refresh-v1"), reason: "invalid_grant: expired"))
        }

        // Opening it normally applies migration 2 and keeps both rows.
        try await database.withStore { store async throws in
            #expect(try await store.migrationVersions() == migrations.map(\.version))
            let visit = try #require(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1"))
            #expect(visit.version == 3)
            #expect(try canonical(visit.state) == canonical(#"{"syncs":3}"#))
            #expect(abs(visit.updatedAt.timeIntervalSince(Backend.version1VisitUpdatedAt)) < 0.001)
            // It was a visit: no other kind has it.
            #expect(try await store.loadState(teamID: "team_1", kind: .link, objectID: "v1") == nil)
            // The version carries on.
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: 2
                )
            }
            #expect(stale?.code == .versionConflict)
            #expect(
                try await store.saveState(
                    teamID: "team_1", kind: .visit, objectID: "v1", state: json(#"{"syncs":4}"#), expectedVersion: 3
                ) == 4
            )
            // The old table is gone.
            await #expect(throws: StoreError.self) { try await store.execute(sql: "DELETE FROM visits") }

            let connection = try #require(try await store.connection(teamID: "team_1"))
            #expect(connection.instanceURL == "https://acme.my.salesforce.com")
            #expect(connection.clientID == "3MVG9-client")
            #expect(connection.session == nil)
            #expect(connection.refreshToken == "refresh-v1")
            #expect(connection.needsReauthentication)
            #expect(connection.reauthenticationReason == "invalid_grant: expired")
            // The digest came along: compare-and-swap still works on the migrated row.
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "other", new: "x") == false)
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "refresh-v1", new: "refresh-v2"))
            #expect(try await store.connection(teamID: "team_1")?.refreshToken == "refresh-v2")
            // The token columns are nullable now, but only together.
            var clientCredentials = Self.connection("team_2")
            clientCredentials.refreshToken = nil
            try await store.saveConnection(clientCredentials)
            #expect(try await store.connection(teamID: "team_2")?.refreshToken == nil)
            let halfToken = await #expect(throws: StoreError.self) {
                try await store.execute(sql: backend.insertConnectionWithDigestOnlySQL)
            }
            #expect(halfToken?.code == .backend)
            #expect(try await store.connection(teamID: "team_3") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func migrationThreeAddsAnEmptySessionToExistingConnections(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await database.withStore(migratingThrough: 2) { old async throws in
            #expect(try await old.migrationVersions() == [1, 2])
            let cipher = TokenCipher(key: database.key)
            try await old.execute(
                sql: backend.insertOldConnectionSQL(
                    teamID: "team_1", sealed: try cipher.seal("refresh-v2", teamID: "team_1"),
                    digest: cipher.digest("refresh-v2"), reason: "x"))
        }

        try await database.withStore { store async throws in
            #expect(try await store.migrationVersions() == migrations.map(\.version))
            let connection = try #require(try await store.connection(teamID: "team_1"))
            #expect(connection.session == nil)
            #expect(connection.refreshToken == "refresh-v2")
            // The migrated row takes a session, compared on its refresh token's digest.
            let session = SalesforceSession(accessToken: "00D!access", instanceURL: "https://acme.my.salesforce.com")
            #expect(try await store.saveSession(teamID: "team_1", session, refreshedWith: "refresh-v2", rotatedTo: "refresh-v3"))
            let after = try #require(try await store.connection(teamID: "team_1"))
            #expect(after.session?.accessToken == "00D!access")
            #expect(after.refreshToken == "refresh-v3")
        }
    }

    @Test(arguments: Backend.available)
    func migrationFourDropsProcessedEventsAndKeepsTheRest(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        // A database at schema version 3, whose processed_events table holds a row, next to a lease and a link.
        try await database.withStore(migratingThrough: 3) { old async throws in
            #expect(try await old.migrationVersions() == [1, 2, 3])
            try await old.execute(sql: backend.insertProcessedEventSQL)
            try await old.saveAccountLink(teamID: "team_1", docSendAccountID: "acc_1", salesforceAccountID: "001A")
            #expect(try await old.claim(key: "lead:team_1:ada@example.com", owner: "w1", ttl: .seconds(600)))
        }

        try await database.withStore { store async throws in
            #expect(try await store.migrationVersions() == migrations.map(\.version))
            // The table is gone, with its row.
            let gone = await #expect(throws: StoreError.self) {
                try await store.execute(sql: backend.insertProcessedEventSQL)
            }
            #expect(gone?.code == .backend)
            // Everything else is still there.
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "acc_1") == "001A")
            #expect(try await store.claim(key: "lead:team_1:ada@example.com", owner: "w2", ttl: .seconds(30)) == false)
            #expect(try await store.release(key: "lead:team_1:ada@example.com", owner: "w1"))
        }
    }

    // MARK: The shared Salesforce session

    static let session = SalesforceSession(accessToken: "00Dxx!AQ-access-1", instanceURL: "https://acme.my.salesforce.com")

    @Test(arguments: Backend.available)
    func sessionRoundTripWithoutRotation(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: nil) == false)
            try await store.saveConnection(Self.connection("team_1", token: "a"))
            #expect(try await store.connection(teamID: "team_1")?.session == nil)

            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: nil))
            let loaded = try #require(try await store.connection(teamID: "team_1"))
            let session = try #require(loaded.session)
            #expect(session.accessToken == Self.session.accessToken)
            #expect(session.instanceURL == Self.session.instanceURL)
            #expect(abs((session.updatedAt ?? .distantPast).timeIntervalSinceNow) < 60)
            #expect(loaded.refreshToken == "a")
            #expect(!loaded.description.contains("access-1"))
            #expect(!session.description.contains("access-1"))

            // Sealed at rest, and not as the refresh token is (another associated data).
            let stored = try #require(try await store.storedAccessTokenBytes(teamID: "team_1"))
            #expect(!Data(stored).contains(Data("access-1".utf8)))
            #expect(throws: StoreError.self) { _ = try TokenCipher(key: .random()).open(stored, teamID: "team_1", kind: .access) }

            // A refresh with a refresh token that is no longer stored changes nothing.
            let newer = SalesforceSession(accessToken: "00Dxx!AQ-access-2", instanceURL: "https://acme.my.salesforce.com")
            #expect(try await store.saveSession(teamID: "team_1", newer, refreshedWith: "z", rotatedTo: nil) == false)
            #expect(try await store.connection(teamID: "team_1")?.session?.accessToken == Self.session.accessToken)
            #expect(try await store.saveSession(teamID: "team_1", newer, refreshedWith: "a", rotatedTo: nil))
            #expect(try await store.connection(teamID: "team_1")?.session?.accessToken == newer.accessToken)
        }
    }

    @Test(arguments: Backend.available)
    func sessionAndRotatedRefreshTokenAreStoredTogether(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            try await store.saveConnection(Self.connection("team_1", token: "a"))
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: "b"))
            var loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.refreshToken == "b")
            #expect(loaded.session?.accessToken == Self.session.accessToken)
            // The old token's holder loses, and stores neither half.
            let late = SalesforceSession(accessToken: "late", instanceURL: "https://other.my.salesforce.com")
            #expect(try await store.saveSession(teamID: "team_1", late, refreshedWith: "a", rotatedTo: "c") == false)
            loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.refreshToken == "b")
            #expect(loaded.session?.accessToken == Self.session.accessToken)
            // The digest moved with the token: the compare-and-swaps go on from "b".
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "b", new: "d"))
            #expect(try await store.connection(teamID: "team_1")?.session?.accessToken == Self.session.accessToken)
        }
    }

    @Test(arguments: Backend.available)
    func aNewLoginForgetsTheSession(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            try await store.saveConnection(Self.connection("team_1", token: "a"))
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: nil))
            try await store.saveConnection(Self.connection("team_1", token: "fresh"))
            #expect(try await store.connection(teamID: "team_1")?.session == nil)
            // A connection saved with a session keeps it.
            var connection = Self.connection("team_1", token: "fresh")
            connection.session = Self.session
            try await store.saveConnection(connection)
            #expect(try await store.connection(teamID: "team_1")?.session?.accessToken == Self.session.accessToken)
        }
    }

    @Test(arguments: Backend.available)
    func clientCredentialsSession(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            var connection = Self.connection("team_1")
            connection.refreshToken = nil
            try await store.saveConnection(connection)
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: nil) == false)
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: nil, rotatedTo: nil))
            let loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.session?.accessToken == Self.session.accessToken)
            #expect(loaded.refreshToken == nil)
            #expect(try await store.storedRefreshTokenBytes(teamID: "team_1") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func flaggingOnlyWhileTheRefusedTokenIsStored(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "r", refreshToken: "a") == false)
            try await store.saveConnection(Self.connection("team_1", token: "a"))
            #expect(try await store.saveSession(teamID: "team_1", Self.session, refreshedWith: "a", rotatedTo: "b"))
            // "a" was rotated away: its refusal flags nothing.
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_grant", refreshToken: "a") == false)
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_grant", refreshToken: nil) == false)
            #expect(try await store.connection(teamID: "team_1")?.needsReauthentication == false)
            // "b" is the stored one: its refusal stands.
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_grant: b", refreshToken: "b"))
            let loaded = try #require(try await store.connection(teamID: "team_1"))
            #expect(loaded.needsReauthentication)
            #expect(loaded.reauthenticationReason == "invalid_grant: b")

            // A client-credentials connection matches `nil`.
            var connection = Self.connection("team_2")
            connection.refreshToken = nil
            try await store.saveConnection(connection)
            #expect(try await store.markNeedsReauthentication(teamID: "team_2", reason: "r", refreshToken: "a") == false)
            #expect(try await store.markNeedsReauthentication(teamID: "team_2", reason: "invalid_client", refreshToken: nil))
            #expect(try await store.connection(teamID: "team_2")?.needsReauthentication == true)
        }
    }

    @Test(arguments: Backend.available)
    func racingSessionSavesWithOneRefreshTokenHaveOneWinner(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(5, on: database) { stores async throws in
            try await stores[0].saveConnection(Self.connection("team_1", token: "old"))
            let winners = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        let session = SalesforceSession(accessToken: "access-\(index)", instanceURL: "https://i\(index).example")
                        return try await store.saveSession(
                            teamID: "team_1", session, refreshedWith: "old", rotatedTo: "new-\(index)") ? index : nil
                    }
                }
                return try await group.reduce(into: [Int]()) { if let won = $1 { $0.append(won) } }
            }
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            let loaded = try #require(try await stores[1].connection(teamID: "team_1"))
            #expect(loaded.refreshToken == "new-\(winner)")
            #expect(loaded.session?.accessToken == "access-\(winner)")
            #expect(loaded.session?.instanceURL == "https://i\(winner).example")
        }
    }

    // MARK: Time limit

    @Test func aCallPastTheTimeLimitThrowsTimedOut() async throws {
        // A SQLite write waits (busy timeout 10 s) for another connection's write lock; the limit answers first.
        let database = try TestDatabase(.sqlite)
        defer { database.remove() }
        let locker = try await database.open()
        let limited = TimeLimitedStore(try await database.open(), timeout: .milliseconds(300))
        do {
            try await locker.execute(sql: "BEGIN IMMEDIATE")
            let error = await #expect(throws: StoreError.self) {
                try await limited.saveTeamSettings(teamID: "team_1", json: json("{}"))
            }
            #expect(error?.code == .timedOut)
            #expect(error?.message.contains("saving team settings") == true)
            try await locker.execute(sql: "ROLLBACK")
            // Calls that answer in time go through.
            try await limited.saveTeamSettings(teamID: "team_2", json: json("{}"))
            #expect(try await limited.teamSettings(teamID: "team_2") != nil)
        } catch {
            try? await locker.close()
            try? await limited.close()
            throw error
        }
        try await locker.close()
        try await limited.close()
    }

    @Test func openStoreLimitsEveryCall() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("docsend-open-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await openStore(
            url: "sqlite://" + directory.appendingPathComponent("sync.db").path, encryptionKey: .random(),
            timeout: .seconds(2), logger: TestDatabase.logger)
        let limited = try #require(store as? TimeLimitedStore)
        #expect(limited.timeout == .seconds(2))
        #expect(limited.base is SQLiteStore)
        try await store.close()
    }

    // MARK: Lifecycle

    @Test(arguments: Backend.available)
    func separateInstancesShareTheDatabase(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await withStores(2, on: database) { stores async throws in
            try await stores[0].saveTeamSettings(teamID: "team_1", json: json(#"{"a":1}"#))
            let shared = try #require(try await stores[1].teamSettings(teamID: "team_1"))
            #expect(try canonical(shared.json) == canonical(#"{"a":1}"#))
            #expect(try await stores[1].claim(key: "lead:team_1:ada@example.com", owner: "w1", ttl: .seconds(30)))
            #expect(try await stores[0].claim(key: "lead:team_1:ada@example.com", owner: "w0", ttl: .seconds(30)) == false)
        }
    }

    @Test func aClosedSQLiteStoreSaysSo() async throws {
        let database = try TestDatabase(.sqlite)
        defer { database.remove() }
        let store = try await database.open()
        try await store.close()
        let error = await #expect(throws: StoreError.self) { _ = try await store.teamSettings(teamID: "team_1") }
        #expect(error?.code == .closed)
    }
}

import Foundation
import Testing
@testable import Store

/// More of ``SyncStoreConformanceTests``: migrations, time limit, lifecycle.
extension SyncStoreConformanceTests {
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
    func migrationSixRecordsTheConnectingUser(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        // A connection stored at schema version 5, before the connecting user was recorded.
        try await database.withStore(migratingThrough: 5) { old async throws in
            let cipher = TokenCipher(key: database.key)
            try await old.execute(
                sql: backend.insertOldConnectionSQL(
                    teamID: "team_1", sealed: try cipher.seal("refresh-v5", teamID: "team_1"),
                    digest: cipher.digest("refresh-v5"), reason: "none"))
        }
        try await database.withStore { store async throws in
            let migrated = try #require(try await store.connection(teamID: "team_1"))
            #expect(migrated.refreshToken == "refresh-v5")
            #expect(migrated.connectedUserID == nil, "unknown until the next login")
            // A new login records it; the next one replaces it.
            var connection = Self.connection("team_1")
            connection.connectedUserID = "005000000000ADMIN"
            try await store.saveConnection(connection)
            #expect(try await store.connection(teamID: "team_1")?.connectedUserID == "005000000000ADMIN")
            connection.connectedUserID = "005000000000OTHER"
            try await store.saveConnection(connection)
            #expect(try await store.connection(teamID: "team_1")?.connectedUserID == "005000000000OTHER")
            // Token rotation and a refused refresh keep it.
            #expect(try await store.rotateRefreshToken(teamID: "team_1", old: "refresh-1", new: "refresh-2"))
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "invalid_grant"))
            #expect(try await store.connection(teamID: "team_1")?.connectedUserID == "005000000000OTHER")
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

    // MARK: Time limit

    @Test func aCallPastTheTimeLimitThrowsTimedOut() async throws {
        // A SQLite write waits (busy timeout 10 s) for another connection's write lock; the limit answers first.
        let database = try TestDatabase(.sqlite)
        defer { database.remove() }
        let locker = try await database.open()
        // Long enough for a call to answer on a loaded machine; far below the busy timeout the locked write would wait.
        let limited = TimeLimitedStore(try await database.open(), timeout: .seconds(2))
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

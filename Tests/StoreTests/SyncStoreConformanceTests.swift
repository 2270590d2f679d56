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
}

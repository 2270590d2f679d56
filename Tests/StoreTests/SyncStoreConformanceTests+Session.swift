import Foundation
import Testing
@testable import Store

/// More of ``SyncStoreConformanceTests``: the shared Salesforce session.
extension SyncStoreConformanceTests {
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
}

import Foundation
import Testing
@testable import Store

/// More of ``SyncStoreConformanceTests``: the list of teams whose connection needs a new login (`docsend-sync status`
/// and the `docsend_sync_teams_needing_login` gauge).
extension SyncStoreConformanceTests {
    @Test(arguments: Backend.available)
    func teamsNeedingLoginListsTheFlaggedConnectionsOnly(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.teamsNeedingLogin() == [])

            try await store.saveConnection(Self.connection("team_b"))
            try await store.saveConnection(Self.connection("team_a"))
            var clientCredentials = Self.connection("team_c")
            clientCredentials.refreshToken = nil
            try await store.saveConnection(clientCredentials)
            #expect(try await store.teamsNeedingLogin() == [])

            #expect(try await store.markNeedsReauthentication(teamID: "team_c", reason: "invalid_client", refreshToken: nil))
            #expect(try await store.markNeedsReauthentication(teamID: "team_b", reason: "invalid_grant: expired"))
            let flagged = try await store.teamsNeedingLogin()
            #expect(flagged.map(\.teamID) == ["team_b", "team_c"])
            #expect(flagged.map(\.reason) == ["invalid_grant: expired", "invalid_client"])
            for team in flagged { #expect(abs(team.since.timeIntervalSinceNow) < 60, "\(team)") }

            // A new login clears the flag, and the team leaves the list.
            try await store.saveConnection(Self.connection("team_b", token: "refresh-2"))
            #expect(try await store.teamsNeedingLogin().map(\.teamID) == ["team_c"])
        }
    }

    @Test(arguments: Backend.available)
    func teamsNeedingLoginDecryptsNothing(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await database.withStore { store in
            try await store.saveConnection(Self.connection("team_1"))
            #expect(try await store.markNeedsReauthentication(teamID: "team_1", reason: "revoked"))
        }
        // Another key cannot open the sealed tokens, yet the list answers (through the time limit as well).
        let other = try await database.open(key: .random())
        do {
            await #expect(throws: StoreError.self) { _ = try await other.connection(teamID: "team_1") }
            let limited = TimeLimitedStore(other, timeout: .seconds(30))
            let flagged = try await limited.teamsNeedingLogin()
            #expect(flagged.map(\.teamID) == ["team_1"])
            #expect(flagged.first?.reason == "revoked")
        } catch {
            try? await other.close()
            throw error
        }
        try await other.close()
    }
}

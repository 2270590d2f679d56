import Foundation
import Testing

@testable import Store

/// More of ``SyncStoreConformanceTests``: what the admin service keeps (schema version 5).
extension SyncStoreConformanceTests {
    @Test(arguments: Backend.available)
    func deleteConnectionRemovesOnlyThatTeamsConnection(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.deleteConnection(teamID: "team_1") == false)
            try await store.saveConnection(Self.connection("team_1"))
            try await store.saveConnection(Self.connection("team_2"))
            try await store.saveTeamSettings(teamID: "team_1", json: json(#"{"sync_visits": false}"#))
            #expect(try await store.deleteConnection(teamID: "team_1"))
            #expect(try await store.connection(teamID: "team_1") == nil)
            #expect(try await store.connection(teamID: "team_2") != nil)
            #expect(try await store.teamSettings(teamID: "team_1") != nil)
            #expect(try await store.deleteConnection(teamID: "team_1") == false)
        }
    }

    @Test(arguments: Backend.available)
    func clearOrgStateRemovesTheTeamsOrgSpecificRowsOnly(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            for team in ["team_1", "team_2"] {
                try await store.saveConnection(Self.connection(team, token: "r-\(team)"))
                #expect(
                    try await store.saveSession(
                        teamID: team, SalesforceSession(accessToken: "a-\(team)", instanceURL: "https://i"),
                        refreshedWith: "r-\(team)", rotatedTo: nil))
                _ = try await store.recordLedgerEntry(
                    teamID: team, kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T1")
                _ = try await store.recordLedgerEntry(
                    teamID: team, kind: .lead, objectID: "a@b.c", salesforceType: "Lead", salesforceID: "00Q1")
                try await store.saveAccountLink(teamID: team, docSendAccountID: "acct", salesforceAccountID: "001A")
                _ = try await store.saveState(
                    teamID: team, kind: .visit, objectID: "v1", state: json("{}"), expectedVersion: nil)
                try await store.saveTeamSettings(teamID: team, json: json(#"{"sync_visits": false}"#))
            }
            let cleared = try await store.clearOrgState(teamID: "team_1")
            #expect(cleared == ClearedOrgState(ledgerEntries: 2, accountLinks: 1, syncStates: 1, session: true))
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1") == nil)
            #expect(try await store.accountLinks(teamID: "team_1") == [])
            #expect(try await store.loadState(teamID: "team_1", kind: .visit, objectID: "v1") == nil)
            let connection = try #require(try await store.connection(teamID: "team_1"))
            #expect(connection.session == nil)
            #expect(connection.refreshToken == "r-team_1")
            #expect(try await store.teamSettings(teamID: "team_1") != nil)
            // The other team keeps everything.
            #expect(try await store.ledgerEntry(teamID: "team_2", kind: .visit, objectID: "v1") != nil)
            #expect(try await store.accountLinks(teamID: "team_2").count == 1)
            #expect(try await store.connection(teamID: "team_2")?.session != nil)
            // Nothing left to clear.
            #expect(
                try await store.clearOrgState(teamID: "team_1")
                    == ClearedOrgState(ledgerEntries: 0, accountLinks: 0, syncStates: 0, session: false))
        }
    }

    @Test(arguments: Backend.available)
    func accountLinksListAndDelete(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.accountLinks(teamID: "team_1") == [])
            try await store.saveAccountLink(teamID: "team_1", docSendAccountID: "b", salesforceAccountID: "001B")
            try await store.saveAccountLink(teamID: "team_1", docSendAccountID: "a", salesforceAccountID: "001A")
            try await store.saveAccountLink(teamID: "team_2", docSendAccountID: "c", salesforceAccountID: "001C")
            let links = try await store.accountLinks(teamID: "team_1")
            #expect(links.map(\.docSendAccountID) == ["a", "b"])
            #expect(links.map(\.salesforceAccountID) == ["001A", "001B"])
            #expect(try await store.deleteAccountLink(teamID: "team_1", docSendAccountID: "a"))
            #expect(try await store.deleteAccountLink(teamID: "team_1", docSendAccountID: "a") == false)
            #expect(try await store.deleteAccountLink(teamID: "team_1", docSendAccountID: "c") == false)
            #expect(try await store.accountLinks(teamID: "team_1").map(\.docSendAccountID) == ["b"])
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "a") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func recentLedgerEntriesAreTheTeamsNewestFirst(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            for index in 1...5 {
                _ = try await store.recordLedgerEntry(
                    teamID: "team_1", kind: .visit, objectID: "v\(index)", salesforceType: "Task",
                    salesforceID: "00T\(index)")
                try await Task.sleep(for: .milliseconds(5))
            }
            _ = try await store.recordLedgerEntry(
                teamID: "team_2", kind: .visit, objectID: "v9", salesforceType: "Task", salesforceID: "00T9")
            let recent = try await store.recentLedgerEntries(teamID: "team_1", limit: 3)
            #expect(recent.map(\.objectID) == ["v5", "v4", "v3"])
            #expect(recent.allSatisfy { $0.teamID == "team_1" && $0.salesforceType == "Task" })
            #expect(try await store.recentLedgerEntries(teamID: "team_1", limit: 100).count == 5)
            #expect(try await store.recentLedgerEntries(teamID: "team_3", limit: 100) == [])
        }
    }

    @Test(arguments: Backend.available)
    func auditEntriesRoundTripNewestFirstPerTeam(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.auditEntries(teamID: "team_1", limit: 10) == [])
            try await store.recordAudit(
                AuditEntry(teamID: "team_1", actor: "api:team_1", action: "settings.update", details: json(#"{"a":1}"#)))
            try await store.recordAudit(
                AuditEntry(teamID: "team_1", actor: "session:s1", action: "connection.disconnect", details: json("{}")))
            try await store.recordAudit(
                AuditEntry(teamID: "team_2", actor: "api:team_2", action: "settings.update", details: json("{}")))
            let entries = try await store.auditEntries(teamID: "team_1", limit: 10)
            #expect(entries.map(\.action) == ["connection.disconnect", "settings.update"])
            #expect(entries.map(\.actor) == ["session:s1", "api:team_1"])
            #expect(try canonical(entries[1].details) == canonical(#"{"a":1}"#))
            #expect(entries.allSatisfy { $0.id != nil && abs(($0.at ?? .distantPast).timeIntervalSinceNow) < 60 })
            #expect(try #require(entries[0].id) > (try #require(entries[1].id)))
            #expect(try await store.auditEntries(teamID: "team_1", limit: 1).map(\.action) == ["connection.disconnect"])
            let error = await #expect(throws: StoreError.self) {
                try await store.recordAudit(AuditEntry(teamID: "t", actor: "a", action: "x", details: json("{no")))
            }
            #expect(error?.code == .invalidData)
        }
    }

    @Test(arguments: Backend.available)
    func oauthFlowsAreSingleUseAndSealed(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 600).rounded())
        let flow = OAuthFlow(
            id: "state-1", teamID: "team_1", sessionID: "s1", kind: "authorize", secret: "verifier-secret",
            expiresAt: expires)
        #expect(!flow.description.contains("verifier-secret"))
        try await withStores(3, on: database) { stores async throws in
            #expect(try await stores[0].takeOAuthFlow(id: "state-1") == nil)
            try await stores[0].saveOAuthFlow(flow)
            // Racing takes from separate connections: exactly one gets it.
            let taken = try await withThrowingTaskGroup(of: OAuthFlow?.self) { group in
                for index in 0..<9 {
                    let store = stores[index % stores.count]
                    group.addTask { try await store.takeOAuthFlow(id: "state-1") }
                }
                return try await group.reduce(into: [OAuthFlow]()) { if let got = $1 { $0.append(got) } }
            }
            #expect(taken.count == 1)
            let got = try #require(taken.first)
            #expect(got.teamID == "team_1" && got.sessionID == "s1" && got.kind == "authorize")
            #expect(got.secret == "verifier-secret")
            #expect(abs(got.expiresAt.timeIntervalSince(expires)) < 0.01)
            #expect(try await stores[1].takeOAuthFlow(id: "state-1") == nil)
            // An expired step is still returned once (the caller says "expired" rather than "unknown").
            var old = flow
            old.id = "state-2"
            old.expiresAt = Date().addingTimeInterval(-60)
            try await stores[0].saveOAuthFlow(old)
            #expect(try await stores[2].takeOAuthFlow(id: "state-2")?.expiresAt ?? .distantFuture < Date())
        }
        // Another key finds nothing (the id is stored as a digest keyed by the store key, the secret sealed with it),
        // and takes nothing away from the right key.
        let other = try await database.open(key: .random())
        do {
            try await database.withStore { store in try await store.saveOAuthFlow(flow) }
            #expect(try await other.takeOAuthFlow(id: "state-1") == nil)
            try await database.withStore { store in
                let taken = try await store.takeOAuthFlow(id: "state-1")
                #expect(taken?.secret == "verifier-secret")
            }
        } catch {
            try? await other.close()
            throw error
        }
        try await other.close()
    }

    @Test(arguments: Backend.available)
    func teamOrgRoundTripAndReplace(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.teamOrg(teamID: "team_1") == nil)
            try await store.saveTeamOrg(
                TeamOrg(teamID: "team_1", organizationID: "00DA", instanceURL: "https://a", username: "u@a"))
            var org = try #require(try await store.teamOrg(teamID: "team_1"))
            #expect(org.organizationID == "00DA" && org.instanceURL == "https://a" && org.username == "u@a")
            #expect(org.updatedAt != nil)
            try await store.saveTeamOrg(
                TeamOrg(teamID: "team_1", organizationID: "00DB", instanceURL: "https://b", username: nil))
            org = try #require(try await store.teamOrg(teamID: "team_1"))
            #expect(org.organizationID == "00DB" && org.username == nil)
            // It outlives the connection: a later login to another org is noticed.
            try await store.saveConnection(Self.connection("team_1"))
            _ = try await store.deleteConnection(teamID: "team_1")
            #expect(try await store.teamOrg(teamID: "team_1")?.organizationID == "00DB")
        }
    }

    @Test("org pauses: one per team and process, moved on save, removed on resume, lapsed ones not listed",
          arguments: Backend.available)
    func orgPauses(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.orgPauses().isEmpty)
            let later = Date().addingTimeInterval(600)
            try await store.saveOrgPause(OrgPause(teamID: "team_b", process: "w1:1", reason: "circuit_open", until: later))
            try await store.saveOrgPause(OrgPause(teamID: "team_a", process: "w1:1", reason: "circuit_open", until: later))
            try await store.saveOrgPause(OrgPause(teamID: "team_a", process: "w1:1", reason: "api_budget", until: later))
            try await store.saveOrgPause(OrgPause(teamID: "team_a", process: "w2:7", reason: "api_budget", until: later))
            try await store.saveOrgPause(
                OrgPause(teamID: "team_c", process: "w2:7", reason: "api_budget", until: Date().addingTimeInterval(-1)))
            let pauses = try await store.orgPauses()
            #expect(pauses.map { "\($0.teamID) \($0.process) \($0.reason)" } == [
                "team_a w1:1 api_budget", "team_a w2:7 api_budget", "team_b w1:1 circuit_open",
            ])
            #expect(abs(pauses[0].until.timeIntervalSince(later)) < 0.01)
            try await store.deleteOrgPause(teamID: "team_a", process: "w1:1")
            try await store.deleteOrgPause(teamID: "team_x", process: "w1:1")
            #expect(try await store.orgPauses().map(\.process) == ["w2:7", "w1:1"])
        }
    }

    @Test(arguments: Backend.available)
    func migrationFiveKeepsTheLedgerAndAddsTheAdminTables(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        try await database.withStore(migratingThrough: 4) { old async throws in
            #expect(try await old.migrationVersions() == [1, 2, 3, 4])
            _ = try await old.recordLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T1")
        }
        try await database.withStore { store in
            #expect(try await store.migrationVersions() == migrations.map(\.version))
            #expect(try await store.recentLedgerEntries(teamID: "team_1", limit: 5).map(\.salesforceID) == ["00T1"])
            try await store.recordAudit(AuditEntry(teamID: "team_1", actor: "a", action: "x", details: json("{}")))
            #expect(try await store.auditEntries(teamID: "team_1", limit: 5).count == 1)
        }
    }
}

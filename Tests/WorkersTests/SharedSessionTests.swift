import Fleet
import Foundation
import Jobs
import Salesforce
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Issue 9, item 1: one Salesforce session per team for the whole fleet. With refresh-token rotation on, workers that
/// refresh on their own revoke each other's tokens (reusing a rotated refresh token revokes its family); the session
/// must live in the store, one worker at a time must refresh it, and a refusal of a token someone else already
/// rotated must not flag the connection.
@Suite(
    "One Salesforce session per team for the fleet", .serialized, .enabled(if: TestBroker.isAvailable),
    .timeLimit(.minutes(10)))
struct SharedSessionTests {
    /// Two in-process "workers" (their own store instance and `TeamOrgs`, as two processes have) on one world.
    func withTwoWorkers(
        _ harness: FleetHarness, _ body: (TeamOrgs, TeamOrgs) async throws -> Void
    ) async throws {
        let http = try HTTPClientBox()
        let otherStore = try await openStore(url: harness.storeURL, encryptionKey: harness.key, logger: FleetHarness.logger)
        let first = TeamOrgs(store: harness.store, app: harness.app, http: http.client, logger: FleetHarness.logger)
        let second = TeamOrgs(store: otherStore, app: harness.app, http: http.client, logger: FleetHarness.logger)
        do {
            try await body(first, second)
        } catch {
            try? await otherStore.close()
            throw error
        }
        try await otherStore.close()
    }

    @Test("two workers refreshing at once send one token request", arguments: StoreBackend.available)
    func twoWorkersOneTokenRequest(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, seed: .rotatingTokens(lifetime: nil)) { harness in
            try await withTwoWorkers(harness) { first, second in
                let clients = [
                    try await first.client(teamID: FleetHarness.teamID), try await second.client(teamID: FleetHarness.teamID),
                ]
                // First use: nobody has a session yet.
                try await Self.queryConcurrently(clients, callsEach: 10)
                #expect(await harness.sandbox.tokenRequests().count == 1)

                // Every access token expires: both workers meet 401s at once.
                await harness.sandbox.org.expireAllAccessTokens()
                try await Self.queryConcurrently(clients, callsEach: 10)
                let requests = await harness.sandbox.tokenRequests()
                #expect(requests.count == 2)
                // Each refresh used the then-current refresh token once: the rotation chain never forked.
                #expect(Set(requests.compactMap(\.refreshToken)).count == requests.count)

                let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
                #expect(!connection.needsReauthentication)
                #expect(connection.session != nil)
                #expect(connection.refreshToken != SandboxSeed.Demo.refreshToken, "rotation is on")
            }
        }
    }

    @Test("invalid_grant for a refresh token another worker rotated away flags nothing", arguments: StoreBackend.available)
    func refusalOfARotatedTokenDoesNotFlag(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, seed: .rotatingTokens(lifetime: nil)) { harness in
            try await withTwoWorkers(harness) { first, second in
                // The second worker knows the connection with the original refresh token...
                _ = try await second.client(teamID: FleetHarness.teamID)
                // ...then the first refreshes, and the org rotates the token.
                _ = try await first.client(teamID: FleetHarness.teamID).query(.select(["Id"], from: "Account"))
                let rotated = try #require(try await harness.store.connection(teamID: FleetHarness.teamID)?.refreshToken)
                #expect(rotated != SandboxSeed.Demo.refreshToken)

                // Salesforce refusing the original token (as it does once rotated) is no reason for a new login:
                // neither the session store a client reports to...
                let refusal = Salesforce.SalesforceError(
                    code: .invalidGrant, message: "expired access/refresh token", httpStatus: 400)
                let sessions = StoreSessionStore(
                    teamID: FleetHarness.teamID, store: harness.store, owner: "test", known: TokenBox(nil),
                    logger: FleetHarness.logger)
                #expect(
                    try await sessions.refreshRefused(
                        refusal, refreshedWith: .refreshToken(SandboxSeed.Demo.refreshToken), logger: FleetHarness.logger)
                        == false)
                // ...nor the failure a handler reports.
                await second.noteFailure(refusal, teamID: FleetHarness.teamID)
                let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
                #expect(!connection.needsReauthentication)
                #expect(connection.refreshToken == rotated)
                // The second worker carries on with the shared session.
                _ = try await second.client(teamID: FleetHarness.teamID).query(.select(["Id"], from: "Account"))
                #expect(await harness.sandbox.tokenRequests().count == 1)
            }
        }
    }

    @Test("invalid_grant for the stored refresh token flags the connection", arguments: StoreBackend.available)
    func refusalOfTheStoredTokenFlags(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, seed: .rotatingTokens(lifetime: nil)) { harness in
            // The stored refresh token is one the org never issued (revoked, say).
            try await harness.store.saveConnection(
                SalesforceConnection(
                    teamID: FleetHarness.teamID, instanceURL: harness.sandbox.baseURL, loginURL: harness.sandbox.baseURL,
                    clientID: SandboxSeed.Demo.clientId, refreshToken: "5Aep-revoked"))
            try await withTwoWorkers(harness) { first, second in
                let error = await #expect(throws: Salesforce.SalesforceError.self) {
                    _ = try await first.client(teamID: FleetHarness.teamID).query(.select(["Id"], from: "Account"))
                }
                #expect(error?.code == .invalidGrant)
                #expect(error?.classification == .needsReauthentication)
                let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
                #expect(connection.needsReauthentication)
                #expect(connection.reauthenticationReason?.contains("invalid_grant") == true)
                // Every worker now fails fast, without another token request.
                let failure = await #expect(throws: WorkFailure.self) {
                    _ = try await second.client(teamID: FleetHarness.teamID)
                }
                #expect(failure?.code == "salesforce_reauthentication_required")
                #expect(await harness.sandbox.tokenRequests().count == 1)
            }
        }
    }

    @Test("client-credentials connections share their session too", arguments: StoreBackend.available)
    func clientCredentialsShareTheSession(backend: StoreBackend) async throws {
        var seed = SandboxSeed.rotatingTokens(lifetime: nil)
        for index in seed.oauthClients?.indices ?? [].indices {
            seed.oauthClients?[index].clientCredentialsUsername = "admin@sandbox.example"
        }
        try await FleetHarness.with(backend, seed: seed) { harness in
            try await harness.store.saveConnection(
                SalesforceConnection(
                    teamID: FleetHarness.teamID, instanceURL: harness.sandbox.baseURL, loginURL: harness.sandbox.baseURL,
                    clientID: SandboxSeed.Demo.clientId, refreshToken: nil))
            try await withTwoWorkers(harness) { first, second in
                let clients = [
                    try await first.client(teamID: FleetHarness.teamID), try await second.client(teamID: FleetHarness.teamID),
                ]
                try await Self.queryConcurrently(clients, callsEach: 5)
                await harness.sandbox.org.expireAllAccessTokens()
                try await Self.queryConcurrently(clients, callsEach: 5)
                let requests = await harness.sandbox.tokenRequests()
                #expect(requests.count == 2)
                #expect(requests.allSatisfy { $0.grant == "client_credentials" })
                let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
                #expect(connection.session != nil && connection.refreshToken == nil && !connection.needsReauthentication)
            }
        }
    }

    /// The issue's scenario: refresh-token rotation on, access tokens living 3 s, three `docsend-sync worker all`
    /// processes and 300 new visits over 30 s. Before: 0 Tasks, 300 parked `salesforce_reauthentication_required`.
    @Test(
        "3 worker processes, rotating refresh tokens, 3 s access tokens, 300 visits: all synced, none parked",
        .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
        arguments: StoreBackend.available)
    func threeProcessesRotatingTokens(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, seed: .rotatingTokens(lifetime: 3), resyncInterval: .seconds(60)) { harness in
            let workers = try (0..<3).map { _ in try harness.spawnWorker("all") }
            var visitIDs: [String] = []
            let started = ContinuousClock.now
            for index in 0..<300 {
                let visitID = "visit_rot_\(index)"
                visitIDs.append(visitID)
                try await harness.publish(Events.started(visitID, email: "alice@acme.example"))
                // 300 visits over about 30 s: ten a second.
                let due = started + .milliseconds(100 * (index + 1))
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
            }
            try await eventually(timeout: .seconds(240), "every visit's Task written and the queues drained") {
                guard await harness.tasks().count >= visitIDs.count else { return false }
                return try await harness.isIdle()
            }
            for worker in workers { #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))") }

            let tasks = await harness.tasks()
            let byVisit = Dictionary(grouping: tasks.compactMap { $0["DocSend_Visit_Id__c"]?.stringValue }, by: { $0 })
            #expect(Set(byVisit.keys) == Set(visitIDs))
            #expect(byVisit.values.allSatisfy { $0.count == 1 }, "a visit with two Tasks")
            #expect(tasks.count == visitIDs.count)
            let parked = try await harness.parked()
            #expect(parked.isEmpty, "parked: \(parked.prefix(3).map { $0.properties.headers[WorkHeaders.failureCode]?.stringValue ?? "?" })")
            let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
            #expect(!connection.needsReauthentication, "\(connection.reauthenticationReason ?? "")")
            // Tokens did expire and were renewed, each rotated refresh token used once.
            let requests = await harness.sandbox.tokenRequests()
            #expect(requests.count >= 2)
            #expect(Set(requests.compactMap(\.refreshToken)).count == requests.count)
        }
    }

    static func queryConcurrently(_ clients: [SalesforceClient], callsEach: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                for _ in 0..<callsEach {
                    group.addTask { _ = try await client.query(.select(["Id"], from: "Account")) }
                }
            }
            try await group.waitForAll()
        }
    }
}

extension SandboxSeed {
    /// The worker tests' org with refresh-token rotation on for the demo client, and access tokens living
    /// `lifetime` seconds (`nil`: until expired by the test).
    static func rotatingTokens(lifetime: Double?) -> SandboxSeed {
        var seed = SandboxSeed.workerTests
        for index in seed.oauthClients?.indices ?? [].indices {
            seed.oauthClients?[index].rotateRefreshTokens = true
        }
        seed.accessTokenLifetimeSeconds = lifetime
        return seed
    }
}

/// A token request as the sandbox recorded it.
struct RecordedTokenRequest {
    var grant: String?
    var refreshToken: String?
}

extension SalesforceSandbox {
    /// The requests that reached the token endpoint, oldest first.
    func tokenRequests() async -> [RecordedTokenRequest] {
        await org.requests().filter { $0.path == "/services/oauth2/token" }.map { request in
            var form: [String: String] = [:]
            for pair in request.body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                if parts.count == 2 { form[parts[0]] = parts[1] }
            }
            return RecordedTokenRequest(grant: form["grant_type"], refreshToken: form["refresh_token"])
        }
    }
}

@Suite("Store time limit configuration")
struct StoreTimeoutConfigurationTests {
    static let key = StoreEncryptionKey.random().base64

    @Test func storeTimeoutIsReadFromConfiguration() throws {
        let configured = try WorkerConfiguration(
            config: FleetConfiguration.reader(environment: [
                "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": Self.key, "DOCSEND_SYNC_STORE_TIMEOUT": "750ms",
            ]))
        #expect(configured.storeTimeout == .milliseconds(750))
        let defaulted = try WorkerConfiguration(
            config: FleetConfiguration.reader(environment: ["DOCSEND_SYNC_STORE_ENCRYPTION_KEY": Self.key]))
        #expect(defaulted.storeTimeout == defaultStoreTimeout)
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration(
                config: FleetConfiguration.reader(environment: [
                    "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": Self.key, "DOCSEND_SYNC_STORE_TIMEOUT": "soon",
                ]))
        }
    }
}

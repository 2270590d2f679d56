import Foundation
import HTTP
import Logging
import SalesforceSandbox
import Synchronization
import Testing
@testable import Salesforce

@Suite("Tokens against the sandbox", .timeLimit(.minutes(1)))
struct SandboxTokenTests {
    @Test func anAccessTokenExpiringMidRunIsRefreshedOnce() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let lead = SOQL.select(["Id"], from: "Lead")
            for _ in 0..<3 { _ = try await client.query(lead) }
            #expect(await sandbox.tokenRequests() == 1)
            await sandbox.org.expireAllAccessTokens()
            for _ in 0..<3 { _ = try await client.query(lead) }
            #expect(await sandbox.tokenRequests() == 2)
            let unauthorized = await sandbox.org.requests().filter { $0.status == 401 }.count
            #expect(unauthorized == 1)

            // The same through the org's session timeout: the token ages out between two calls.
            await sandbox.org.setAccessTokenLifetime(seconds: 1)
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await client.query(lead)
            _ = try await client.query(lead)
            #expect(await sandbox.tokenRequests() == 3)
            #expect(await sandbox.org.requests().filter { $0.status == 401 }.count == 2)
        }
    }

    @Test func fiftyConcurrentUnauthorizedCallsCauseExactlyOneRefresh() async throws {
        try await withSandbox { sandbox, http in
            // Rotation on: a second refresh with the first (now rotated) token would revoke everything.
            await sandbox.org.addOAuthClient(
                OAuthClientSeed(clientId: "rotating", clientSecret: "rotating-secret", rotateRefreshTokens: true))
            let initial = try await sandbox.org.issueRefreshToken(clientId: "rotating")
            let rotations = Mutex<[String]>([])
            let client = makeClient(
                sandbox, http, credentials: .refreshToken(initial), clientID: "rotating", clientSecret: "rotating-secret",
                // A loaded machine (the whole suite in CI) can hold 50 requests past the default 5 s: counts matter here.
                timeout: .seconds(30), maxInFlight: 50, rotated: { token in rotations.withLock { $0.append(token) } })
            let lead = SOQL.select(["Id"], from: "Lead")
            _ = try await client.query(lead)
            #expect(await sandbox.tokenRequests() == 1)

            await sandbox.org.expireAllAccessTokens()
            await sandbox.org.clearRequests()
            // Latency keeps all 50 on the wire with the expired token before the first 401 comes back.
            await sandbox.org.setFaults(FaultSettings(latency: .init(fixedMs: 150, path: "/services/data/*")))
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await client.query(lead).count } }
                for try await count in group { #expect(count == 2) }
            }
            await sandbox.org.setFaults(FaultSettings())
            #expect(await sandbox.tokenRequests() == 1)
            #expect(await sandbox.org.requests().filter { $0.status == 401 }.count == 50)
            #expect(await sandbox.org.requests().filter { $0.status == 200 && $0.path.hasSuffix("/query") }.count == 50)
            let seen = rotations.withLock { $0 }
            #expect(seen.count == 2)
            #expect(Set(seen + [initial]).count == 3)

            // The rotated token is the one used next time.
            await sandbox.org.expireAllAccessTokens()
            _ = try await client.query(lead)
            #expect(rotations.withLock { $0.count } == 3)
        }
    }

    @Test func revokedRefreshTokenNeedsReauthentication() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http, credentials: .refreshToken("5Aep-not-a-real-token"))
            await expectClientError(.invalidGrant, .needsReauthentication, status: 400) {
                _ = try await client.limits()
            }
            await expectClientError(.invalidGrant, .needsReauthentication) { _ = try await client.limits() }
            #expect(await sandbox.tokenRequests() == 1)
        }
    }

    @Test func aRefreshedTokenStillRefusedNeedsReauthentication() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            await sandbox.org.addFault(.next(2, .invalidSession, path: "/services/data/*"))
            await expectClientError(.invalidSessionID, .needsReauthentication, status: 401) {
                _ = try await client.limits()
            }
            // One initial token, one refresh after the first 401, no more.
            #expect(await sandbox.tokenRequests() == 2)
        }
    }

    @Test func clientCredentialsFlowWithAScopedClient() async throws {
        try await withSandbox { sandbox, _ in
            let configuration = SalesforceConfiguration(
                loginURL: sandbox.baseURL + "/", clientID: Demo.clientId, clientSecret: Demo.clientSecret,
                apiVersion: "62.0")
            let leads = try await withSalesforceClient(configuration: configuration, credentials: .clientCredentials) {
                client in
                #expect(client.versionPath == "/services/data/v62.0")
                let leads = try await client.query(SOQL.select(["Id"], from: "Lead"))
                #expect(client.instanceURL == sandbox.baseURL)
                return leads
            }
            #expect(leads.count == 2)
            let grants = await sandbox.org.requests().filter { $0.path == "/services/oauth2/token" }.map(\.body)
            #expect(grants.count == 1 && grants[0].contains("grant_type=client_credentials"))
        }
    }

    @Test func webServerFlowWithPKCE() async throws {
        try await withSandbox { sandbox, http in
            let configuration = SalesforceConfiguration(
                loginURL: sandbox.baseURL, clientID: Demo.clientId, clientSecret: Demo.clientSecret)
            let pkce = PKCE.generate()
            let url = SalesforceWebServerFlow.authorizeURL(
                configuration: configuration, redirectURI: Demo.redirectURI, pkce: pkce, state: "s-1")
            // The admin approves (the sandbox's auto-approve stands in for the browser).
            let approval = try await http.execute(HTTPRequest(url: url + "&sandbox_auto_approve=true"))
            #expect(approval.status == 302)
            let location = try #require(approval.headers["Location"].flatMap(URLComponents.init(string:)))
            let items = Dictionary(uniqueKeysWithValues: (location.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(items["state"] == "s-1")
            let code = try #require(items["code"])

            await expectClientError(.invalidGrant, .needsReauthentication) {
                _ = try await SalesforceWebServerFlow.exchangeCode(
                    code, pkce: PKCE.generate(), redirectURI: Demo.redirectURI, configuration: configuration,
                    httpClient: http)
            }
            // The code was spent by the failed attempt (as Salesforce does); approve again.
            let again = try await http.execute(HTTPRequest(url: url + "&sandbox_auto_approve=true"))
            let code2 = try #require(
                again.headers["Location"].flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == "code" }?.value)
            let token = try await SalesforceWebServerFlow.exchangeCode(
                code2, pkce: pkce, redirectURI: Demo.redirectURI, configuration: configuration, httpClient: http)
            #expect(token.instanceURL == sandbox.baseURL)
            #expect(token.organizationID == Demo.orgId)
            let refresh = try #require(token.refreshToken)

            let client = SalesforceClient(
                configuration: configuration, credentials: .refreshToken(refresh), token: token, httpClient: http)
            _ = try await client.limits()
            #expect(await sandbox.tokenRequests() == 2)
            await sandbox.org.expireAllAccessTokens()
            _ = try await client.limits()
            #expect(await sandbox.tokenRequests() == 3)
        }
    }
}

@Suite("Hostile literals against the sandbox", .timeLimit(.minutes(1)))
struct SandboxHostileQueryTests {
    static let hostile: [String] = [
        "o'brien@example.com",
        #"back\slash@example.com"#,
        #"end\@example.com"#,
        #"\'@example.com"#,
        "100%_real@example.com",
        "' OR Name != '",
        "x' OR Email != 'y",
        "quote\"d@example.com",
        "new\nline@example.com",
        "ünïcødé+tag@exämple.com",
        "😀@example.com",
        String(repeating: "a'\\%_", count: 60),
    ]

    @Test func hostileEmailsMatchExactlyTheirRecords() async throws {
        try await withSandbox { sandbox, http in
            // Each hostile address twice, plus decoys a broken escape or a LIKE would also match.
            var seeds: [[String: String]] = []
            for (index, email) in Self.hostile.enumerated() {
                seeds.append(["LastName": "H\(index)a", "Company": "Hostile", "Email": email])
                seeds.append(["LastName": "H\(index)b", "Company": "Hostile", "Email": email])
            }
            for decoy in ["100xyreal@example.com", "obrien@example.com", "backslash@example.com", "x", "y", ""] {
                seeds.append(["LastName": "Decoy", "Company": "Hostile", "Email": decoy])
            }
            try await sandbox.seedRaw("Lead", seeds)
            #expect(Self.hostile.last?.count == 300)

            let client = makeClient(sandbox, http)
            for email in Self.hostile {
                let rows = try await client.query(
                    SOQL.select(["Id", "Email", "LastName"], from: "Lead")
                        .where(.equals("Email", .string(email)) && .equals("IsConverted", .bool(false))),
                    as: LeadRow.self)
                let expected = await sandbox.ids("Lead", where: "Email", equals: email)
                #expect(expected.count == 2)
                #expect(Set(rows.map(\.Id)) == expected, "literal \(email.debugDescription)")
                #expect(rows.allSatisfy { $0.Email == email })
            }
            // A 300-character address no record has matches nothing.
            let none = try await client.query(
                SOQL.select(["Id"], from: "Lead").where(.equals("Email", .string(String(repeating: "z'", count: 150)))))
            #expect(none.isEmpty)
        }
    }
}

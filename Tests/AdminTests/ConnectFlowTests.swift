import Admin
import Foundation
import HTTP
import SalesforceSandbox
import Store
import Testing
import Workers

/// The OAuth web-server flow with PKCE against the sandbox, over HTTP, on every store backend.
@Suite("Admin connect flow")
struct ConnectFlowTests {
    @Test(arguments: Backend.available)
    func theWholeFlowConnectsWithPKCEAndTheStateIsSingleUse(_ backend: Backend) async throws {
        try await withAdmin(backend) { admin in
            let session = try await admin.session("team_a")
            let callback = try await admin.authorize("team_a", cookie: session.cookie)
            let reply = try await admin.request(.get, callback, cookie: session.cookie)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["outcome"] as? String == "connected")

            // PKCE: the authorize request carried S256(verifier) and the token request the verifier.
            let requests = await admin.sandbox.org.requests()
            let authorize = try #require(requests.first { $0.path == "/services/oauth2/authorize" })
            let token = try #require(requests.first { $0.path == "/services/oauth2/token" && $0.body.contains("authorization_code") })
            #expect(authorize.query["code_challenge_method"] == "S256")
            let verifier = try #require(
                token.body.split(separator: "&").first { $0.hasPrefix("code_verifier=") }.map { String($0.dropFirst(14)) })
            #expect(SandboxOrg.s256(verifier.removingPercentEncoding ?? verifier) == authorize.query["code_challenge"])

            // Stored: the connection (token sealed), the org, the audit entry.
            let connection = try #require(try await admin.store.connection(teamID: "team_a"))
            #expect(connection.refreshToken?.hasPrefix("5Aep") == true)
            let status = try await admin.request(.get, "/api/v1/teams/team_a/status", token: admin.token("team_a"))
            let shown = try #require(status.json["connection"] as? [String: Any])
            #expect(shown["organization_id"] as? String == (try await admin.store.teamOrg(teamID: "team_a"))?.organizationID)
            #expect(!status.text.contains(connection.refreshToken ?? "-"))
            let audit = try await admin.store.auditEntries(teamID: "team_a", limit: 10)
            #expect(audit.map(\.action) == ["connection.connect"])
            #expect(audit.first?.actor.hasPrefix("session:") == true)
            #expect(!String(decoding: audit[0].details, as: UTF8.self).contains(connection.refreshToken ?? "-"))

            // The same callback again: the state was used.
            let replayed = try await admin.request(.get, callback, cookie: session.cookie)
            #expect(replayed.status == 400)
            #expect(replayed.errorCode == "state_unknown")
            // A state never issued.
            let forged = try await admin.request(.get, "/oauth/callback?code=abc&state=forged-state", cookie: session.cookie)
            #expect(forged.status == 400)
            #expect(forged.errorCode == "state_unknown")
        }
    }

    @Test
    func aStateOfAnotherSessionOrTeamIsRefused() async throws {
        try await withAdmin { admin in
            let mine = try await admin.session("team_a")
            let callback = try await admin.authorize("team_a", cookie: mine.cookie)
            let otherTeam = try await admin.session("team_b")
            let reply = try await admin.request(.get, callback, cookie: otherTeam.cookie)
            #expect(reply.status == 403)
            #expect(reply.errorCode == "state_mismatch")
            let second = try await admin.authorize("team_a", cookie: mine.cookie)
            let sameTeamOtherSession = try await admin.session("team_a")
            #expect(try await admin.request(.get, second, cookie: sameTeamOtherSession.cookie).errorCode == "state_mismatch")
            #expect(try await admin.store.connection(teamID: "team_a") == nil)
        }
    }

    @Test
    func deniedExpiredReusedAndWrongOrgTypeSayWhatHappened() async throws {
        try await withAdmin { admin in
            let session = try await admin.session("team_a")
            // Denied at Salesforce.
            let denied = try await admin.authorize("team_a", cookie: session.cookie, extra: "&action=deny")
            let deniedReply = try await admin.request(.get, denied, cookie: session.cookie)
            #expect(deniedReply.status == 400)
            #expect(deniedReply.errorCode == "access_denied")

            // Expired state: the login took more than 10 minutes.
            let slow = try await admin.authorize("team_a", cookie: session.cookie)
            admin.clock.advance(AdminService.flowLifetime + 1)
            #expect(try await admin.request(.get, slow, cookie: session.cookie).errorCode == "state_expired")
            admin.clock.advance(-(AdminService.flowLifetime + 1))

            // A code used once, presented again with a fresh state: Salesforce says invalid_grant.
            let first = try await admin.authorize("team_a", cookie: session.cookie)
            #expect(try await admin.request(.get, first, cookie: session.cookie).status == 200)
            let usedCode = try #require(URLComponents(string: first)?.queryItems?.first { $0.name == "code" }?.value)
            let fresh = try await admin.authorize("team_a", cookie: session.cookie)
            var components = try #require(URLComponents(string: fresh))
            components.queryItems = components.queryItems?.map { $0.name == "code" ? URLQueryItem(name: "code", value: usedCode) : $0 }
            let reused = try await admin.request(.get, try #require(components.string), cookie: session.cookie)
            #expect(reused.status == 400)
            #expect(reused.errorCode == "code_rejected")

            // Production asked for, a sandbox org answered: refused, and the new token revoked.
            let info = try await admin.request(
                .put, admin.sandbox.baseURL + "/_sandbox/info",
                body: Data(#"{"baseURL": "https://acme--uat.sandbox.my.salesforce.com"}"#.utf8))
            #expect(info.status == 200)
            let revokesBefore = await admin.sandbox.org.requests().filter { $0.path == "/services/oauth2/revoke" }.count
            let teamB = try await admin.session("team_b")
            let wrongAgain = try await admin.authorize("team_b", cookie: teamB.cookie)
            let refused = try await admin.request(.get, wrongAgain, cookie: teamB.cookie)
            #expect(refused.status == 400)
            #expect(refused.errorCode == "wrong_org_type")
            #expect((refused.json["message"] as? String)?.contains("sandbox") == true)
            let revokes = await admin.sandbox.org.requests().filter { $0.path == "/services/oauth2/revoke" }
            #expect(revokes.count == revokesBefore + 1)
            #expect(revokes.last?.status == 200)
            #expect(try await admin.store.connection(teamID: "team_b") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func anotherOrgNeedsAConfirmationThatClearsTheOrgsState(_ backend: Backend) async throws {
        try await withAdmin(backend) { admin in
            let session = try await admin.connect("team_a")
            _ = try await admin.store.recordLedgerEntry(
                teamID: "team_a", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T000000000001")
            try await admin.store.saveAccountLink(teamID: "team_a", docSendAccountID: "acct", salesforceAccountID: "001A")
            // The team's data belongs to another org than the one the next login reaches.
            try await admin.store.saveTeamOrg(
                TeamOrg(teamID: "team_a", organizationID: "00D000000000OLD", instanceURL: "https://old.my.salesforce.com",
                        username: nil))
            let callback = try await admin.authorize("team_a", cookie: session.cookie)
            let reply = try await admin.request(.get, callback, cookie: session.cookie)
            #expect(reply.status == 200)
            #expect(reply.json["outcome"] as? String == "needs_confirmation")
            let change = try #require(reply.json["confirmation"] as? [String: Any])
            #expect(change["previous_organization_id"] as? String == "00D000000000OLD")
            let confirmation = try #require(change["confirmation"] as? String)
            // Nothing cleared yet.
            #expect(try await admin.store.accountLinks(teamID: "team_a").count == 1)

            let path = "/teams/team_a/connect/confirm"
            let noCSRF = try await admin.request(
                .post, path, cookie: session.cookie, body: Data("confirmation=\(confirmation)".utf8),
                contentType: "application/x-www-form-urlencoded")
            #expect(noCSRF.status == 403)
            let confirmed = try await admin.request(
                .post, path, cookie: session.cookie, body: Data("confirmation=\(confirmation)&csrf_token=\(session.csrf)".utf8),
                contentType: "application/x-www-form-urlencoded")
            #expect(confirmed.status == 200, "\(confirmed.text)")
            #expect((confirmed.json["connected"] as? [String: Any])?["org_changed"] as? Bool == true)
            #expect(try await admin.store.accountLinks(teamID: "team_a") == [])
            #expect(try await admin.store.recentLedgerEntries(teamID: "team_a", limit: 5) == [])
            #expect(try await admin.store.teamOrg(teamID: "team_a")?.organizationID != "00D000000000OLD")
            let last = try #require(try await admin.store.auditEntries(teamID: "team_a", limit: 1).first)
            let details = try #require(try JSONSerialization.jsonObject(with: last.details) as? [String: Any])
            #expect(last.action == "connection.connect")
            #expect(details["org_changed"] as? Bool == true)
            #expect((details["cleared"] as? [String: Any])?["ledger_entries"] as? Int == 1)
            // Single use.
            let again = try await admin.request(
                .post, path, cookie: session.cookie, body: Data("confirmation=\(confirmation)&csrf_token=\(session.csrf)".utf8),
                contentType: "application/x-www-form-urlencoded")
            #expect(again.errorCode == "confirmation_unknown")
        }
    }

    @Test(arguments: Backend.available)
    func disconnectRevokesTheTokenAndDeletesTheConnection(_ backend: Backend) async throws {
        try await withAdmin(backend) { admin in
            try await admin.connect("team_a")
            let token = try #require(try await admin.store.connection(teamID: "team_a")?.refreshToken)
            let reply = try await admin.request(.post, "/api/v1/teams/team_a/disconnect", token: admin.token("team_a"))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["revoked"] as? Bool == true)
            let revoke = try #require(await admin.sandbox.org.requests().last { $0.path == "/services/oauth2/revoke" })
            #expect(revoke.status == 200)
            #expect(revoke.body.contains("token="))
            #expect(try await admin.store.connection(teamID: "team_a") == nil)
            // The token no longer works at Salesforce.
            let refresh = try await admin.request(
                .post, admin.sandbox.baseURL + "/services/oauth2/token",
                body: Data(
                    "grant_type=refresh_token&client_id=\(SandboxSeed.Demo.clientId)&client_secret=\(SandboxSeed.Demo.clientSecret)&refresh_token=\(token)".utf8),
                contentType: "application/x-www-form-urlencoded")
            #expect(refresh.status == 400)
            #expect(refresh.json["error"] as? String == "invalid_grant")
            let audit = try #require(try await admin.store.auditEntries(teamID: "team_a", limit: 1).first)
            #expect(audit.action == "connection.disconnect")
            #expect(audit.actor == "api:team_a")
            // Again: nothing to disconnect.
            let again = try await admin.request(.post, "/api/v1/teams/team_a/disconnect", token: admin.token("team_a"))
            #expect(again.status == 409)
        }
    }

    @Test
    func aFailedRevokeIsReportedAndTheConnectionStillDeleted() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            // Salesforce forgets the token first (revoked elsewhere): the revoke is refused.
            let token = try #require(try await admin.store.connection(teamID: "team_a")?.refreshToken)
            _ = try await admin.request(
                .post, admin.sandbox.baseURL + "/services/oauth2/revoke", body: Data("token=\(token)".utf8),
                contentType: "application/x-www-form-urlencoded")
            let reply = try await admin.request(
                .post, "/teams/team_a/disconnect", cookie: session.cookie, body: Data("csrf_token=\(session.csrf)".utf8),
                contentType: "application/x-www-form-urlencoded")
            #expect(reply.status == 200)
            #expect(reply.json["revoked"] as? Bool == false)
            #expect((reply.json["revoke_error"] as? String)?.contains("invalid_token") == true)
            #expect(try await admin.store.connection(teamID: "team_a") == nil)
        }
    }

    @Test
    func loginHostsAndOrgTypes() {
        #expect(LoginHost("production") == .production)
        #expect(LoginHost("sandbox") == .sandbox)
        #expect(LoginHost("https://acme.my.salesforce.com") == .myDomain("https://acme.my.salesforce.com"))
        #expect(LoginHost("https://acme--uat.sandbox.my.salesforce.com")?.expectedOrgType == .sandbox)
        for refused in ["http://acme.my.salesforce.com", "https://evil.example", "https://acme.my.salesforce.com.evil.example",
                        "https://u:p@acme.my.salesforce.com", "https://acme.my.salesforce.com:8443", "https://acme.my.salesforce.com/x",
                        "https://.my.salesforce.com", "javascript:alert(1)"] {
            #expect(LoginHost(refused) == nil, "\(refused)")
        }
        #expect(OrgType(instanceURL: "https://acme.my.salesforce.com") == .production)
        #expect(OrgType(instanceURL: "https://na42.salesforce.com") == .production)
        #expect(OrgType(instanceURL: "https://acme--uat.sandbox.my.salesforce.com") == .sandbox)
        #expect(OrgType(instanceURL: "https://cs42.salesforce.com") == .sandbox)
        #expect(OrgType(instanceURL: "https://acme--uat.my.salesforce.com") == .sandbox)
        #expect(OrgType(instanceURL: "http://127.0.0.1:9999") == nil)
    }
}

import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("OAuth endpoints")
struct OAuthTests {
    typealias Demo = SandboxSeed.Demo
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    func authorize(_ h: Harness, challenge: String? = OAuthTests.challenge, extra: String = "&sandbox_auto_approve=true") async throws -> HTTPResponse {
        var url = "/services/oauth2/authorize?response_type=code&client_id=\(Demo.clientId)&redirect_uri=\(enc(Demo.redirectURI))&state=st%2F1&scope=\(enc("api refresh_token"))"
        if let challenge { url += "&code_challenge=\(challenge)&code_challenge_method=S256" }
        return try await h.call(.get, url + extra, anonymous: true)
    }

    static var challenge: String { SandboxOrg.s256(verifier) }

    func code(from r: HTTPResponse) throws -> String {
        #expect(r.status == 302)
        let location = try #require(r.headers["Location"])
        #expect(location.hasPrefix(Demo.redirectURI + "?code="))
        #expect(location.hasSuffix("&state=st%2F1"))
        let comps = try #require(URLComponents(string: location))
        return try #require(comps.queryItems?.first { $0.name == "code" }?.value)
    }

    @Test func pkceChallengeIsRFC7636() {
        #expect(SandboxOrg.s256(Self.verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func loginPageThenAuthorizationCodeWithPKCE() async throws {
        try await withSandbox { h in
            let page = try await authorize(h, extra: "")
            #expect(page.status == 200 && page.headers["Content-Type"]?.hasPrefix("text/html") == true)
            #expect(String(decoding: page.body, as: UTF8.self).contains("<form method=\"POST\""))
            // Posting the page's form approves.
            let posted = try await h.form(
                "/services/oauth2/authorize",
                [("response_type", "code"), ("client_id", Demo.clientId), ("redirect_uri", Demo.redirectURI), ("state", "st/1"), ("username", "rep@sandbox.example")])
            _ = try code(from: posted)

            let code = try code(from: try await authorize(h))
            let r = try await h.form(
                "/services/oauth2/token",
                [("grant_type", "authorization_code"), ("code", code), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret),
                 ("redirect_uri", Demo.redirectURI), ("code_verifier", Self.verifier)])
            #expect(r.status == 200)
            let body = try json(r)
            let keys = Set(body.objectValue?.keys ?? [])
            #expect(keys == ["access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"])
            #expect(body["expires_in"] == nil && body["token_type"] == "Bearer" && body["instance_url"]?.stringValue == h.base)
            let id = try #require(body["id"]?.stringValue)
            let issuedAt = try #require(body["issued_at"]?.stringValue)
            #expect(Int64(issuedAt).map { abs(Double($0) / 1000 - Date().timeIntervalSince1970) < 60 } == true)
            #expect(body["signature"]?.stringValue == SandboxOrg.signature(id: id, issuedAt: issuedAt, secret: Demo.clientSecret))
            #expect(id == "\(h.base)/id/\(Demo.orgId)/\(await h.org.userId(username: Demo.username) ?? "")")
            let access = try #require(body["access_token"]?.stringValue)
            #expect(try await h.call(.get, "limits", token: access).status == 200)
            // The identity URL answers for the token's user.
            let identity = try await h.call(.get, String(id.dropFirst(h.base.count)), token: access)
            #expect(identity.status == 200)
            #expect(try json(identity)["username"] == .string(Demo.username))
            #expect(try await h.call(.get, String(id.dropFirst(h.base.count)), anonymous: true).status == 403)
            // A code is single-use.
            let again = try await h.form(
                "/services/oauth2/token",
                [("grant_type", "authorization_code"), ("code", code), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret),
                 ("redirect_uri", Demo.redirectURI), ("code_verifier", Self.verifier)])
            #expect(again.status == 400); #expect(try json(again)["error"] == "invalid_grant")
        }
    }

    @Test func badOrMissingVerifierIsInvalidGrant() async throws {
        try await withSandbox { h in
            for verifier in ["wrong-verifier-wrong-verifier-wrong-verifier-1", nil] {
                let code = try code(from: try await authorize(h))
                var fields = [("grant_type", "authorization_code"), ("code", code), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret), ("redirect_uri", Demo.redirectURI)]
                if let verifier { fields.append(("code_verifier", verifier)) }
                let r = try await h.form("/services/oauth2/token", fields)
                #expect(r.status == 400)
                let body = try json(r)
                #expect(body["error"] == "invalid_grant" && body["error_description"]?.stringValue?.isEmpty == false)
            }
        }
    }

    @Test func clientAuthentication() async throws {
        try await withSandbox { h in
            let bad = try await h.form("/services/oauth2/token", [("grant_type", "client_credentials"), ("client_id", Demo.clientId), ("client_secret", "nope")])
            #expect(bad.status == 400); #expect(try json(bad)["error"] == "invalid_client")
            let unknown = try await h.form("/services/oauth2/token", [("grant_type", "client_credentials"), ("client_id", "who"), ("client_secret", "x")])
            #expect(unknown.status == 400); #expect(try json(unknown)["error"] == "invalid_client_id")
            let basic = Data("\(Demo.clientId):\(Demo.clientSecret)".utf8).base64EncodedString()
            let ok = try await h.form("/services/oauth2/token", [("grant_type", "client_credentials")], headers: [("Authorization", "Basic \(basic)")])
            #expect(ok.status == 200)
            let body = try json(ok)
            #expect(body["refresh_token"] == nil && body["access_token"] != nil && body["expires_in"] == nil)
            let grant = try await h.form("/services/oauth2/token", [("grant_type", "password"), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret)])
            #expect(grant.status == 400); #expect(try json(grant)["error"] == "unsupported_grant_type")
        }
    }

    @Test func refreshWithoutRotation() async throws {
        try await withSandbox { h in
            for _ in 0..<2 {
                let r = try await h.form(
                    "/services/oauth2/token",
                    [("grant_type", "refresh_token"), ("refresh_token", Demo.refreshToken), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret)])
                #expect(r.status == 200)
                let body = try json(r)
                #expect(body["refresh_token"] == nil)
                let token = try #require(body["access_token"]?.stringValue)
                #expect(try await h.call(.get, "limits", token: token).status == 200)
            }
            let bad = try await h.form(
                "/services/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", "nope"), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret)])
            #expect(bad.status == 400); #expect(try json(bad)["error"] == "invalid_grant")
        }
    }

    @Test func refreshTokenRotation() async throws {
        var seed = SandboxSeed.demo
        seed.oauthClients = [OAuthClientSeed(clientId: "rot", clientSecret: "rot-secret", redirectURIs: ["http://localhost/cb"], rotateRefreshTokens: true, refreshTokens: ["rt-0"])]
        try await withSandbox(seed) { h in
            func refresh(_ token: String) async throws -> HTTPResponse {
                try await h.form("/services/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "rot"), ("client_secret", "rot-secret")])
            }
            let first = try json(try await refresh("rt-0"))
            let rt1 = try #require(first["refresh_token"]?.stringValue)
            #expect(rt1 != "rt-0")
            let second = try json(try await refresh(rt1))
            let rt2 = try #require(second["refresh_token"]?.stringValue)
            let access2 = try #require(second["access_token"]?.stringValue)
            #expect(rt2 != rt1)
            // The old token is rejected, and reusing it revokes the family (current tokens too).
            let reused = try await refresh(rt1)
            #expect(reused.status == 400); #expect(try json(reused)["error"] == "invalid_grant")
            #expect(try await refresh(rt2).status == 400)
            try expectError(try await h.call(.get, "limits", token: access2), status: 401, code: "INVALID_SESSION_ID")
        }
    }

    @Test func authorizeRejectsUnknownClientAndRedirect() async throws {
        var seed = SandboxSeed.demo
        seed.oauthClients = [OAuthClientSeed(clientId: "strict", clientSecret: "s", redirectURIs: ["http://localhost/cb"])]
        try await withSandbox(seed) { h in
            let unknown = try await h.call(.get, "/services/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=http://localhost/cb", anonymous: true)
            #expect(unknown.status == 400)
            let badRedirect = try await h.call(.get, "/services/oauth2/authorize?response_type=code&client_id=strict&redirect_uri=\(enc("http://evil/cb"))", anonymous: true)
            #expect(badRedirect.status == 400)
            let ok = try await h.call(.get, "/services/oauth2/authorize?response_type=code&client_id=strict&redirect_uri=\(enc("http://localhost/cb"))&sandbox_auto_approve=true", anonymous: true)
            #expect(ok.status == 302 && ok.headers["Location"]?.hasPrefix("http://localhost/cb?code=") == true)
        }
    }
}

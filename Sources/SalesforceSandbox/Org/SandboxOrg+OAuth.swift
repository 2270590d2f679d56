import Crypto
import Foundation

extension SandboxOrg {
    static func oauthError(_ error: String, _ description: String, status: Int = 400) -> SandboxHTTPResponse {
        .json(status, ["error": .string(error), "error_description": .string(description)])
    }

    static func html(_ status: Int, _ body: String) -> SandboxHTTPResponse {
        SandboxHTTPResponse(status: status, headers: [("Content-Type", "text/html;charset=UTF-8")], body: Data(body.utf8))
    }

    static func escapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    private func redirectAllowed(_ uri: String, _ client: OAuthClient) -> Bool {
        let list = client.seed.redirectURIs ?? []
        return list.contains("*") || list.contains(uri)
    }

    // MARK: authorize

    /// `GET /services/oauth2/authorize` shows a login page; `POST` (the page's form) or
    /// `sandbox_auto_approve=true` approves and redirects to `redirect_uri` with `code` and `state`.
    func oauthAuthorize(_ req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        guard req.method == "GET" || req.method == "POST" else { return Self.oauthError("invalid_request", "must use HTTP GET or POST", status: 405) }
        var params = req.query
        if req.method == "POST" {
            for (k, v) in SandboxHTTPRequest.parseForm(String(decoding: req.body, as: UTF8.self)) { params[k] = v }
        }
        guard let clientId = params["client_id"], let client = clients[clientId] else {
            return Self.html(400, "<html><body><h1>error=invalid_client_id</h1><p>client identifier invalid</p></body></html>")
        }
        guard let redirect = params["redirect_uri"], redirectAllowed(redirect, client) else {
            return Self.html(400, "<html><body><h1>error=redirect_uri_mismatch</h1><p>redirect_uri must match configuration</p></body></html>")
        }
        func back(_ items: [(String, String?)]) -> SandboxHTTPResponse {
            let query = items.compactMap { k, v in v.map { "\(k)=\(Self.formEncode($0))" } }.joined(separator: "&")
            return SandboxHTTPResponse(status: 302, headers: [("Location", redirect + (redirect.contains("?") ? "&" : "?") + query)])
        }
        let state = params["state"]
        guard params["response_type"] == "code" else {
            return back([("error", "unsupported_response_type"), ("error_description", "response type not supported"), ("state", state)])
        }
        if let method = params["code_challenge_method"], method != "S256" {
            return back([("error", "invalid_request"), ("error_description", "invalid code_challenge_method"), ("state", state)])
        }
        let approve = req.method == "POST" || params["sandbox_auto_approve"] == "true"
        guard approve else { return Self.html(200, loginPage(params)) }
        if params["action"] == "deny" {
            return back([("error", "access_denied"), ("error_description", "end-user denied authorization"), ("state", state)])
        }
        let uid: String
        if let name = params["username"] ?? params["login_hint"], !name.isEmpty {
            guard let id = userId(username: name) else { return Self.html(200, loginPage(params, error: "Unknown user \(name)")) }
            uid = id
        } else {
            uid = defaultUserId
        }
        let code = "aPrx" + Self.randomToken(64)
        codes[code] = AuthorizationCode(
            clientId: clientId, redirectURI: redirect, userId: uid, challenge: params["code_challenge"],
            scope: params["scope"] ?? client.seed.scopes ?? "api refresh_token", expires: Date().addingTimeInterval(900))
        return back([("code", code), ("state", state)])
    }

    private func loginPage(_ params: [String: String], error: String? = nil) -> String {
        let hidden = params.filter { $0.key != "username" }.sorted { $0.key < $1.key }.map {
            "<input type=\"hidden\" name=\"\(Self.escapeHTML($0.key))\" value=\"\(Self.escapeHTML($0.value))\">"
        }.joined(separator: "\n")
        let users = store.all("User").compactMap { $0["Username"]?.stringValue }
        let options = users.map { "<option>\(Self.escapeHTML($0))</option>" }.joined()
        return """
            <!DOCTYPE html><html><head><title>Salesforce Sandbox Login</title></head><body>
            <h1>Salesforce sandbox</h1>\(error.map { "<p class=\"error\">\(Self.escapeHTML($0))</p>" } ?? "")
            <form method="POST" action="/services/oauth2/authorize">
            \(hidden)
            <label>Username <select name="username">\(options)</select></label>
            <button type="submit" name="action" value="allow">Allow</button>
            <button type="submit" name="action" value="deny">Deny</button>
            </form></body></html>
            """
    }

    // MARK: token

    /// `POST /services/oauth2/token`: `authorization_code` (with PKCE), `refresh_token`, `client_credentials`.
    func oauthToken(_ req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        guard req.method == "POST" else { return Self.oauthError("invalid_request", "must use HTTP POST", status: 400) }
        var form = SandboxHTTPRequest.parseForm(String(decoding: req.body, as: UTF8.self))
        for (k, v) in req.query where form[k] == nil { form[k] = v }
        var clientId = form["client_id"]
        var secret = form["client_secret"]
        if let auth = req.header("Authorization"), auth.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(auth.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8)
        {
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
            if parts.count == 2 { (clientId, secret) = (parts[0], parts[1]) }
        }
        guard let clientId, let client = clients[clientId] else {
            return Self.oauthError("invalid_client_id", "client identifier invalid")
        }
        if let secret, secret != client.seed.clientSecret {
            return Self.oauthError("invalid_client", "invalid client credentials")
        }
        let grantType = form["grant_type"] ?? ""
        let pkcePublic = grantType == "authorization_code" && form["code_verifier"] != nil
        if secret == nil && !pkcePublic {
            return Self.oauthError("invalid_client", "invalid client credentials")
        }
        switch grantType {
        case "authorization_code":
            guard let code = form["code"], let grant = codes[code], grant.clientId == clientId else {
                return Self.oauthError("invalid_grant", "invalid authorization code")
            }
            codes[code] = nil
            // Without a client secret, only a PKCE-bound code (a public client) may be redeemed.
            if secret == nil && grant.challenge == nil { return Self.oauthError("invalid_client", "invalid client credentials") }
            guard grant.expires > Date() else { return Self.oauthError("invalid_grant", "expired authorization code") }
            guard form["redirect_uri"] == grant.redirectURI else {
                return Self.oauthError("redirect_uri_mismatch", "redirect_uri must match configuration")
            }
            if let challenge = grant.challenge {
                guard let verifier = form["code_verifier"], Self.s256(verifier) == challenge else {
                    return Self.oauthError("invalid_grant", "invalid code verifier")
                }
            }
            var refresh: String?
            let scopes = grant.scope.split(separator: " ")
            if scopes.contains("refresh_token") || scopes.contains("offline_access") || scopes.contains("full") {
                familySerial += 1
                let token = "5Aep" + Self.randomToken(80)
                refreshTokens[token] = RefreshGrant(clientId: clientId, userId: grant.userId, scope: grant.scope, family: familySerial, active: true)
                refresh = token
            }
            return tokenResponse(client: client, userId: grant.userId, scope: grant.scope, refreshToken: refresh, family: refresh.map { _ in familySerial })
        case "refresh_token":
            guard let token = form["refresh_token"], let grant = refreshTokens[token], grant.clientId == clientId else {
                return Self.oauthError("invalid_grant", "expired access/refresh token")
            }
            guard grant.active else {
                // Reusing a rotated refresh token revokes the whole family, as Salesforce does.
                revokeFamily(grant.family)
                return Self.oauthError("invalid_grant", "expired access/refresh token")
            }
            var newRefresh: String?
            if client.rotate {
                refreshTokens[token]?.active = false
                let next = "5Aep" + Self.randomToken(80)
                refreshTokens[next] = RefreshGrant(clientId: clientId, userId: grant.userId, scope: grant.scope, family: grant.family, active: true)
                newRefresh = next
            }
            return tokenResponse(client: client, userId: grant.userId, scope: grant.scope, refreshToken: newRefresh, family: grant.family)
        case "client_credentials":
            guard let name = client.seed.clientCredentialsUsername, let uid = userId(username: name) else {
                return Self.oauthError("invalid_grant", "no client credentials user enabled")
            }
            let scope = (client.seed.scopes ?? "api").split(separator: " ").filter { $0 != "refresh_token" }.joined(separator: " ")
            return tokenResponse(client: client, userId: uid, scope: scope.isEmpty ? "api" : scope, refreshToken: nil, family: nil)
        default:
            return Self.oauthError("unsupported_grant_type", "grant type not supported")
        }
    }

    private func revokeFamily(_ family: Int) {
        for (k, v) in refreshTokens where v.family == family { refreshTokens[k]?.active = false }
        accessTokens = accessTokens.filter { $0.value.family != family }
    }

    private func tokenResponse(client: OAuthClient, userId: String, scope: String, refreshToken: String?, family: Int?) -> SandboxHTTPResponse {
        let now = Date()
        let token = newAccessToken()
        accessTokens[token] = AccessGrant(userId: userId, clientId: client.seed.clientId, issuedAt: now, family: family)
        let id = "\(baseURL)/id/\(orgId)/\(userId)"
        let issuedAt = String(Int64(now.timeIntervalSince1970 * 1000))
        let signature = Self.signature(id: id, issuedAt: issuedAt, secret: client.seed.clientSecret)
        var o = JSONObject()
        o["access_token"] = .string(token)
        if let refreshToken { o["refresh_token"] = .string(refreshToken) }
        o["signature"] = .string(signature)
        o["scope"] = .string(scope)
        o["instance_url"] = .string(baseURL)
        o["id"] = .string(id)
        o["token_type"] = "Bearer"
        o["issued_at"] = .string(issuedAt)
        return .json(200, .object(o), headers: [("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")])
    }

    /// Base64 HMAC-SHA256 of `id + issued_at`, keyed with the client secret (the `signature` of a token response).
    public static func signature(id: String, issuedAt: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((id + issuedAt).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// PKCE S256: base64url(SHA256(verifier)) without padding.
    public static func s256(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// `POST /services/oauth2/revoke` with `token=`: revokes an access or refresh token.
    func oauthRevoke(_ req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        var form = SandboxHTTPRequest.parseForm(String(decoding: req.body, as: UTF8.self))
        for (k, v) in req.query where form[k] == nil { form[k] = v }
        guard let token = form["token"] else { return Self.oauthError("unsupported_token_type", "this token type is not supported") }
        if accessTokens.removeValue(forKey: token) != nil { return SandboxHTTPResponse(status: 200) }
        if let grant = refreshTokens[token] {
            revokeFamily(grant.family)
            refreshTokens[token] = nil
            return SandboxHTTPResponse(status: 200)
        }
        return Self.oauthError("invalid_token", "invalid token")
    }
}

import Crypto
import Foundation

/// The key signing every credential of the admin service (API tokens, session links, session cookies, CSRF tokens):
/// 32 bytes. Its descriptions never show it.
public struct AdminSigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    /// A key from its base64 form; `nil` unless it decodes to exactly 32 bytes.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else { return nil }
        self.key = SymmetricKey(data: data)
    }

    /// A fresh random key (tests).
    public static func random() -> AdminSigningKey {
        AdminSigningKey(key: SymmetricKey(size: .bits256))
    }

    private init(key: SymmetricKey) { self.key = key }

    public var description: String { "AdminSigningKey(redacted)" }
    public var debugDescription: String { description }
}

/// A browser session, as its signed cookie carries it.
public struct AdminSession: Sendable, Hashable, Codable {
    /// The team it may administer.
    public var teamID: String
    /// Random; names the session in the audit trail and binds OAuth flows and CSRF tokens to it.
    public var sessionID: String
    /// When it stops being accepted.
    public var expiresAt: Date

    /// Creates a value.
    public init(teamID: String, sessionID: String, expiresAt: Date) {
        self.teamID = teamID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "t"
        case sessionID = "s"
        case expiresAt = "e"
    }
}

/// Who is calling, once a credential checked out.
public enum AdminPrincipal: Sendable, Hashable {
    /// The DocSend application, with the API token of `team`.
    case api(team: String)
    /// An admin's browser.
    case session(AdminSession)

    /// The team the credential is for.
    public var teamID: String {
        switch self {
        case .api(let team): team
        case .session(let session): session.teamID
        }
    }

    /// How the audit trail names it: `api:<team>` or `session:<session id>`.
    public var actor: String {
        switch self {
        case .api(let team): "api:\(team)"
        case .session(let session): "session:\(session.sessionID)"
        }
    }
}

/// Mints and checks the admin service's credentials, all HMAC-SHA256 with the signing key over domain-separated
/// messages (`api:`, `session:`, `cookie:`, `csrf:`), compared in constant time.
///
/// - API token: `dss1.<team>.<base64url(HMAC("api:" + team))>`, valid for its team only, without expiry (rotate
///   the signing key to revoke every token).
/// - Session link: `/session?team=T&expires=UNIX&sig=base64url(HMAC("session:" + T + ":" + UNIX))`.
/// - Session cookie: `base64url(JSON session) + "." + base64url(HMAC("cookie:" + first part))`.
/// - CSRF token: `base64url(HMAC("csrf:" + session id))`.
public struct AdminCredentials: Sendable {
    let key: AdminSigningKey

    /// Credentials signed with `key`.
    public init(key: AdminSigningKey) { self.key = key }

    /// The prefix of API tokens (a version: a new format gets a new prefix).
    public static let tokenPrefix = "dss1."
    /// The name of the session cookie.
    public static let cookieName = "dss_session"

    // MARK: API tokens

    /// The API token of `team`.
    public func apiToken(team: String) -> String {
        Self.tokenPrefix + team + "." + Self.base64URL(mac("api:" + team))
    }

    /// The team whose valid token `token` is, or `nil`.
    public func team(ofAPIToken token: String) -> String? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 512 else { return nil }
        let rest = token.dropFirst(Self.tokenPrefix.count)
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        let team = String(rest[..<dot])
        let signature = String(rest[rest.index(after: dot)...])
        guard TeamID.isValid(team), verify(signature, "api:" + team) else { return nil }
        return team
    }

    // MARK: Session links

    /// The path and query of a session link for `team` valid until `expires` (whole seconds).
    public func sessionLink(team: String, expires: Date) -> String {
        let unix = Int64(expires.timeIntervalSince1970.rounded(.down))
        let query = [("team", team), ("expires", String(unix)), ("sig", Self.base64URL(mac("session:\(team):\(unix)")))]
        return "/session?" + query.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Whether a session link's parts are signed and not expired at `now`.
    public func verifySessionLink(team: String, expires: String, signature: String, now: Date) -> Bool {
        guard TeamID.isValid(team), expires.count <= 12, let unix = Int64(expires), unix > 0 else { return false }
        guard verify(signature, "session:\(team):\(expires)") else { return false }
        return Date(timeIntervalSince1970: TimeInterval(unix)) > now
    }

    // MARK: Session cookies

    /// The cookie value carrying `session`.
    public func cookieValue(_ session: AdminSession) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let payload = Self.base64URL(Array((try? encoder.encode(session)) ?? Data()))
        return payload + "." + Self.base64URL(mac("cookie:" + payload))
    }

    /// The session a cookie value carries, when it is signed and not expired at `now`.
    public func session(fromCookie value: String, now: Date) -> AdminSession? {
        guard value.utf8.count <= 1024, let dot = value.lastIndex(of: ".") else { return nil }
        let payload = String(value[..<dot])
        guard verify(String(value[value.index(after: dot)...]), "cookie:" + payload),
            let data = Self.decodeBase64URL(payload)
        else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let session = try? decoder.decode(AdminSession.self, from: data), TeamID.isValid(session.teamID),
            session.expiresAt > now
        else { return nil }
        return session
    }

    // MARK: CSRF

    /// The CSRF token of `session`: forms of the page carry it, and every browser POST must.
    public func csrfToken(for session: AdminSession) -> String {
        Self.base64URL(mac("csrf:" + session.sessionID))
    }

    /// Whether `token` is `session`'s CSRF token.
    public func verifyCSRF(_ token: String, for session: AdminSession) -> Bool {
        verify(token, "csrf:" + session.sessionID)
    }

    // MARK: Plumbing

    /// 32 random bytes, base64url: session ids, OAuth states, confirmation ids.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    private func mac(_ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key.key))
    }

    /// Constant-time check of a base64url signature.
    private func verify(_ signature: String, _ message: String) -> Bool {
        guard signature.utf8.count == 43, let bytes = Self.decodeBase64URL(signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Data(message.utf8), using: key.key)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// DocSend team ids as the admin service accepts them: 1 to 128 of `A-Z a-z 0-9 _ - . :`. Anything else in a path,
/// a token or a link is refused before it reaches the store or a log line.
public enum TeamID {
    /// Whether `text` is an acceptable team id.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (CharacterSet.alphanumerics.contains(scalar) || "_-.:".unicodeScalars.contains(scalar))
            }
    }
}

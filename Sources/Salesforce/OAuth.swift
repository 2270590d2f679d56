import Crypto
import Foundation
import HTTP
import Logging

/// A token endpoint's answer (authorization-code, refresh-token or client-credentials grant).
///
/// Salesforce sends no `expires_in`: an access token lives until a 401 `INVALID_SESSION_ID` says otherwise.
/// `description` redacts the tokens.
public struct SalesforceToken: Sendable, Hashable, Decodable, CustomStringConvertible {
    /// The bearer token for REST calls.
    public var accessToken: String
    /// Present for the authorization-code grant, and on refresh when the org rotates refresh tokens.
    public var refreshToken: String?
    /// The org's instance, where every REST call goes.
    public var instanceURL: String
    /// The identity URL, `https://login.salesforce.com/id/<orgId>/<userId>`.
    public var id: String?
    /// Granted scopes, space-separated.
    public var scope: String?
    /// `Bearer`.
    public var tokenType: String?
    /// Epoch milliseconds, as a string.
    public var issuedAt: String?

    /// A token as the endpoint would send it (tests, stored sessions).
    public init(
        accessToken: String, refreshToken: String? = nil, instanceURL: String, id: String? = nil,
        scope: String? = nil, tokenType: String? = nil, issuedAt: String? = nil
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.instanceURL = instanceURL
        self.id = id
        self.scope = scope
        self.tokenType = tokenType
        self.issuedAt = issuedAt
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case instanceURL = "instance_url"
        case id, scope
        case tokenType = "token_type"
        case issuedAt = "issued_at"
    }

    /// The org id from the identity URL (`…/id/<orgId>/<userId>`), when present.
    public var organizationID: String? {
        guard let id else { return nil }
        let parts = id.split(separator: "/")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : nil
    }

    /// The id of the User the token was issued to, the last part of the identity URL (`…/id/<orgId>/<userId>`),
    /// when present.
    public var userID: String? {
        guard let id, let last = id.split(separator: "/").last, !last.isEmpty, last != "id" else { return nil }
        return String(last)
    }

    public var description: String {
        "SalesforceToken(instanceURL: \(instanceURL), accessToken: <redacted>, refreshToken: "
            + (refreshToken == nil ? "nil" : "<redacted>") + ")"
    }
}

/// Proof Key for Code Exchange (RFC 7636) with the S256 method.
public struct PKCE: Sendable, Hashable {
    /// The secret kept by the party that started the flow, sent with the code exchange.
    public var verifier: String
    /// `base64url(SHA256(verifier))`, sent in the authorize URL.
    public var challenge: String { Self.challenge(for: verifier) }

    /// A pair around `verifier` (43…128 characters of `[A-Za-z0-9-._~]`).
    public init(verifier: String) {
        self.verifier = verifier
    }

    /// A fresh pair: 32 random bytes, base64url-encoded into a 43-character verifier.
    public static func generate() -> PKCE {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return PKCE(verifier: base64URL(bytes))
    }

    /// `base64url(SHA256(ASCII(verifier)))` without padding.
    public static func challenge(for verifier: String) -> String {
        base64URL(Array(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The OAuth 2.0 web-server flow with PKCE, which connects an org (`docsend-sync team connect`).
///
/// 1. ``authorizeURL(configuration:redirectURI:pkce:state:scopes:)``: send the admin's browser there.
/// 2. Salesforce redirects to `redirectURI?code=…&state=…`.
/// 3. ``exchangeCode(_:pkce:redirectURI:configuration:httpClient:logger:)`` returns the tokens; store the
///    refresh token and build a ``SalesforceClient`` with ``SalesforceCredentials/refreshToken(_:)``.
public enum SalesforceWebServerFlow {
    /// The authorize URL: `response_type=code`, `client_id`, `redirect_uri`, `code_challenge`,
    /// `code_challenge_method=S256`, `scope`, `state`.
    public static func authorizeURL(
        configuration: SalesforceConfiguration, redirectURI: String, pkce: PKCE, state: String,
        scopes: [String] = ["api", "refresh_token"]
    ) -> String {
        let query: [(String, String)] = [
            ("response_type", "code"),
            ("client_id", configuration.clientID),
            ("redirect_uri", redirectURI),
            ("code_challenge", pkce.challenge),
            ("code_challenge_method", "S256"),
            ("scope", scopes.joined(separator: " ")),
            ("state", state),
        ]
        return configuration.authorizeURL + "?" + formEncode(query)
    }

    /// Exchanges an authorization `code` and its PKCE verifier for tokens
    /// (`grant_type=authorization_code`). Throws ``SalesforceError``; `invalid_grant` (code expired or
    /// verifier missing) is classified ``SalesforceError/Classification/needsReauthentication``.
    public static func exchangeCode(
        _ code: String, pkce: PKCE, redirectURI: String, configuration: SalesforceConfiguration,
        httpClient: HTTPClient, logger: Logger? = nil
    ) async throws -> SalesforceToken {
        var form: [(String, String)] = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", configuration.clientID),
            ("redirect_uri", redirectURI),
            ("code_verifier", pkce.verifier),
        ]
        if let secret = configuration.clientSecret { form.append(("client_secret", secret)) }
        return try await TokenEndpoint.request(
            form: form, grant: "authorization_code", configuration: configuration, transport: httpClient,
            logger: logger ?? disabledLogger)
    }
}

/// `application/x-www-form-urlencoded` with every reserved character percent-encoded.
func formEncode(_ pairs: [(String, String)]) -> String {
    pairs.map { percentEncodeQueryValue($0.0) + "=" + percentEncodeQueryValue($0.1) }.joined(separator: "&")
}

/// Requests to `/services/oauth2/token`.
enum TokenEndpoint {
    static func request(
        form: [(String, String)], grant: String, configuration: SalesforceConfiguration,
        transport: any SalesforceTransport, logger: Logger
    ) async throws -> SalesforceToken {
        var logger = logger
        logger[metadataKey: "sf-oauth-grant"] = "\(grant)"
        logger.debug("requesting Salesforce token")
        let request = HTTPRequest(
            method: .post, url: configuration.tokenURL,
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: Data(formEncode(form).utf8), timeout: configuration.requestTimeout)
        let response: HTTPResponse
        let started = ContinuousClock.now
        do {
            response = try await transport.execute(request)
        } catch let error as HTTPClientError {
            if error.code == .cancelled { throw CancellationError() }
            let mapped = SalesforceError(transport: error)
            SalesforceMetrics.exchange(operation: "token", status: nil, error: mapped, since: started)
            logger.debug("Salesforce token request failed", metadata: ["sf-error-code": "\(mapped.code)"])
            throw mapped
        }
        SalesforceMetrics.exchange(operation: "token", status: response.status, since: started)
        logger[metadataKey: "sf-response-status"] = "\(response.status)"
        guard (200..<300).contains(response.status) else {
            var error = SalesforceError.first(status: response.status, data: response.body)
            // The token endpoint answers 400 invalid_grant / 401 invalid_client for credentials that no
            // retry will fix; its 5xx stay retryable.
            if (400..<500).contains(response.status) && error.classification == .permanent {
                error.classification = .needsReauthentication
            }
            logger.debug("Salesforce token request refused", metadata: ["sf-error-code": "\(error.code)"])
            throw error
        }
        do {
            let token = try JSONDecoder().decode(SalesforceToken.self, from: response.body)
            logger.debug("received Salesforce token")
            return token
        } catch {
            throw SalesforceError.invalidResponse(
                "the token response is not the documented JSON", httpStatus: response.status)
        }
    }
}

/// A logger that drops everything: the default when a caller passes none (as AsyncHTTPClient does).
let disabledLogger = Logger(label: "docsend-sync.salesforce.disabled", factory: { _ in SwiftLogNoOpLogHandler() })

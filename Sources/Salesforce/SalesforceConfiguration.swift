import Foundation

/// What a ``SalesforceClient`` needs to reach an org, apart from the org's own credentials.
///
/// ## Configuration keys:
/// - `loginURL` (string, required): the OAuth host, `https://login.salesforce.com`, `https://test.salesforce.com`,
///   a My Domain URL, or the sandbox emulator's base URL.
/// - `clientID` (string, required): the connected app's consumer key.
/// - `clientSecret` (string, secret, optional): the consumer secret.
/// - `apiVersion` (string, optional, default `v62.0`): the pinned REST API version.
/// - `requestTimeout` (duration, optional, default 30 s): the limit for one HTTP exchange.
/// - `maxRequestsInFlight` (int, optional, default 10): concurrent REST requests per org.
/// - `transientRetries` (int, optional, default 2): how many times one call is sent again, after a short jittered
///   pause, when Salesforce answers with a transient failure (``SalesforceClient`` says which).
public struct SalesforceConfiguration: Sendable {
    /// The OAuth host, without trailing slash, e.g. `https://login.salesforce.com`.
    public var loginURL: String
    /// The connected app's consumer key.
    public var clientID: String
    /// The consumer secret; `nil` when the app does not require one.
    public var clientSecret: String?
    /// The pinned REST API version, `vNN.N`.
    public var apiVersion: String
    /// The limit for one HTTP exchange (REST call or token request).
    public var requestTimeout: Duration
    /// How many REST requests one org's client sends at once; more callers wait their turn in order.
    public var maxRequestsInFlight: Int
    /// How many times a call is sent again in place after a transient failure, before the failure is thrown.
    public var transientRetries: Int
    /// The first pause before such a retry; each next one doubles, each with jitter (×0.5 to ×1.5).
    public var transientRetryDelay: Duration

    /// A configuration; a trailing `/` on `loginURL` and a missing `v` on `apiVersion` are tolerated.
    public init(
        loginURL: String = "https://login.salesforce.com",
        clientID: String,
        clientSecret: String? = nil,
        apiVersion: String = "v62.0",
        requestTimeout: Duration = .seconds(30),
        maxRequestsInFlight: Int = 10,
        transientRetries: Int = 2,
        transientRetryDelay: Duration = .milliseconds(100)
    ) {
        self.loginURL = loginURL.hasSuffix("/") ? String(loginURL.dropLast()) : loginURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiVersion = apiVersion.hasPrefix("v") ? apiVersion : "v" + apiVersion
        self.requestTimeout = requestTimeout
        self.maxRequestsInFlight = max(1, maxRequestsInFlight)
        self.transientRetries = max(0, transientRetries)
        self.transientRetryDelay = transientRetryDelay
    }

    var tokenURL: String { loginURL + "/services/oauth2/token" }
    var authorizeURL: String { loginURL + "/services/oauth2/authorize" }
}

/// How a client obtains access tokens for its org.
public enum SalesforceCredentials: Sendable, Hashable, CustomStringConvertible {
    /// A refresh token from the web-server flow (`grant_type=refresh_token`). It may rotate: see
    /// ``SalesforceClient`` `onRefreshTokenRotated`.
    case refreshToken(String)
    /// The client-credentials flow (`grant_type=client_credentials`), with the configuration's client id
    /// and secret; `loginURL` must be the org's My Domain URL.
    case clientCredentials

    /// Never prints the token.
    public var description: String {
        switch self {
        case .refreshToken: return "refreshToken(<redacted>)"
        case .clientCredentials: return "clientCredentials"
        }
    }
}

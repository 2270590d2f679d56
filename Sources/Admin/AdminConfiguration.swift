import Configuration
import Fleet
import Foundation
import Workers

/// Where the admin service listens, how browsers reach it, and the key that signs its credentials.
///
/// ## Configuration keys:
/// - `admin.host` (string, optional, default `0.0.0.0`): the listening address.
/// - `admin.port` (integer, optional, default 9410; 0 picks a free port, logged as `docsend-url=`).
/// - `admin.publicURL` (string, optional, default `http://127.0.0.1:<port>`): the browser-facing base URL; the OAuth
///   redirect URI registered on the connected app is `<publicURL>/oauth/callback`. With `https://` the session
///   cookie is `Secure`.
/// - `admin.signingKey` (string, secret, required, environment only): 32 random bytes in base64
///   (`openssl rand -base64 32`); signs API tokens, session links, session cookies and CSRF tokens.
/// - `admin.sandboxLoginURL` (string, optional, default `https://test.salesforce.com`): the login host of
///   `?host=sandbox`; `?host=production` uses `salesforce.loginURL`.
/// - `admin.sessionLifetime` (interval, optional, default `8h`): how long a browser session lasts.
///
/// The connected app (`salesforce.clientID`, required; `salesforce.clientSecret`; `salesforce.loginURL`) and the
/// store keys are the workers' (``Workers/WorkerConfiguration``).
public struct AdminConfiguration: Sendable {
    /// The listening address.
    public var host: String
    /// The listening port; 0 picks a free one.
    public var port: Int
    /// The browser-facing base URL without a trailing `/`; `nil`: `http://127.0.0.1:<bound port>`.
    public var publicURL: String?
    /// Signs every credential the service issues.
    public var signingKey: AdminSigningKey
    /// The login host of `?host=sandbox`.
    public var sandboxLoginURL: String
    /// How long a browser session lasts.
    public var sessionLifetime: Duration

    /// Creates a configuration.
    public init(
        host: String = "0.0.0.0", port: Int = 9410, publicURL: String? = nil, signingKey: AdminSigningKey,
        sandboxLoginURL: String = "https://test.salesforce.com", sessionLifetime: Duration = .seconds(8 * 3600)
    ) {
        self.host = host
        self.port = port
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.signingKey = signingKey
        self.sandboxLoginURL = sandboxLoginURL.hasSuffix("/") ? String(sandboxLoginURL.dropLast()) : sandboxLoginURL
        self.sessionLifetime = sessionLifetime
    }

    /// Reads the keys above.
    public init(config: ConfigReader) throws {
        let port = try WorkerConfiguration.port(config, "admin.port", default: 9410)
        let publicURL = config.string(forKey: "admin.publicURL")
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.query == nil
            else {
                throw ConfigurationError(
                    key: "admin.publicURL", problem: "expected an http(s) base URL such as https://admin.example.com")
            }
        }
        let lifetime = try WorkerConfiguration.interval(config, "admin.sessionLifetime", default: .seconds(8 * 3600))
        self.init(
            host: config.string(forKey: "admin.host") ?? "0.0.0.0", port: port, publicURL: publicURL,
            signingKey: try Self.signingKey(config: config),
            sandboxLoginURL: config.string(forKey: "admin.sandboxLoginURL") ?? "https://test.salesforce.com",
            sessionLifetime: lifetime)
    }

    /// The signing key alone (`admin token` and `admin link` need nothing else).
    public static func signingKey(config: ConfigReader) throws -> AdminSigningKey {
        guard let text = config.string(forKey: "admin.signingKey", isSecret: true), !text.isEmpty else {
            throw ConfigurationError(
                key: "admin.signingKey", problem: "required: 32 random bytes in base64 (openssl rand -base64 32)")
        }
        guard let key = AdminSigningKey(base64: text) else {
            throw ConfigurationError(key: "admin.signingKey", problem: "expected 32 bytes in base64")
        }
        return key
    }
}

import Foundation
import HTTP
import Logging

/// Who logged in: the answer of the identity URL a token response names (`id`, `GET /id/{orgId}/{userId}`).
public struct SalesforceIdentity: Sendable, Hashable, Decodable {
    /// The org id (`00D…`).
    public var organizationID: String
    /// The user id (`005…`).
    public var userID: String
    /// The user's login name.
    public var username: String?
    /// The user's name for people.
    public var displayName: String?

    /// Creates a value.
    public init(organizationID: String, userID: String, username: String? = nil, displayName: String? = nil) {
        self.organizationID = organizationID
        self.userID = userID
        self.username = username
        self.displayName = displayName
    }

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id"
        case userID = "user_id"
        case username
        case displayName = "display_name"
    }
}

extension SalesforceWebServerFlow {
    /// Reads the identity of `token` from its identity URL (`token.id`), with its access token.
    ///
    /// Throws ``SalesforceError``: ``SalesforceError/Code/invalidResponse`` when the token names no identity URL or
    /// the answer is not the documented JSON.
    public static func identity(
        of token: SalesforceToken, configuration: SalesforceConfiguration, httpClient: HTTPClient,
        logger: Logger? = nil
    ) async throws -> SalesforceIdentity {
        guard let url = token.id, url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw SalesforceError.invalidResponse("the token response names no identity URL", httpStatus: nil)
        }
        let response = try await send(
            HTTPRequest(
                method: .get, url: url,
                headers: ["Authorization": "Bearer \(token.accessToken)", "Accept": "application/json"],
                timeout: configuration.requestTimeout),
            operation: "identity", httpClient: httpClient, logger: logger ?? disabledLogger)
        guard (200..<300).contains(response.status) else {
            throw SalesforceError.first(status: response.status, data: response.body)
        }
        do {
            return try JSONDecoder().decode(SalesforceIdentity.self, from: response.body)
        } catch {
            throw SalesforceError.invalidResponse("the identity response is not the documented JSON", httpStatus: response.status)
        }
    }

    /// Revokes `token` (a refresh token revokes its access tokens too) at the login host's
    /// `/services/oauth2/revoke`. Throws ``SalesforceError`` when Salesforce refuses (`invalid_token`: already
    /// revoked or unknown) or cannot be reached.
    public static func revoke(
        _ token: String, configuration: SalesforceConfiguration, httpClient: HTTPClient, logger: Logger? = nil
    ) async throws {
        let response = try await send(
            HTTPRequest(
                method: .post, url: configuration.loginURL + "/services/oauth2/revoke",
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                body: Data(formEncode([("token", token)]).utf8), timeout: configuration.requestTimeout),
            operation: "revoke", httpClient: httpClient, logger: logger ?? disabledLogger)
        guard (200..<300).contains(response.status) else {
            throw SalesforceError.first(status: response.status, data: response.body)
        }
    }

    private static func send(
        _ request: HTTPRequest, operation: String, httpClient: HTTPClient, logger: Logger
    ) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        do {
            let response = try await httpClient.execute(request)
            SalesforceMetrics.exchange(operation: operation, status: response.status, since: started)
            logger.debug(
                "Salesforce OAuth request answered",
                metadata: ["sf-oauth-operation": "\(operation)", "sf-response-status": "\(response.status)"])
            return response
        } catch let error as HTTPClientError {
            if error.code == .cancelled { throw CancellationError() }
            let mapped = SalesforceError(transport: error)
            SalesforceMetrics.exchange(operation: operation, status: nil, error: mapped, since: started)
            throw mapped
        }
    }
}

import Foundation
import HTTP
import Logging
import Synchronization

/// A REST client for one Salesforce org.
///
/// It holds the org's access token and instance URL, obtains a token on first use, and on a 401
/// `INVALID_SESSION_ID` refreshes once and retries once. Refreshes are single-flight: however many calls
/// hit a 401 together, one token request is sent and they all retry with its token. When the org rotates
/// refresh tokens, the new one replaces the old at once and is handed to `onRefreshTokenRotated` (awaited
/// before any call proceeds with the new access token) so the caller can store it atomically.
///
/// At most ``SalesforceConfiguration/maxRequestsInFlight`` REST requests are on the wire at once; further
/// calls wait in arrival order (a cancelled waiter leaves the line). Token requests do not count, so a call
/// holding a permit can always wait for a refresh.
///
/// Every call takes an optional `logger:`; nothing is logged above debug in normal operation, and
/// tokens, secrets and literal values never are. Failures throw ``SalesforceError`` (or
/// `CancellationError` when the calling task is cancelled).
public final class SalesforceClient: Sendable {
    /// A usable access token and where to use it.
    struct Session: Sendable, Equatable {
        var accessToken: String
        var instanceURL: String
    }

    private struct State {
        var credentials: SalesforceCredentials
        var session: Session?
        var refresh: Task<Session, any Error>?
        var apiUsage: APIUsage?
        /// Set when a refresh was refused for good: later calls fail fast instead of re-sending a
        /// dead (possibly rotated-away) refresh token.
        var reauthentication: SalesforceError?
        var tokenRequests = 0
    }

    /// The client's settings.
    public let configuration: SalesforceConfiguration
    private let transport: any SalesforceTransport
    private let onRefreshTokenRotated: @Sendable (String) async -> Void
    private let limiter: AsyncSemaphore
    private let state: Mutex<State>
    private let backgroundActivityLogger: Logger

    private static let requestCounter = Atomic<UInt64>(0)

    /// A client for one org.
    ///
    /// - Parameters:
    ///   - configuration: login URL, client id and secret, API version, timeout, in-flight limit.
    ///   - credentials: how to obtain access tokens.
    ///   - token: a token already in hand (e.g. fresh from the web-server flow); saves the first token
    ///     request. Its refresh token, if any, is not used: `credentials` is.
    ///   - httpClient: the transport, shared between orgs; its owner shuts it down.
    ///   - backgroundActivityLogger: for work not tied to a call.
    ///   - onRefreshTokenRotated: receives each new refresh token when the org rotates them.
    public convenience init(
        configuration: SalesforceConfiguration,
        credentials: SalesforceCredentials,
        token: SalesforceToken? = nil,
        httpClient: HTTPClient,
        backgroundActivityLogger: Logger? = nil,
        onRefreshTokenRotated: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.init(
            configuration: configuration, credentials: credentials, token: token, transport: httpClient,
            backgroundActivityLogger: backgroundActivityLogger, onRefreshTokenRotated: onRefreshTokenRotated)
    }

    init(
        configuration: SalesforceConfiguration,
        credentials: SalesforceCredentials,
        token: SalesforceToken?,
        transport: any SalesforceTransport,
        backgroundActivityLogger: Logger?,
        onRefreshTokenRotated: @escaping @Sendable (String) async -> Void
    ) {
        self.configuration = configuration
        self.transport = transport
        self.onRefreshTokenRotated = onRefreshTokenRotated
        self.limiter = AsyncSemaphore(permits: configuration.maxRequestsInFlight)
        self.backgroundActivityLogger = backgroundActivityLogger ?? disabledLogger
        let session = token.map { Session(accessToken: $0.accessToken, instanceURL: Self.trimmed($0.instanceURL)) }
        self.state = Mutex(State(credentials: credentials, session: session))
    }

    /// The org's API usage from the last response's `Sforce-Limit-Info` header; `nil` before the first.
    public var apiUsage: APIUsage? { state.withLock { $0.apiUsage } }

    /// The instance URL in use; `nil` before the first token.
    public var instanceURL: String? { state.withLock { $0.session?.instanceURL } }

    /// How many token requests this client has sent (for metrics and tests).
    public var tokenRequestCount: Int { state.withLock { $0.tokenRequests } }

    /// Forgets the access token so the next call fetches a new one (e.g. after an operator reconnected the
    /// org and supplied `credentials`).
    public func reset(credentials: SalesforceCredentials? = nil) {
        state.withLock { state in
            if let credentials { state.credentials = credentials }
            state.session = nil
            state.reauthentication = nil
        }
    }

    /// The REST base path of the pinned version: `/services/data/vNN.N`.
    public var versionPath: String { "/services/data/" + configuration.apiVersion }

    // MARK: - Authenticated requests

    /// What an authenticated call is about, for logs (never a literal or a record id).
    struct Operation: Sendable {
        var name: String
        var sobject: String?
    }

    /// Sends one REST call with the current token; on a recoverable 401, refreshes (single-flight) and
    /// retries once. Returns the final response whatever its status, except a 401, which throws
    /// ``SalesforceError`` classified ``SalesforceError/Classification/needsReauthentication``.
    func perform(
        _ method: HTTPMethod, path: String, body: Data? = nil, headers: HTTPHeaders = [:],
        operation: Operation, logger: Logger?
    ) async throws -> HTTPResponse {
        var logger = logger ?? disabledLogger
        let requestID = Self.requestCounter.add(1, ordering: .relaxed).newValue
        logger[metadataKey: "sf-request-id"] = "\(requestID)"
        logger[metadataKey: "sf-operation"] = "\(operation.name)"
        if let sobject = operation.sobject { logger[metadataKey: "sf-sobject"] = "\(sobject)" }

        let (first, session) = try await exchange(method, path: path, body: body, headers: headers, logger: logger)
        guard first.status == 401 else { return first }

        var error = SalesforceError.first(status: 401, data: first.body)
        error.classification = .needsReauthentication
        // jsforce's rule: this 401 means the token can never be used for REST; a refresh would loop.
        if error.message.contains("not valid for use with the REST API")
            || error.message.contains("Connected app is not attached to Agent")
        {
            logger.debug("Salesforce session unusable for REST", metadata: ["sf-error-code": "\(error.code)"])
            throw error
        }
        logger.debug("Salesforce session expired", metadata: ["sf-error-code": "\(error.code)"])
        _ = try await renewSession(replacing: session.accessToken, logger: logger)
        let (second, _) = try await exchange(method, path: path, body: body, headers: headers, logger: logger)
        guard second.status == 401 else { return second }
        var final = SalesforceError.first(status: 401, data: second.body)
        final.classification = .needsReauthentication
        logger.debug("Salesforce refused a refreshed session", metadata: ["sf-error-code": "\(final.code)"])
        throw final
    }

    /// ``perform(_:path:body:headers:operation:logger:)``, then any non-2xx status becomes a thrown
    /// ``SalesforceError``.
    func performExpectingSuccess(
        _ method: HTTPMethod, path: String, body: Data? = nil, headers: HTTPHeaders = [:],
        operation: Operation, logger: Logger?
    ) async throws -> HTTPResponse {
        let response = try await perform(
            method, path: path, body: body, headers: headers, operation: operation, logger: logger)
        guard (200..<300).contains(response.status) else {
            throw SalesforceError.first(status: response.status, data: response.body)
        }
        return response
    }

    /// One HTTP exchange under the in-flight limit, with the session current once a permit is held (a call
    /// that waited in line does not send a token replaced meanwhile). Records the API usage header.
    /// Returns the response and the session it was sent with.
    private func exchange(
        _ method: HTTPMethod, path: String, body: Data?, headers: HTTPHeaders, logger: Logger
    ) async throws -> (HTTPResponse, Session) {
        try await limiter.acquire()
        defer { limiter.release() }
        let session = try await currentSession(logger: logger)
        var request = HTTPRequest(
            method: method, url: session.instanceURL + path, headers: headers, body: body,
            timeout: configuration.requestTimeout)
        request.headers["Authorization"] = "Bearer " + session.accessToken
        request.headers["Accept"] = "application/json"
        if body != nil && request.headers["Content-Type"] == nil {
            request.headers["Content-Type"] = "application/json"
        }

        logger.debug("sending Salesforce request", metadata: ["sf-request-method": "\(method)"])
        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try await transport.execute(request)
        } catch let error as HTTPClientError {
            if error.code == .cancelled { throw CancellationError() }
            let mapped = SalesforceError(transport: error)
            logger.debug(
                "Salesforce request failed in transport",
                metadata: ["sf-error-code": "\(mapped.code)", "sf-duration": "\(ContinuousClock.now - started)"])
            throw mapped
        }
        var metadata: Logger.Metadata = [
            "sf-response-status": "\(response.status)", "sf-duration": "\(ContinuousClock.now - started)",
        ]
        if let header = response.headers["Sforce-Limit-Info"], let usage = APIUsage.parse(limitInfo: header) {
            state.withLock { $0.apiUsage = usage }
            metadata["sf-api-usage"] = "\(usage)"
        }
        logger.debug("received Salesforce response", metadata: metadata)
        return (response, session)
    }

    // MARK: - Tokens

    /// The session to send with: the cached one, or, while a refresh is in flight (someone just met a 401
    /// with the cached token), the refresh's result; the first call fetches one.
    private func currentSession(logger: Logger) async throws -> Session {
        enum Next {
            case ready(Session)
            case wait(Task<Session, any Error>)
            case fetch
        }
        let next = try state.withLock { state throws(SalesforceError) -> Next in
            if let error = state.reauthentication { throw error }
            if let refresh = state.refresh { return .wait(refresh) }
            if let session = state.session { return .ready(session) }
            return .fetch
        }
        switch next {
        case .ready(let session): return session
        case .wait(let refresh): return try await refresh.value
        case .fetch: return try await renewSession(replacing: nil, logger: logger)
        }
    }

    /// Returns a session newer than `stale`: the current one if someone already refreshed, the result of
    /// the refresh in flight if there is one, or a new refresh started here.
    private func renewSession(replacing stale: String?, logger: Logger) async throws -> Session {
        enum Next {
            case ready(Session)
            case wait(Task<Session, any Error>)
        }
        let next = try state.withLock { state throws(SalesforceError) -> Next in
            if let error = state.reauthentication { throw error }
            if let session = state.session, session.accessToken != stale { return .ready(session) }
            if let refresh = state.refresh { return .wait(refresh) }
            state.tokenRequests += 1
            let refresh = Task { try await self.requestSession(logger: logger) }
            state.refresh = refresh
            return .wait(refresh)
        }
        switch next {
        case .ready(let session): return session
        case .wait(let refresh): return try await refresh.value
        }
    }

    /// The token request behind a refresh. Runs in its own task so that a waiter's cancellation does not
    /// fail the refresh the other waiters depend on.
    private func requestSession(logger: Logger) async throws -> Session {
        let credentials = state.withLock { $0.credentials }
        var form: [(String, String)]
        let grant: String
        switch credentials {
        case .refreshToken(let token):
            grant = "refresh_token"
            form = [("grant_type", grant), ("refresh_token", token), ("client_id", configuration.clientID)]
        case .clientCredentials:
            grant = "client_credentials"
            form = [("grant_type", grant), ("client_id", configuration.clientID)]
        }
        if let secret = configuration.clientSecret { form.append(("client_secret", secret)) }

        do {
            let token = try await TokenEndpoint.request(
                form: form, grant: grant, configuration: configuration, transport: transport, logger: logger)
            if case .refreshToken(let old) = credentials, let new = token.refreshToken, new != old {
                state.withLock { $0.credentials = .refreshToken(new) }
                logger.debug("Salesforce refresh token rotated")
                await onRefreshTokenRotated(new)
            }
            let session = Session(accessToken: token.accessToken, instanceURL: Self.trimmed(token.instanceURL))
            state.withLock { state in
                state.session = session
                state.refresh = nil
            }
            return session
        } catch let error as SalesforceError {
            state.withLock { state in
                state.refresh = nil
                if error.classification == .needsReauthentication {
                    state.reauthentication = error
                    state.session = nil
                }
            }
            throw error
        } catch {
            state.withLock { $0.refresh = nil }
            throw error
        }
    }

    private static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

/// Runs `body` with a client for one org over an HTTP client of its own, shut down when `body` returns or
/// throws.
public func withSalesforceClient<Result>(
    configuration: SalesforceConfiguration,
    credentials: SalesforceCredentials,
    token: SalesforceToken? = nil,
    httpConfiguration: HTTPClient.Configuration = .init(),
    backgroundActivityLogger: Logger? = nil,
    onRefreshTokenRotated: @escaping @Sendable (String) async -> Void = { _ in },
    _ body: (SalesforceClient) async throws -> Result
) async throws -> Result {
    try await withHTTPClient(configuration: httpConfiguration, logger: backgroundActivityLogger ?? disabledLogger) {
        http in
        let client = SalesforceClient(
            configuration: configuration, credentials: credentials, token: token, httpClient: http,
            backgroundActivityLogger: backgroundActivityLogger, onRefreshTokenRotated: onRefreshTokenRotated)
        return try await body(client)
    }
}

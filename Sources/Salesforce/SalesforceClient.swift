import Foundation
import HTTP
import Logging
import Synchronization
import Timing

/// A REST client for one Salesforce org.
///
/// It holds the org's access token and instance URL, obtains a token on first use, and on a 401
/// `INVALID_SESSION_ID` renews the session and retries. Renewals are single-flight: however many calls
/// hit a 401 together, one renewal runs and they all retry with its token.
///
/// Where the session lives is a ``SalesforceSessionStore``:
/// - by default, the process (``InMemorySalesforceSessionStore``): one refresh and one retry per call; when the org
///   rotates refresh tokens, the new one replaces the old at once and is handed to `onRefreshTokenRotated`
///   (awaited, within a time limit, before any call proceeds with the new access token);
/// - with ``SalesforceSessionSharing``, a store every process of a fleet shares: one session per org for the whole
///   fleet, at most one token request in flight across processes (a lease), the newest token adopted from the
///   store before refreshing, and a refused refresh reported only when its credentials are still the stored ones.
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

    struct State {
        var session: Session?
        var refresh: Task<Session, any Error>?
        var apiUsage: APIUsage?
        var health = Health()
        /// Set when a refresh was refused for good: later calls fail fast instead of re-sending a
        /// dead (possibly rotated-away) refresh token.
        var reauthentication: SalesforceError?
        var tokenRequests = 0
        /// The User the last token this client requested was issued to (``SalesforceToken/userID``).
        var identityUserID: String?
    }

    /// The client's settings.
    public let configuration: SalesforceConfiguration
    let transport: any SalesforceTransport
    let sessions: any SalesforceSessionStore
    /// The in-process store of a client that shares nothing (``reset(credentials:)`` replaces its credentials).
    let localSessions: InMemorySalesforceSessionStore?
    let leaseDuration: Duration
    let waitLimit: Duration
    let storeTimeout: Duration
    /// Renewals one call may go through: one when the session is the process's own (a token this client just
    /// obtained and Salesforce refused is final); three when shared, since the token a retry picks up may be one
    /// another process obtained a while ago and that has expired since.
    let renewalsPerCall: Int
    let limiter: AsyncSemaphore
    let state: Mutex<State>
    let backgroundActivityLogger: Logger

    private static let requestCounter = Atomic<UInt64>(0)

    /// A client for one org whose session lives in this process.
    ///
    /// - Parameters:
    ///   - configuration: login URL, client id and secret, API version, timeout, in-flight limit.
    ///   - credentials: how to obtain access tokens.
    ///   - token: a token already in hand (e.g. fresh from the web-server flow); saves the first token
    ///     request. Its refresh token, if any, is not used: `credentials` is.
    ///   - httpClient: the transport, shared between orgs; its owner shuts it down.
    ///   - backgroundActivityLogger: for work not tied to a call.
    ///   - onRefreshTokenRotated: receives each new refresh token when the org rotates them (awaited for at most
    ///     the configuration's request timeout).
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

    /// A client for one org whose session is shared, through `sharing`'s store, with every other client of the org
    /// (in this process and others).
    ///
    /// - Parameters:
    ///   - configuration: login URL, client id and secret, API version, timeout, in-flight limit.
    ///   - sharing: the session store, and the refresh lease's and the waits' limits.
    ///   - httpClient: the transport, shared between orgs; its owner shuts it down.
    ///   - backgroundActivityLogger: for work not tied to a call.
    public convenience init(
        configuration: SalesforceConfiguration,
        sharing: SalesforceSessionSharing,
        httpClient: HTTPClient,
        backgroundActivityLogger: Logger? = nil
    ) {
        self.init(
            configuration: configuration, sharing: sharing, transport: httpClient,
            backgroundActivityLogger: backgroundActivityLogger)
    }

    convenience init(
        configuration: SalesforceConfiguration,
        credentials: SalesforceCredentials,
        token: SalesforceToken?,
        transport: any SalesforceTransport,
        backgroundActivityLogger: Logger?,
        onRefreshTokenRotated: @escaping @Sendable (String) async -> Void
    ) {
        let local = InMemorySalesforceSessionStore(
            credentials: credentials, token: token.map { Self.normalized($0) },
            callbackTimeout: configuration.requestTimeout, onRefreshTokenRotated: onRefreshTokenRotated)
        self.init(
            configuration: configuration, sharing: SalesforceSessionSharing(store: local), local: local,
            token: token, transport: transport, backgroundActivityLogger: backgroundActivityLogger)
    }

    convenience init(
        configuration: SalesforceConfiguration,
        sharing: SalesforceSessionSharing,
        transport: any SalesforceTransport,
        backgroundActivityLogger: Logger?
    ) {
        self.init(
            configuration: configuration, sharing: sharing, local: nil, token: nil, transport: transport,
            backgroundActivityLogger: backgroundActivityLogger)
    }

    private init(
        configuration: SalesforceConfiguration,
        sharing: SalesforceSessionSharing,
        local: InMemorySalesforceSessionStore?,
        token: SalesforceToken?,
        transport: any SalesforceTransport,
        backgroundActivityLogger: Logger?
    ) {
        self.configuration = configuration
        self.transport = transport
        self.sessions = sharing.store
        self.localSessions = local
        self.storeTimeout = sharing.storeTimeout
        let lease = sharing.leaseDuration ?? configuration.requestTimeout + sharing.storeTimeout * 3
        self.leaseDuration = lease
        self.waitLimit = sharing.waitLimit ?? lease + .seconds(5)
        self.renewalsPerCall = local == nil ? 3 : 1
        self.limiter = AsyncSemaphore(permits: configuration.maxRequestsInFlight)
        self.backgroundActivityLogger = backgroundActivityLogger ?? disabledLogger
        let session = token.map { Session(accessToken: $0.accessToken, instanceURL: Self.trimmed($0.instanceURL)) }
        self.state = Mutex(State(session: session))
    }

    /// The org's API usage from the last response's `Sforce-Limit-Info` header; `nil` before the first.
    public var apiUsage: APIUsage? { state.withLock { $0.apiUsage } }

    /// How the org's answers have gone lately, as this client saw them.
    public struct Health: Sendable, Equatable {
        /// Exchanges in a row that say Salesforce itself is failing: a 5xx, a timeout, a connection refused or lost.
        /// Any other answer resets it.
        public var failuresInARow = 0
        /// Whether Salesforce answered `REQUEST_LIMIT_EXCEEDED` since its last answer that was not a failure.
        public var limitExceeded = false
        /// How many answers (of any kind, failures included) the client has had.
        public var answers = 0

        /// A record of answers.
        public init(failuresInARow: Int = 0, limitExceeded: Bool = false, answers: Int = 0) {
            self.failuresInARow = failuresInARow
            self.limitExceeded = limitExceeded
            self.answers = answers
        }
    }

    /// How the org's answers have gone lately (``Health``): what an org's circuit and budget read.
    public var health: Health { state.withLock { $0.health } }

    /// The instance URL in use; `nil` before the first token.
    public var instanceURL: String? { state.withLock { $0.session?.instanceURL } }

    /// The id of the Salesforce User the last token this client requested was issued to (the end of the token
    /// response's identity URL): the user who authorized the connection, or the client-credentials flow's run-as
    /// user. `nil` before this client requested a token (a session adopted from the store does not say).
    public var identityUserID: String? { state.withLock { $0.identityUserID } }

    /// How many token requests this client has sent (for metrics and tests).
    public var tokenRequestCount: Int { state.withLock { $0.tokenRequests } }

    /// Forgets the access token so the next call fetches a new one, and forgets a refused refresh (e.g. after an
    /// operator reconnected the org). `credentials` replace those of a client whose session lives in the process;
    /// a shared session's credentials come from its store, which the next call reads.
    public func reset(credentials: SalesforceCredentials? = nil) {
        if let localSessions {
            if let credentials { localSessions.reset(credentials: credentials) } else { localSessions.forgetSession() }
        }
        state.withLock { state in
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

        var (response, session) = try await exchangeRetryingTransients(
            method, path: path, body: body, headers: headers, operation: operation.name, logger: logger)
        var renewals = 0
        while response.status == 401 {
            var error = SalesforceError.first(status: 401, data: response.body)
            error.classification = .needsReauthentication
            // jsforce's rule: this 401 means the token can never be used for REST; a refresh would loop.
            if error.message.contains("not valid for use with the REST API")
                || error.message.contains("Connected app is not attached to Agent")
            {
                logger.debug("Salesforce session unusable for REST", metadata: ["sf-error-code": "\(error.code)"])
                throw error
            }
            guard renewals < renewalsPerCall else {
                logger.debug("Salesforce refused a refreshed session", metadata: ["sf-error-code": "\(error.code)"])
                throw error
            }
            logger.debug("Salesforce session expired", metadata: ["sf-error-code": "\(error.code)"])
            renewals += 1
            _ = try await renewSession(replacing: session.accessToken, logger: logger)
            (response, session) = try await exchangeRetryingTransients(
                method, path: path, body: body, headers: headers, operation: operation.name, logger: logger)
        }
        return response
    }

    /// ``exchange(_:path:body:headers:operation:logger:)``, sent again in place (at most
    /// ``SalesforceConfiguration/transientRetries`` times, after a short jittered pause) when the failure is
    /// transient and sending again is safe, so that one passing failure among the calls a message needs does not
    /// sink the whole attempt and repeat every lookup through a retry tier:
    /// - a 5xx answer (an HTML maintenance page included) or `UNABLE_TO_LOCK_ROW`: Salesforce did not carry the
    ///   request out;
    /// - a connection that could not be made;
    /// - a connection lost mid-answer, for requests that are safe to repeat (GET, PATCH upserts and updates,
    ///   DELETE): a POST may have been carried out, and creating twice is worse than failing the attempt.
    /// `REQUEST_LIMIT_EXCEEDED` and timeouts are not retried in place: waiting longer is their cure.
    private func exchangeRetryingTransients(
        _ method: HTTPMethod, path: String, body: Data?, headers: HTTPHeaders, operation: String, logger: Logger
    ) async throws -> (HTTPResponse, Session) {
        var retries = 0
        let backoff = Backoff(
            initial: configuration.transientRetryDelay, maximum: configuration.transientRetryDelay * 8, jitter: .equal)
        while true {
            let transient: SalesforceError
            do {
                let (response, session) = try await exchange(
                    method, path: path, body: body, headers: headers, operation: operation, logger: logger)
                guard response.status >= 500 || response.status == 400 else { return (response, session) }
                let error = SalesforceError.first(status: response.status, data: response.body)
                guard response.status >= 500 || error.code == .unableToLockRow else { return (response, session) }
                guard retries < configuration.transientRetries else { return (response, session) }
                transient = error
            } catch let error as SalesforceError {
                let repeatable = error.code == .connectFailed || (error.code == .connectionLost && method != .post)
                guard repeatable, retries < configuration.transientRetries else { throw error }
                transient = error
            }
            retries += 1
            logger.debug(
                "transient Salesforce failure; sending again",
                metadata: ["sf-error-code": "\(transient.code)", "sf-retry": "\(retries)"])
            try await Task.sleep(for: backoff.delay(attempt: retries))
        }
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
    /// that waited in line does not send a token replaced meanwhile). Records the API usage header and the
    /// exchange's metrics (``SalesforceMetrics``). Returns the response and the session it was sent with.
    private func exchange(
        _ method: HTTPMethod, path: String, body: Data?, headers: HTTPHeaders, operation: String, logger: Logger
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
            SalesforceMetrics.exchange(operation: operation, status: nil, error: mapped, since: started)
            // A request refused before it left (a bad URL) says nothing about Salesforce.
            if error.code != .invalidRequest { state.withLock { $0.health.failed() } }
            logger.debug(
                "Salesforce request failed in transport",
                metadata: ["sf-error-code": "\(mapped.code)", "sf-duration": "\(ContinuousClock.now - started)"])
            throw mapped
        }
        SalesforceMetrics.exchange(operation: operation, status: response.status, since: started)
        let limitExceeded = response.status == 403 && response.body.range(of: Data("REQUEST_LIMIT_EXCEEDED".utf8)) != nil
        state.withLock { state in
            if response.status >= 500 {
                state.health.failed()
            } else if limitExceeded {
                state.health.answers += 1
                state.health.limitExceeded = true
            } else {
                state.health.answered()
            }
        }
        var metadata: Logger.Metadata = [
            "sf-response-status": "\(response.status)", "sf-duration": "\(ContinuousClock.now - started)",
        ]
        if let header = response.headers["Sforce-Limit-Info"], let usage = APIUsage.parse(limitInfo: header) {
            state.withLock { $0.apiUsage = usage }
            SalesforceMetrics.apiUsage(usage, instanceURL: session.instanceURL)
            metadata["sf-api-usage"] = "\(usage)"
        }
        logger.debug("received Salesforce response", metadata: metadata)
        return (response, session)
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

extension SalesforceClient.Health {
    mutating func failed() {
        answers += 1
        failuresInARow += 1
    }

    mutating func answered() {
        answers += 1
        failuresInARow = 0
        limitExceeded = false
    }
}

import Timing
import Logging
import Synchronization

/// Where a ``SalesforceClient`` keeps its org's session and the credentials to renew it, so that every client of
/// the org, in every process of a fleet, uses one session and at most one of them refreshes it at a time.
///
/// The client does the choreography; an implementation only stores (the workers implement it over their state store,
/// ``InMemorySalesforceSessionStore`` keeps everything in the process). On a 401 with access token T, a client:
/// 1. reloads the stored session, and uses it when its access token is not T (someone renewed it already);
/// 2. otherwise takes the refresh lease, reloads again (someone may have renewed in between), refreshes with the
///    stored credentials, stores the new session and the rotated refresh token in one write, and releases the lease;
/// 3. while another holder has the lease, polls the store with a short backoff, for a bounded time, for the new
///    session (and takes the lease over when the holder's expires).
///
/// When the token endpoint refuses the credentials for good (`invalid_grant`), the client calls
/// ``refreshRefused(_:refreshedWith:logger:)``, which flags the connection only if those credentials are still the
/// stored ones: a refresh token another process rotated away meanwhile is not a reason to ask for a new login.
///
/// Implementations bound their own waits (a store call that hangs must throw); the client also limits each call to
/// ``SalesforceSessionSharing/storeTimeout``. Errors they throw reach the client's caller unchanged.
public protocol SalesforceSessionStore: Sendable {
    /// The newest session stored (if any) and the credentials to renew it with.
    func loadSession(logger: Logger) async throws -> StoredSalesforceSession
    /// Takes (or renews) the org's refresh lease for `ttl`; `true` when this store's owner holds it now.
    func acquireRefreshLease(ttl: Duration, logger: Logger) async throws -> Bool
    /// Gives the refresh lease up.
    func releaseRefreshLease(logger: Logger) async throws
    /// Stores what a refresh with `credentials` brought: `token`'s access token and instance URL, and its refresh
    /// token when the org rotated it, in one atomic write, and only while `credentials` are still the stored ones.
    /// Returns whether it stored (`false`: the credentials changed meanwhile, e.g. a new login).
    func saveRefreshedSession(_ token: SalesforceToken, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
    /// The token endpoint refused `credentials` for good: flags the connection for a new login when `credentials` are
    /// still the stored ones and returns `true` (the refusal stands); returns `false` when they changed meanwhile
    /// (another process rotated the refresh token, or an admin connected again), and the client starts over.
    func refreshRefused(_ error: SalesforceError, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
}

/// What a ``SalesforceSessionStore`` holds for an org.
public struct StoredSalesforceSession: Sendable, Equatable, CustomStringConvertible {
    /// The newest session anyone obtained; `nil` before the first.
    public var token: SalesforceToken?
    /// The credentials a refresh uses now (the current refresh token, or the client-credentials flow).
    public var credentials: SalesforceCredentials

    /// Creates a value.
    public init(token: SalesforceToken?, credentials: SalesforceCredentials) {
        self.token = token
        self.credentials = credentials
    }

    public var description: String {
        "StoredSalesforceSession(token: \(token.map(\.description) ?? "nil"), credentials: \(credentials))"
    }
}

/// How a client shares its org's session through a ``SalesforceSessionStore``.
public struct SalesforceSessionSharing: Sendable {
    /// Where the session lives.
    public var store: any SalesforceSessionStore
    /// How long a refresh lease lasts: longer than a token request (``SalesforceConfiguration/requestTimeout``) and
    /// the store writes after it, so that it never expires under a live holder; a crashed holder's lease is taken
    /// over once it expires. `nil`: the configuration's request timeout plus three store timeouts.
    public var leaseDuration: Duration?
    /// How long a client waits for another holder's refresh before failing the call (retryable). `nil`: the lease
    /// duration plus five seconds, so that a waiter outlives a crashed holder's lease and takes over.
    public var waitLimit: Duration?
    /// The limit of each call on ``store``.
    public var storeTimeout: Duration

    /// Sharing through `store`.
    public init(
        store: any SalesforceSessionStore, leaseDuration: Duration? = nil, waitLimit: Duration? = nil,
        storeTimeout: Duration = .seconds(10)
    ) {
        self.store = store
        self.leaseDuration = leaseDuration
        self.waitLimit = waitLimit
        self.storeTimeout = storeTimeout
    }
}

/// A ``SalesforceSessionStore`` that keeps the session in the process: what a client without a shared store uses.
/// Its lease is always granted (the client's own single flight already serialises refreshes), and a rotated refresh
/// token is handed to `onRefreshTokenRotated` (awaited, for at most `callbackTimeout`).
public final class InMemorySalesforceSessionStore: SalesforceSessionStore {
    private let state: Mutex<StoredSalesforceSession>
    private let onRefreshTokenRotated: @Sendable (String) async -> Void
    private let callbackTimeout: Duration

    /// A store holding `credentials` and, optionally, a token already in hand.
    public init(
        credentials: SalesforceCredentials, token: SalesforceToken? = nil, callbackTimeout: Duration = .seconds(10),
        onRefreshTokenRotated: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.state = Mutex(StoredSalesforceSession(token: token, credentials: credentials))
        self.onRefreshTokenRotated = onRefreshTokenRotated
        self.callbackTimeout = callbackTimeout
    }

    /// Replaces the credentials (an operator reconnected the org) and forgets the session.
    public func reset(credentials: SalesforceCredentials) {
        state.withLock { $0 = StoredSalesforceSession(token: nil, credentials: credentials) }
    }

    /// Forgets the session, keeping the credentials.
    public func forgetSession() {
        state.withLock { $0.token = nil }
    }

    public func loadSession(logger: Logger) async throws -> StoredSalesforceSession {
        state.withLock { $0 }
    }

    public func acquireRefreshLease(ttl: Duration, logger: Logger) async throws -> Bool { true }

    public func releaseRefreshLease(logger: Logger) async throws {}

    public func saveRefreshedSession(
        _ token: SalesforceToken, refreshedWith credentials: SalesforceCredentials, logger: Logger
    ) async throws -> Bool {
        let rotated: String? = {
            if case .refreshToken(let old) = credentials, let new = token.refreshToken, new != old { return new }
            return nil
        }()
        let saved = state.withLock { state -> Bool in
            guard state.credentials == credentials else { return false }
            state.token = token
            if let rotated { state.credentials = .refreshToken(rotated) }
            return true
        }
        if saved, let rotated {
            let callback = onRefreshTokenRotated
            let finished = await withTimeLimit(callbackTimeout) { await callback(rotated) }
            if !finished {
                logger.debug("Salesforce refresh token callback timed out")
            }
        }
        return saved
    }

    public func refreshRefused(
        _ error: SalesforceError, refreshedWith credentials: SalesforceCredentials, logger: Logger
    ) async throws -> Bool {
        state.withLock { $0.credentials == credentials }
    }
}

/// Runs `body` for at most `limit`; returns whether it finished (an unfinished `body` is cancelled and left to end
/// in the background).
func withTimeLimit(_ limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    do {
        try await withThrowingTimeLimit(limit, what: "") {
            await body()
        }
        return true
    } catch {
        return false
    }
}

/// Runs `body` for at most `limit`; throws a retryable `CLIENT_TIMEOUT` ``SalesforceError`` naming `what` when the
/// limit passes first, or `CancellationError` when the caller is cancelled: ``withTimeLimit(_:timeout:_:)``.
func withThrowingTimeLimit<T: Sendable>(
    _ limit: Duration, what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withTimeLimit(limit, timeout: { SalesforceError.timedOut("\(what) took longer than \(limit)") }, body)
}

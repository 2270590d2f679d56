import Foundation
import HTTP
import Logging
import Synchronization
import Timing

/// The client's session: the access token it sends, renewed once per 401 across the fleet through its
/// ``SalesforceSessionStore`` (adopt the stored one, or refresh under the lease, or wait for the holder).
extension SalesforceClient {
    // MARK: - Tokens

    /// The session to send with: the cached one, or, while a refresh is in flight (someone just met a 401
    /// with the cached token), the refresh's result; the first call fetches one.
    func currentSession(logger: Logger) async throws -> Session {
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
    func renewSession(replacing stale: String?, logger: Logger) async throws -> Session {
        enum Next {
            case ready(Session)
            case wait(Task<Session, any Error>)
        }
        let next = try state.withLock { state throws(SalesforceError) -> Next in
            if let error = state.reauthentication { throw error }
            if let session = state.session, session.accessToken != stale { return .ready(session) }
            if let refresh = state.refresh { return .wait(refresh) }
            let refresh = Task { try await self.requestSession(replacing: stale, logger: logger) }
            state.refresh = refresh
            return .wait(refresh)
        }
        switch next {
        case .ready(let session): return session
        case .wait(let refresh): return try await refresh.value
        }
    }

    /// The renewal behind a refresh, in its own task so that a waiter's cancellation does not fail the renewal the
    /// other waiters depend on. Returns a session whose token is not `stale`: the stored one when someone else
    /// renewed it, or a new one from a token request made under the store's refresh lease.
    func requestSession(replacing stale: String?, logger: Logger) async throws -> Session {
        do {
            let session = try await obtainSession(replacing: stale, logger: logger)
            state.withLock { state in
                state.session = session
                state.refresh = nil
            }
            return session
        } catch let error as SalesforceError where error.classification == .needsReauthentication {
            state.withLock { state in
                state.refresh = nil
                state.reauthentication = error
                state.session = nil
            }
            throw error
        } catch {
            state.withLock { $0.refresh = nil }
            throw error
        }
    }

    /// Between attempts to store a refreshed session (a store blip must not lose the refresh).
    static let storeRetryBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(400), jitter: .equal)

    /// Adopts the stored session, or refreshes under the lease, or waits for the lease's holder; bounded by
    /// `waitLimit`.
    func obtainSession(replacing stale: String?, logger: Logger) async throws -> Session {
        let deadline = ContinuousClock.now + waitLimit
        let backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500), jitter: .none)
        var waits = 0
        var refusalsOvercome = 0
        while true {
            let stored = try await store("reading the Salesforce session") { [sessions] in
                try await sessions.loadSession(logger: logger)
            }
            if let session = Self.adoptable(stored, replacing: stale) {
                logger.debug("Salesforce session adopted from the store")
                return session
            }
            let leased = try await store("taking the Salesforce refresh lease") { [sessions, leaseDuration] in
                try await sessions.acquireRefreshLease(ttl: leaseDuration, logger: logger)
            }
            if leased {
                let outcome: Session?
                do {
                    outcome = try await refreshHoldingLease(replacing: stale, logger: logger)
                } catch {
                    await releaseLease(logger: logger)
                    throw error
                }
                await releaseLease(logger: logger)
                if let outcome { return outcome }
                // The credentials changed while the refresh was refused: start over with the new ones, a few times.
                refusalsOvercome += 1
                guard refusalsOvercome < 3 else {
                    throw SalesforceError.timedOut("the org's stored credentials kept changing during token refreshes")
                }
                continue
            }
            waits += 1
            let pause = backoff.delay(attempt: waits)
            guard ContinuousClock.now + pause < deadline else {
                logger.debug("Salesforce refresh by another holder did not finish in time")
                throw SalesforceError.timedOut(
                    "another worker's refresh of the org's session did not finish within \(waitLimit)")
            }
            logger.trace("waiting for another holder's Salesforce refresh")
            try await Task.sleep(for: pause)
        }
    }

    /// The stored session, when its token is usable in place of `stale`.
    static func adoptable(_ stored: StoredSalesforceSession, replacing stale: String?) -> Session? {
        guard let token = stored.token, token.accessToken != stale else { return nil }
        return Session(accessToken: token.accessToken, instanceURL: trimmed(token.instanceURL))
    }

    /// Under the refresh lease: reads the store again (someone may have renewed since), then requests a token with
    /// the stored credentials and stores the result. Returns `nil` when the token endpoint refused credentials that
    /// are no longer the stored ones (the caller starts over).
    func refreshHoldingLease(replacing stale: String?, logger: Logger) async throws -> Session? {
        let stored = try await store("reading the Salesforce session") { [sessions] in
            try await sessions.loadSession(logger: logger)
        }
        if let session = Self.adoptable(stored, replacing: stale) {
            logger.debug("Salesforce session adopted from the store")
            return session
        }
        let credentials = stored.credentials
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

        state.withLock { $0.tokenRequests += 1 }
        let token: SalesforceToken
        do {
            token = try await TokenEndpoint.request(
                form: form, grant: grant, configuration: configuration, transport: transport, logger: logger)
            SalesforceMetrics.refresh(.ok)
        } catch let error as SalesforceError where error.classification == .needsReauthentication {
            SalesforceMetrics.refresh(.refused)
            let stands = try await store("reporting a refused Salesforce refresh") { [sessions] in
                try await sessions.refreshRefused(error, refreshedWith: credentials, logger: logger)
            }
            guard stands else {
                logger.debug("Salesforce credentials changed during a refused refresh")
                return nil
            }
            throw error
        } catch {
            if !(error is CancellationError) { SalesforceMetrics.refresh(.error) }
            throw error
        }
        if let userID = token.userID { state.withLock { $0.identityUserID = userID } }
        if case .refreshToken(let old) = credentials, let new = token.refreshToken, new != old {
            logger.debug("Salesforce refresh token rotated")
        }
        // A rotated refresh token exists only in this response until it is stored: a store blip gets a few tries.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let saved = try await store("storing the Salesforce session") { [sessions] in
                    try await sessions.saveRefreshedSession(token, refreshedWith: credentials, logger: logger)
                }
                if !saved { logger.debug("Salesforce credentials changed during a refresh; session not stored") }
                break
            } catch {
                guard attempt < 3 else { throw error }
                try await Task.sleep(for: Self.storeRetryBackoff.delay(attempt: attempt))
            }
        }
        return Session(accessToken: token.accessToken, instanceURL: Self.trimmed(token.instanceURL))
    }

    func releaseLease(logger: Logger) async {
        do {
            try await store("releasing the Salesforce refresh lease") { [sessions] in
                try await sessions.releaseRefreshLease(logger: logger)
            }
        } catch {
            // The lease expires on its own.
            logger.debug("Salesforce refresh lease not released", metadata: ["sf-error": "\(error)"])
        }
    }

    /// One call on the session store, limited to `storeTimeout`.
    func store<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTimeLimit(storeTimeout, what: what, body)
    }

    static func normalized(_ token: SalesforceToken) -> SalesforceToken {
        var token = token
        token.instanceURL = trimmed(token.instanceURL)
        return token
    }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

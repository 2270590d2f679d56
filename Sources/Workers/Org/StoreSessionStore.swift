import Foundation
import Jobs
import Logging
import Salesforce
import Store
import Synchronization

/// The refresh token a process last saw stored, shared between a team's session store and the cache.
final class TokenBox: Sendable {
    let value: Mutex<String?>
    init(_ value: String?) { self.value = Mutex(value) }
}

/// One team's Salesforce session in the state store, shared by every worker process (the `SalesforceSessionStore`
/// the team's client renews its session through):
/// - the session is the connection's sealed access token and instance URL (``SyncStore/connection(teamID:)``);
/// - the refresh lease is the claim `refresh:<team>`, held by ``SalesforceClients/leaseOwner``;
/// - a refresh's result is stored with ``SyncStore/saveSession(teamID:_:refreshedWith:rotatedTo:)`` (the new access
///   token and the rotated refresh token in one write, only while the refresh token used is still stored);
/// - a refusal flags the connection with ``SyncStore/markNeedsReauthentication(teamID:reason:refreshToken:)``, only
///   while the refused refresh token is still stored.
struct StoreSessionStore: SalesforceSessionStore {
    let teamID: String
    let store: any SyncStore
    let owner: String
    /// The refresh token last seen stored, kept current so that ``SalesforceClients`` does not take this process's own
    /// rotation for someone else's.
    let known: TokenBox
    let logger: Logger

    var leaseKey: String { "refresh:\(teamID)" }

    func loadSession(logger: Logger) async throws -> StoredSalesforceSession {
        guard let connection = try await store.connection(teamID: teamID) else {
            throw WorkFailure.teamNotConnected(teamID)
        }
        if connection.needsReauthentication {
            throw WorkFailure.needsLogin(teamID, reason: connection.reauthenticationReason)
        }
        known.value.withLock { $0 = connection.refreshToken }
        return StoredSalesforceSession(
            token: connection.session.map { SalesforceToken(accessToken: $0.accessToken, instanceURL: $0.instanceURL) },
            credentials: connection.refreshToken.map { .refreshToken($0) } ?? .clientCredentials)
    }

    func acquireRefreshLease(ttl: Duration, logger: Logger) async throws -> Bool {
        try await store.claim(key: leaseKey, owner: owner, ttl: ttl)
    }

    func releaseRefreshLease(logger: Logger) async throws {
        try await store.release(key: leaseKey, owner: owner)
    }

    func saveRefreshedSession(_ token: SalesforceToken, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
    {
        let used = Self.refreshToken(credentials)
        // A client-credentials connection keeps none, whatever the response carries.
        let rotated = used != nil && token.refreshToken != nil && token.refreshToken != used ? token.refreshToken : nil
        let saved = try await store.saveSession(
            teamID: teamID, SalesforceSession(accessToken: token.accessToken, instanceURL: token.instanceURL),
            refreshedWith: used, rotatedTo: rotated)
        if saved, let rotated {
            known.value.withLock { $0 = rotated }
            logger.debug("stored the org's rotated refresh token", metadata: ["docsend-team": "\(teamID)"])
        }
        return saved
    }

    func refreshRefused(_ error: SalesforceError, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
    {
        let flagged = try await store.markNeedsReauthentication(
            teamID: teamID, reason: error.description, refreshToken: Self.refreshToken(credentials))
        if flagged {
            self.logger.error(
                "the team's Salesforce connection needs a new login", metadata: ["docsend-team": "\(teamID)", "docsend-error": "\(error)"])
        }
        return flagged
    }

    private static func refreshToken(_ credentials: SalesforceCredentials) -> String? {
        if case .refreshToken(let token) = credentials { return token }
        return nil
    }
}

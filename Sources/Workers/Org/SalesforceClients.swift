import Foundation
import HTTP
import Jobs
import Logging
import Salesforce
import Store
import Synchronization

/// Every team's Salesforce client in this process, made from the team's stored connection and kept.
///
/// - Their session is the fleet's (``StoreSessionStore``): the newest access token lives in the store, one process
///   at a time refreshes it under the `refresh:<team>` lease, and the rotated refresh token is stored with the new
///   access token in one write.
/// - A connection flagged as needing a new login fails fast. A refusal from Salesforce flags it only while the
///   refresh token it refused is still the stored one: a token another process rotated away is no reason for a
///   new login.
public final class SalesforceClients: Sendable {
    private struct Entry {
        var client: SalesforceClient
        var connectionKey: String
        /// The refresh token this process last saw stored (nil: client credentials).
        var refreshToken: TokenBox
    }

    let store: any SyncStore
    let app: SalesforceAppSettings
    let http: HTTPClient
    let logger: Logger
    /// Names this process as the holder of a refresh lease.
    let leaseOwner = "\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString)"
    private let entries = Mutex<[String: Entry]>([:])

    /// Clients for `store`'s connections, through `http`.
    public init(store: any SyncStore, app: SalesforceAppSettings, http: HTTPClient, logger: Logger) {
        self.store = store
        self.app = app
        self.http = http
        self.logger = logger
    }

    /// The team's client, made (or re-made) from its stored connection.
    func client(teamID: String) async throws -> SalesforceClient {
        try await connected(teamID: teamID).client
    }

    /// The team's client (``client(teamID:)``) and the stored connection it was made from.
    func connected(teamID: String) async throws -> (client: SalesforceClient, connection: SalesforceConnection) {
        guard let connection = try await store.connection(teamID: teamID) else {
            throw WorkFailure.teamNotConnected(teamID)
        }
        if connection.needsReauthentication {
            throw WorkFailure.needsLogin(teamID, reason: connection.reauthenticationReason)
        }
        let key = [connection.instanceURL, connection.loginURL, connection.clientID].joined(separator: "\n")
        let client = entries.withLock { entries in
            if let entry = entries[teamID], entry.connectionKey == key {
                let known = entry.refreshToken.value.withLock { $0 }
                if known != connection.refreshToken {
                    // Another process rotated the token, or an admin connected again: forget the cached session (and
                    // a refusal of the old token); the client reads the stored one on its next call.
                    entry.refreshToken.value.withLock { $0 = connection.refreshToken }
                    entry.client.reset()
                }
                return entry.client
            }
            let entry = makeEntry(connection, key: key)
            entries[teamID] = entry
            return entry.client
        }
        return (client, connection)
    }

    private func makeEntry(_ connection: SalesforceConnection, key: String) -> Entry {
        let known = TokenBox(connection.refreshToken)
        let configuration = app.clientConfiguration(loginURL: connection.loginURL, clientID: connection.clientID)
        let sessions = StoreSessionStore(
            teamID: connection.teamID, store: store, owner: leaseOwner, known: known, logger: logger)
        let client = SalesforceClient(
            configuration: configuration, sharing: SalesforceSessionSharing(store: sessions), httpClient: http,
            backgroundActivityLogger: logger)
        return Entry(client: client, connectionKey: key, refreshToken: known)
    }

    /// Flags the team's connection for a new login after Salesforce refused it, only while the refresh token this
    /// process last saw is still stored: if another process rotated it or an admin connected again meanwhile, the
    /// refusal is about a token nobody uses any more.
    func refused(_ error: SalesforceError, teamID: String) async {
        let entry = entries.withLock { $0.removeValue(forKey: teamID) }
        guard let entry else { return }
        let refreshToken = entry.refreshToken.value.withLock { $0 }
        let flagged = try? await store.markNeedsReauthentication(
            teamID: teamID, reason: error.description, refreshToken: refreshToken)
        if flagged == true {
            logger.error(
                "the team's Salesforce connection needs a new login",
                metadata: ["docsend-team": "\(teamID)", "docsend-error": "\(error)"])
        } else {
            logger.notice(
                "Salesforce refused a superseded token; the connection stays",
                metadata: ["docsend-team": "\(teamID)", "docsend-error": "\(error)"])
        }
    }
}

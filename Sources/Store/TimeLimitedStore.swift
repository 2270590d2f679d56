import Timing
import Foundation
import Synchronization

/// A ``SyncStore`` whose every call answers within a time limit: a call the database has not answered by then
/// throws ``StoreError/Code/timedOut`` (which the workers retry), so that a stuck database (a lock held by a crashed
/// process, a PostgreSQL server that stopped answering) cannot stall a worker forever. ``openStore(url:encryptionKey:timeout:logger:)``
/// wraps the store it opens in one.
///
/// The call the limit abandons is cancelled but may still complete in the background (a SQLite statement already
/// queued on its connection runs to the end): every write the workers make is idempotent or a compare-and-swap, so
/// the retry that follows is safe.
public struct TimeLimitedStore: SyncStore {
    /// The store that does the work.
    public let base: any SyncStore
    /// How long one call may take.
    public let timeout: Duration

    /// `base`, with every call limited to `timeout`.
    public init(_ base: any SyncStore, timeout: Duration) {
        self.base = base
        self.timeout = timeout
    }

    private func limited<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SyncStore) async throws -> T
    ) async throws -> T {
        let base = self.base
        return try await withStoreTimeLimit(self.timeout, what) { try await body(base) }
    }

    public func teamSettings(teamID: String) async throws -> StoredTeamSettings? {
        try await limited("reading team settings") { try await $0.teamSettings(teamID: teamID) }
    }

    public func saveTeamSettings(teamID: String, json: Data) async throws {
        try await limited("saving team settings") { try await $0.saveTeamSettings(teamID: teamID, json: json) }
    }

    public func connection(teamID: String) async throws -> SalesforceConnection? {
        try await limited("reading a Salesforce connection") { try await $0.connection(teamID: teamID) }
    }

    public func saveConnection(_ connection: SalesforceConnection) async throws {
        try await limited("saving a Salesforce connection") { try await $0.saveConnection(connection) }
    }

    public func rotateRefreshToken(teamID: String, old: String, new: String) async throws -> Bool {
        try await limited("rotating a refresh token") { try await $0.rotateRefreshToken(teamID: teamID, old: old, new: new) }
    }

    public func markNeedsReauthentication(teamID: String, reason: String) async throws -> Bool {
        try await limited("flagging a connection") { try await $0.markNeedsReauthentication(teamID: teamID, reason: reason) }
    }

    public func markNeedsReauthentication(teamID: String, reason: String, refreshToken: String?) async throws -> Bool {
        try await limited("flagging a connection") {
            try await $0.markNeedsReauthentication(teamID: teamID, reason: reason, refreshToken: refreshToken)
        }
    }

    public func teamsNeedingLogin() async throws -> [TeamNeedingLogin] {
        try await limited("listing the teams needing a login") { try await $0.teamsNeedingLogin() }
    }

    public func saveSession(
        teamID: String, _ session: SalesforceSession, refreshedWith: String?, rotatedTo: String?
    ) async throws -> Bool {
        try await limited("saving the shared Salesforce session") {
            try await $0.saveSession(teamID: teamID, session, refreshedWith: refreshedWith, rotatedTo: rotatedTo)
        }
    }

    public func accountLink(teamID: String, docSendAccountID: String) async throws -> String? {
        try await limited("reading an account link") {
            try await $0.accountLink(teamID: teamID, docSendAccountID: docSendAccountID)
        }
    }

    public func saveAccountLink(teamID: String, docSendAccountID: String, salesforceAccountID: String) async throws {
        try await limited("saving an account link") {
            try await $0.saveAccountLink(
                teamID: teamID, docSendAccountID: docSendAccountID, salesforceAccountID: salesforceAccountID)
        }
    }

    public func loadState(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> StateRecord? {
        try await limited("reading sync state") { try await $0.loadState(teamID: teamID, kind: kind, objectID: objectID) }
    }

    public func saveState(
        teamID: String, kind: SyncObjectKind, objectID: String, state: Data, expectedVersion: Int64?
    ) async throws -> Int64 {
        try await limited("saving sync state") {
            try await $0.saveState(
                teamID: teamID, kind: kind, objectID: objectID, state: state, expectedVersion: expectedVersion)
        }
    }

    public func ledgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> LedgerEntry? {
        try await limited("reading the ledger") { try await $0.ledgerEntry(teamID: teamID, kind: kind, objectID: objectID) }
    }

    public func recordLedgerEntry(
        teamID: String, kind: SyncObjectKind, objectID: String, salesforceType: String, salesforceID: String
    ) async throws -> LedgerEntry {
        try await limited("recording a ledger entry") {
            try await $0.recordLedgerEntry(
                teamID: teamID, kind: kind, objectID: objectID, salesforceType: salesforceType,
                salesforceID: salesforceID)
        }
    }

    public func claim(key: String, owner: String, ttl: Duration) async throws -> Bool {
        try await limited("claiming a lease") { try await $0.claim(key: key, owner: owner, ttl: ttl) }
    }

    public func release(key: String, owner: String) async throws -> Bool {
        try await limited("releasing a lease") { try await $0.release(key: key, owner: owner) }
    }

    /// Runs the base store (`Service`), without a limit: it serves until graceful shutdown.
    public func run() async throws {
        try await self.base.run()
    }

    /// Closes the base store, without a limit: it waits for the calls still running on it.
    public func close() async throws {
        try await self.base.close()
    }
}

/// Runs `body`, and throws ``StoreError/Code/timedOut`` if it has not finished within `limit` (or
/// `CancellationError` when the caller is cancelled first): ``withTimeLimit(_:timeout:_:)``.
func withStoreTimeLimit<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withTimeLimit(limit, timeout: { StoreError(.timedOut, "\(what) took longer than the store's limit of \(limit)") }, body)
}

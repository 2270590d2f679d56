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

    /// Runs `body` on the base store within the limit (`what` names the call in the timeout's message) and records
    /// `docsend_sync_store_call_duration_seconds{operation, outcome}` (``StoreMetrics``) for the calling method.
    private func limited<T: Sendable>(
        _ what: String, function: String = #function, _ body: @escaping @Sendable (any SyncStore) async throws -> T
    ) async throws -> T {
        let base = self.base
        let started = ContinuousClock.now
        do {
            let result = try await withStoreTimeLimit(self.timeout, what) { try await body(base) }
            StoreMetrics.call(function, outcome: .ok, since: started)
            return result
        } catch let error as StoreError where error.code == .timedOut {
            StoreMetrics.call(function, outcome: .timeout, since: started)
            throw error
        } catch {
            StoreMetrics.call(function, outcome: .error, since: started)
            throw error
        }
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

    public func pruneStates(kinds: [SyncObjectKind], unchangedFor age: Duration, limit: Int) async throws -> Int {
        try await limited("pruning sync states") { try await $0.pruneStates(kinds: kinds, unchangedFor: age, limit: limit) }
    }

    public func pruneLedger(olderThan age: Duration, limit: Int) async throws -> Int {
        try await limited("pruning the ledger") { try await $0.pruneLedger(olderThan: age, limit: limit) }
    }

    public func pruneClaims(expiredFor age: Duration, limit: Int) async throws -> Int {
        try await limited("pruning expired leases") { try await $0.pruneClaims(expiredFor: age, limit: limit) }
    }

    public func statesContaining(teamID: String, text: String, after cursor: StateKey?, limit: Int) async throws
        -> [ObjectState]
    {
        try await limited("searching sync states") {
            try await $0.statesContaining(teamID: teamID, text: text, after: cursor, limit: limit)
        }
    }

    public func deleteState(teamID: String, kind: SyncObjectKind, objectID: String, expectedVersion: Int64) async throws
        -> Bool
    {
        try await limited("deleting a sync state") {
            try await $0.deleteState(teamID: teamID, kind: kind, objectID: objectID, expectedVersion: expectedVersion)
        }
    }

    public func deleteLedgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> Bool {
        try await limited("deleting a ledger entry") {
            try await $0.deleteLedgerEntry(teamID: teamID, kind: kind, objectID: objectID)
        }
    }

    public func deleteClaim(key: String) async throws -> Bool {
        try await limited("deleting a lease") { try await $0.deleteClaim(key: key) }
    }

    public func replaceLedgerEntry(
        teamID: String, kind: SyncObjectKind, objectID: String, salesforceType: String, salesforceID: String,
        replacing: String
    ) async throws -> LedgerEntry {
        try await limited("replacing a ledger entry") {
            try await $0.replaceLedgerEntry(
                teamID: teamID, kind: kind, objectID: objectID, salesforceType: salesforceType,
                salesforceID: salesforceID, replacing: replacing)
        }
    }

    public func claim(key: String, owner: String, ttl: Duration) async throws -> Bool {
        try await limited("claiming a lease") { try await $0.claim(key: key, owner: owner, ttl: ttl) }
    }

    public func release(key: String, owner: String) async throws -> Bool {
        try await limited("releasing a lease") { try await $0.release(key: key, owner: owner) }
    }

    public func deleteConnection(teamID: String) async throws -> Bool {
        try await limited("deleting a connection") { try await $0.deleteConnection(teamID: teamID) }
    }

    public func clearOrgState(teamID: String) async throws -> ClearedOrgState {
        try await limited("clearing a team's org state") { try await $0.clearOrgState(teamID: teamID) }
    }

    public func accountLinks(teamID: String) async throws -> [AccountLink] {
        try await limited("listing account links") { try await $0.accountLinks(teamID: teamID) }
    }

    public func deleteAccountLink(teamID: String, docSendAccountID: String) async throws -> Bool {
        try await limited("deleting an account link") {
            try await $0.deleteAccountLink(teamID: teamID, docSendAccountID: docSendAccountID)
        }
    }

    public func recentLedgerEntries(teamID: String, limit: Int) async throws -> [LedgerEntry] {
        try await limited("reading the recent ledger") { try await $0.recentLedgerEntries(teamID: teamID, limit: limit) }
    }

    public func recordAudit(_ entry: AuditEntry) async throws {
        try await limited("recording an audit entry") { try await $0.recordAudit(entry) }
    }

    public func auditEntries(teamID: String, limit: Int) async throws -> [AuditEntry] {
        try await limited("reading the audit trail") { try await $0.auditEntries(teamID: teamID, limit: limit) }
    }

    public func saveOAuthFlow(_ flow: OAuthFlow) async throws {
        try await limited("saving an OAuth flow") { try await $0.saveOAuthFlow(flow) }
    }

    public func takeOAuthFlow(id: String) async throws -> OAuthFlow? {
        try await limited("taking an OAuth flow") { try await $0.takeOAuthFlow(id: id) }
    }

    public func teamOrg(teamID: String) async throws -> TeamOrg? {
        try await limited("reading a team's org") { try await $0.teamOrg(teamID: teamID) }
    }

    public func saveTeamOrg(_ org: TeamOrg) async throws {
        try await limited("saving a team's org") { try await $0.saveTeamOrg(org) }
    }

    public func saveOrgPause(_ pause: OrgPause) async throws {
        try await limited("saving an org pause") { try await $0.saveOrgPause(pause) }
    }

    public func deleteOrgPause(teamID: String, process: String) async throws {
        try await limited("deleting an org pause") { try await $0.deleteOrgPause(teamID: teamID, process: process) }
    }

    public func orgPauses() async throws -> [OrgPause] {
        try await limited("reading org pauses") { try await $0.orgPauses() }
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

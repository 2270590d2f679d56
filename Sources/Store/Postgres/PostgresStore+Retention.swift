import Foundation
import PostgresNIO

// Retention and erasure on PostgreSQL (schema version 8). A bounded delete locks its rows with `FOR UPDATE SKIP
// LOCKED` in the subquery that picks them: passes of several processes at once each take rows the others have not
// locked (none waits, none counts a row twice), and a row a worker is saving is skipped, then re-checked against the
// age once its lock is free (read committed re-evaluates the locked row), so a state saved meanwhile stays.
extension PostgresStore {
    public func pruneStates(kinds: [SyncObjectKind], unchangedFor age: Duration, limit: Int) async throws -> Int {
        guard !kinds.isEmpty, limit > 0 else { return 0 }
        let names = kinds.map(\.rawValue)
        return try await self.count(
            """
            DELETE FROM sync_state WHERE ctid IN (
                SELECT ctid FROM sync_state
                WHERE object_kind = ANY(\(names)) AND updated_at <= now() - make_interval(secs => \(age.retentionSeconds))
                ORDER BY updated_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """,
            "pruning sync states"
        )
    }

    public func pruneLedger(olderThan age: Duration, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await self.count(
            """
            DELETE FROM ledger WHERE ctid IN (
                SELECT ctid FROM ledger WHERE created_at <= now() - make_interval(secs => \(age.retentionSeconds))
                ORDER BY created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """,
            "pruning the ledger"
        )
    }

    public func pruneClaims(expiredFor age: Duration, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await self.count(
            """
            DELETE FROM claims WHERE ctid IN (
                SELECT ctid FROM claims WHERE expires_at <= clock_timestamp() - make_interval(secs => \(age.retentionSeconds))
                ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """,
            "pruning expired leases"
        )
    }

    public func statesContaining(teamID: String, text: String, after cursor: StateKey?, limit: Int) async throws
        -> [ObjectState]
    {
        guard limit > 0 else { return [] }
        let pattern = likePattern(containing: text)
        let kind = cursor?.kind.rawValue ?? ""
        let objectID = cursor?.objectID ?? ""
        // ILIKE's escape character is `\` by default; "C" ordering keeps the cursor bytewise whatever the collation.
        return try await self.rows(
            """
            SELECT object_kind, object_id, state::text, version, updated_at FROM sync_state
            WHERE team_id = \(teamID)
              AND (object_kind COLLATE "C", object_id COLLATE "C") > (\(kind) COLLATE "C", \(objectID) COLLATE "C")
              AND state::text ILIKE \(pattern)
            ORDER BY object_kind COLLATE "C", object_id COLLATE "C" LIMIT \(limit)
            """,
            "searching sync states"
        ) { row in
            let (kind, objectID, state, version, updatedAt) = try row.decode((String, String, String, Int64, Date).self)
            return ObjectState(
                key: StateKey(kind: SyncObjectKind(rawValue: kind), objectID: objectID),
                record: StateRecord(state: Data(state.utf8), version: version, updatedAt: updatedAt))
        }
    }

    public func deleteState(teamID: String, kind: SyncObjectKind, objectID: String, expectedVersion: Int64) async throws
        -> Bool
    {
        try await self.count(
            """
            DELETE FROM sync_state
            WHERE team_id = \(teamID) AND object_kind = \(kind.rawValue) AND object_id = \(objectID)
              AND version = \(expectedVersion)
            RETURNING 1
            """,
            "deleting a sync state"
        ) == 1
    }

    public func deleteLedgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> Bool {
        try await self.count(
            """
            DELETE FROM ledger WHERE team_id = \(teamID) AND object_kind = \(kind.rawValue) AND object_id = \(objectID)
            RETURNING 1
            """,
            "deleting a ledger entry"
        ) == 1
    }

    public func deleteClaim(key: String) async throws -> Bool {
        try await self.count("DELETE FROM claims WHERE key = \(key) RETURNING 1", "deleting a lease") == 1
    }
}

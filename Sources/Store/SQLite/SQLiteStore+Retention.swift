import Foundation

// Retention and erasure on SQLite (schema version 8). Each bounded delete is one statement over a `LIMIT`ed rowid
// subquery: SQLite runs one writer at a time, so passes of several processes take turns and never count a row twice.
extension SQLiteStore {
    public func pruneStates(kinds: [SyncObjectKind], unchangedFor age: Duration, limit: Int) async throws -> Int {
        guard !kinds.isEmpty, limit > 0 else { return 0 }
        let kindsJSON = try Self.jsonArray(kinds.map(\.rawValue))
        return try await self.connection.run { db in
            // The cutoff is read once the connection's queue runs this, like every other store time.
            try db.query(
                """
                DELETE FROM sync_state WHERE rowid IN (
                    SELECT rowid FROM sync_state
                    WHERE object_kind IN (SELECT value FROM json_each(?1)) AND updated_at <= ?2
                    ORDER BY updated_at LIMIT ?3)
                """,
                [.text(kindsJSON), .integer(Self.now() - age.retentionMilliseconds), .integer(Int64(limit))]
            )
            return db.changes
        }
    }

    public func pruneLedger(olderThan age: Duration, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await self.connection.run { db in
            try db.query(
                """
                DELETE FROM ledger WHERE rowid IN (
                    SELECT rowid FROM ledger WHERE created_at <= ?1 ORDER BY created_at LIMIT ?2)
                """,
                [.integer(Self.now() - age.retentionMilliseconds), .integer(Int64(limit))]
            )
            return db.changes
        }
    }

    public func pruneClaims(expiredFor age: Duration, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await self.connection.run { db in
            try db.query(
                """
                DELETE FROM claims WHERE rowid IN (
                    SELECT rowid FROM claims WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)
                """,
                [.integer(Self.now() - age.retentionMilliseconds), .integer(Int64(limit))]
            )
            return db.changes
        }
    }

    public func statesContaining(teamID: String, text: String, after cursor: StateKey?, limit: Int) async throws
        -> [ObjectState]
    {
        guard limit > 0 else { return [] }
        // LIKE ignores the case of ASCII letters (unless `case_sensitive_like` is on, which this store never sets).
        let pattern = likePattern(containing: text)
        return try await self.connection.run { db in
            try db.query(
                """
                SELECT object_kind, object_id, state, version, updated_at FROM sync_state
                WHERE team_id = ?1 AND (object_kind, object_id) > (?2, ?3) AND state LIKE ?4 ESCAPE '\\'
                ORDER BY object_kind, object_id LIMIT ?5
                """,
                [.text(teamID), .text(cursor?.kind.rawValue ?? ""), .text(cursor?.objectID ?? ""), .text(pattern),
                 .integer(Int64(limit))]
            ).map { row in
                ObjectState(
                    key: StateKey(kind: SyncObjectKind(rawValue: row[0].text ?? ""), objectID: row[1].text ?? ""),
                    record: StateRecord(
                        state: Data(row[2].blob ?? []), version: row[3].integer ?? 0, updatedAt: Self.date(row[4])))
            }
        }
    }

    public func deleteState(teamID: String, kind: SyncObjectKind, objectID: String, expectedVersion: Int64) async throws
        -> Bool
    {
        try await self.connection.run { db in
            try db.query(
                "DELETE FROM sync_state WHERE team_id = ?1 AND object_kind = ?2 AND object_id = ?3 AND version = ?4",
                [.text(teamID), .text(kind.rawValue), .text(objectID), .integer(expectedVersion)]
            )
            return db.changes == 1
        }
    }

    public func deleteLedgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query(
                "DELETE FROM ledger WHERE team_id = ?1 AND object_kind = ?2 AND object_id = ?3",
                [.text(teamID), .text(kind.rawValue), .text(objectID)]
            )
            return db.changes == 1
        }
    }

    public func deleteClaim(key: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query("DELETE FROM claims WHERE key = ?1", [.text(key)])
            return db.changes == 1
        }
    }

    private static func jsonArray(_ values: [String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: values), as: UTF8.self)
    }
}

import Foundation

// The `SyncStore` operations on SQLite: each runs on the connection's queue, one statement or one transaction.
extension SQLiteStore {
    // MARK: Team settings

    public func teamSettings(teamID: String) async throws -> StoredTeamSettings? {
        try await self.connection.run { db in
            guard let row = try db.query(
                "SELECT settings, updated_at FROM team_settings WHERE team_id = ?1", [.text(teamID)]
            ).first else { return nil }
            return StoredTeamSettings(json: Data(row[0].blob ?? []), updatedAt: Self.date(row[1]))
        }
    }

    public func saveTeamSettings(teamID: String, json: Data) async throws {
        let text = try json.validatedJSON("the settings of team \(teamID)")
        try await self.connection.run { db in
            try db.query(
                """
                INSERT INTO team_settings (team_id, settings, updated_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (team_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
                """,
                [.text(teamID), .text(text), .integer(Self.now())]
            )
        }
    }

    // MARK: Salesforce connections

    public func connection(teamID: String) async throws -> SalesforceConnection? {
        let row = try await self.connection.run { db in
            try db.query(
                """
                SELECT instance_url, login_url, client_id, refresh_token_sealed, needs_reauthentication,
                       reauthentication_reason, updated_at, access_token_sealed, session_instance_url,
                       session_updated_at, connected_user_id
                FROM salesforce_connections WHERE team_id = ?1
                """,
                [.text(teamID)]
            ).first
        }
        guard let row else { return nil }
        var session: SalesforceSession?
        if let sealed = row[7].blob, let instanceURL = row[8].text {
            session = SalesforceSession(
                accessToken: try self.cipher.open(sealed, teamID: teamID, kind: .access), instanceURL: instanceURL,
                updatedAt: Self.date(row[9])
            )
        }
        return SalesforceConnection(
            teamID: teamID,
            instanceURL: row[0].text ?? "",
            loginURL: row[1].text ?? "",
            clientID: row[2].text ?? "",
            refreshToken: try row[3].blob.map { try self.cipher.open($0, teamID: teamID) },
            needsReauthentication: (row[4].integer ?? 0) != 0,
            reauthenticationReason: row[5].text,
            updatedAt: Self.date(row[6]),
            session: session,
            connectedUserID: row[10].text
        )
    }

    public func saveConnection(_ connection: SalesforceConnection) async throws {
        // A client-credentials connection has no refresh token: both columns are NULL.
        let sealed = try connection.refreshToken.map { try self.cipher.seal($0, teamID: connection.teamID) }
        let digest = connection.refreshToken.map { self.cipher.digest($0) }
        let session = try connection.session.map {
            (sealed: try self.cipher.seal($0.accessToken, teamID: connection.teamID, kind: .access), instanceURL: $0.instanceURL)
        }
        try await self.connection.run { db in
            let now = Self.now()
            try db.query(
                """
                INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                    refresh_token_digest, needs_reauthentication, reauthentication_reason, updated_at,
                    access_token_sealed, session_instance_url, session_updated_at, connected_user_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT (team_id) DO UPDATE SET instance_url = excluded.instance_url,
                    login_url = excluded.login_url, client_id = excluded.client_id,
                    refresh_token_sealed = excluded.refresh_token_sealed,
                    refresh_token_digest = excluded.refresh_token_digest,
                    needs_reauthentication = excluded.needs_reauthentication,
                    reauthentication_reason = excluded.reauthentication_reason, updated_at = excluded.updated_at,
                    access_token_sealed = excluded.access_token_sealed,
                    session_instance_url = excluded.session_instance_url,
                    session_updated_at = excluded.session_updated_at,
                    connected_user_id = excluded.connected_user_id
                """,
                [
                    .text(connection.teamID), .text(connection.instanceURL), .text(connection.loginURL),
                    .text(connection.clientID), sealed.map { .blob($0) } ?? .null, digest.map { .blob($0) } ?? .null,
                    .integer(connection.needsReauthentication ? 1 : 0),
                    connection.reauthenticationReason.map { .text($0) } ?? .null, .integer(now),
                    session.map { .blob($0.sealed) } ?? .null, session.map { .text($0.instanceURL) } ?? .null,
                    session == nil ? .null : .integer(now), connection.connectedUserID.map { .text($0) } ?? .null,
                ]
            )
        }
    }

    public func rotateRefreshToken(teamID: String, old: String, new: String) async throws -> Bool {
        let sealed = try self.cipher.seal(new, teamID: teamID)
        let oldDigest = self.cipher.digest(old)
        let newDigest = self.cipher.digest(new)
        // A connection without a refresh token has a NULL digest, which equals nothing: no row changes.
        return try await self.connection.run { db in
            try db.query(
                """
                UPDATE salesforce_connections
                SET refresh_token_sealed = ?2, refresh_token_digest = ?3, updated_at = ?4
                WHERE team_id = ?1 AND refresh_token_digest = ?5
                """,
                [.text(teamID), .blob(sealed), .blob(newDigest), .integer(Self.now()), .blob(oldDigest)]
            )
            return db.changes == 1
        }
    }

    public func markNeedsReauthentication(teamID: String, reason: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query(
                """
                UPDATE salesforce_connections
                SET needs_reauthentication = 1, reauthentication_reason = ?2, updated_at = ?3 WHERE team_id = ?1
                """,
                [.text(teamID), .text(reason), .integer(Self.now())]
            )
            return db.changes == 1
        }
    }

    public func markNeedsReauthentication(teamID: String, reason: String, refreshToken: String?) async throws -> Bool {
        // `IS` compares NULL with NULL as equal: a client-credentials connection matches `nil`.
        let digest: SQLiteValue = refreshToken.map { .blob(self.cipher.digest($0)) } ?? .null
        return try await self.connection.run { db in
            try db.query(
                """
                UPDATE salesforce_connections
                SET needs_reauthentication = 1, reauthentication_reason = ?2, updated_at = ?3
                WHERE team_id = ?1 AND refresh_token_digest IS ?4
                """,
                [.text(teamID), .text(reason), .integer(Self.now()), digest]
            )
            return db.changes == 1
        }
    }

    public func teamsNeedingLogin() async throws -> [TeamNeedingLogin] {
        try await self.connection.run { db in
            try db.query(
                """
                SELECT team_id, reauthentication_reason, updated_at FROM salesforce_connections
                WHERE needs_reauthentication = 1 ORDER BY team_id
                """
            ).map { row in TeamNeedingLogin(teamID: row[0].text ?? "", reason: row[1].text, since: Self.date(row[2])) }
        }
    }

    // MARK: The shared Salesforce session

    public func saveSession(
        teamID: String, _ session: SalesforceSession, refreshedWith: String?, rotatedTo: String?
    ) async throws -> Bool {
        let sealedAccess = try self.cipher.seal(session.accessToken, teamID: teamID, kind: .access)
        let used: SQLiteValue = refreshedWith.map { .blob(self.cipher.digest($0)) } ?? .null
        // Without rotation the refresh-token columns are written back unchanged (COALESCE keeps them).
        let sealedRefresh: SQLiteValue = try rotatedTo.map { .blob(try self.cipher.seal($0, teamID: teamID)) } ?? .null
        let newDigest: SQLiteValue = rotatedTo.map { .blob(self.cipher.digest($0)) } ?? .null
        return try await self.connection.run { db in
            let now = Self.now()
            try db.query(
                """
                UPDATE salesforce_connections
                SET access_token_sealed = ?2, session_instance_url = ?3, session_updated_at = ?4,
                    refresh_token_sealed = COALESCE(?5, refresh_token_sealed),
                    refresh_token_digest = COALESCE(?6, refresh_token_digest),
                    updated_at = CASE WHEN ?6 IS NULL THEN updated_at ELSE ?4 END
                WHERE team_id = ?1 AND refresh_token_digest IS ?7
                """,
                [.text(teamID), .blob(sealedAccess), .text(session.instanceURL), .integer(now), sealedRefresh,
                 newDigest, used]
            )
            return db.changes == 1
        }
    }

    // MARK: Account links

    public func accountLink(teamID: String, docSendAccountID: String) async throws -> String? {
        try await self.connection.run { db in
            try db.query(
                "SELECT salesforce_account_id FROM account_links WHERE team_id = ?1 AND docsend_account_id = ?2",
                [.text(teamID), .text(docSendAccountID)]
            ).first?.first?.text
        }
    }

    public func saveAccountLink(teamID: String, docSendAccountID: String, salesforceAccountID: String) async throws {
        try await self.connection.run { db in
            try db.query(
                """
                INSERT INTO account_links (team_id, docsend_account_id, salesforce_account_id, updated_at)
                VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (team_id, docsend_account_id) DO UPDATE
                SET salesforce_account_id = excluded.salesforce_account_id, updated_at = excluded.updated_at
                """,
                [.text(teamID), .text(docSendAccountID), .text(salesforceAccountID), .integer(Self.now())]
            )
        }
    }

    // MARK: Sync state

    public func loadState(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> StateRecord? {
        try await self.connection.run { db in
            guard let row = try db.query(
                """
                SELECT state, version, updated_at FROM sync_state
                WHERE team_id = ?1 AND object_kind = ?2 AND object_id = ?3
                """,
                [.text(teamID), .text(kind.rawValue), .text(objectID)]
            ).first else { return nil }
            return StateRecord(
                state: Data(row[0].blob ?? []), version: row[1].integer ?? 0, updatedAt: Self.date(row[2])
            )
        }
    }

    public func saveState(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        state: Data,
        expectedVersion: Int64?
    ) async throws -> Int64 {
        let text = try state.validatedJSON("the state of \(kind) \(objectID)")
        return try await self.connection.run { db in
            if let expectedVersion {
                try db.query(
                    """
                    UPDATE sync_state SET state = ?4, version = version + 1, updated_at = ?5
                    WHERE team_id = ?1 AND object_kind = ?2 AND object_id = ?3 AND version = ?6
                    """,
                    [.text(teamID), .text(kind.rawValue), .text(objectID), .text(text), .integer(Self.now()),
                     .integer(expectedVersion)]
                )
                guard db.changes == 1 else {
                    throw StoreError(
                        .versionConflict,
                        "the state of \(kind) \(objectID) of team \(teamID) is no longer at version \(expectedVersion)"
                    )
                }
                return expectedVersion + 1
            }
            try db.query(
                """
                INSERT INTO sync_state (team_id, object_kind, object_id, state, version, updated_at)
                VALUES (?1, ?2, ?3, ?4, 1, ?5)
                ON CONFLICT (team_id, object_kind, object_id) DO NOTHING
                """,
                [.text(teamID), .text(kind.rawValue), .text(objectID), .text(text), .integer(Self.now())]
            )
            guard db.changes == 1 else {
                throw StoreError(
                    .versionConflict, "the state of \(kind) \(objectID) of team \(teamID) was already saved"
                )
            }
            return 1
        }
    }

    // MARK: Ledger

    public func ledgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> LedgerEntry? {
        try await self.connection.run { db in
            try Self.ledgerRow(&db, teamID: teamID, kind: kind, objectID: objectID)
        }
    }

    public func recordLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String
    ) async throws -> LedgerEntry {
        let path = self.connection.path
        return try await self.connection.run { db in
            try db.transaction { db in
                try db.query(
                    """
                    INSERT INTO ledger (team_id, object_kind, object_id, salesforce_type, salesforce_id, created_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING
                    """,
                    [.text(teamID), .text(kind.rawValue), .text(objectID), .text(salesforceType), .text(salesforceID),
                     .integer(Self.now())]
                )
                guard let entry = try Self.ledgerRow(&db, teamID: teamID, kind: kind, objectID: objectID) else {
                    throw StoreError(.backend, "SQLite \(path): the ledger entry vanished right after its insert")
                }
                return entry
            }
        }
    }

    public func replaceLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String,
        replacing: String
    ) async throws -> LedgerEntry {
        let path = self.connection.path
        return try await self.connection.run { db in
            try db.transaction { db in
                try db.query(
                    """
                    INSERT INTO ledger (team_id, object_kind, object_id, salesforce_type, salesforce_id, created_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    ON CONFLICT (team_id, object_kind, object_id) DO UPDATE
                    SET salesforce_type = excluded.salesforce_type, salesforce_id = excluded.salesforce_id,
                        created_at = excluded.created_at
                    WHERE ledger.salesforce_id = ?7
                    """,
                    [.text(teamID), .text(kind.rawValue), .text(objectID), .text(salesforceType), .text(salesforceID),
                     .integer(Self.now()), .text(replacing)]
                )
                guard let entry = try Self.ledgerRow(&db, teamID: teamID, kind: kind, objectID: objectID) else {
                    throw StoreError(.backend, "SQLite \(path): the ledger entry vanished right after its upsert")
                }
                return entry
            }
        }
    }

    private static func ledgerRow(
        _ db: inout SQLiteDatabase,
        teamID: String,
        kind: SyncObjectKind,
        objectID: String
    ) throws -> LedgerEntry? {
        guard let row = try db.query(
            """
            SELECT salesforce_type, salesforce_id, created_at FROM ledger
            WHERE team_id = ?1 AND object_kind = ?2 AND object_id = ?3
            """,
            [.text(teamID), .text(kind.rawValue), .text(objectID)]
        ).first else { return nil }
        return LedgerEntry(
            teamID: teamID, kind: kind, objectID: objectID, salesforceType: row[0].text ?? "",
            salesforceID: row[1].text ?? "", createdAt: Self.date(row[2])
        )
    }

    // MARK: Claims

    public func claim(key: String, owner: String, ttl: Duration) async throws -> Bool {
        let ttlMilliseconds = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
        return try await self.connection.run { db in
            // The clock is read once the connection's queue runs this, not when it was queued behind others.
            let now = Self.now()
            let expiresAt = now + ttlMilliseconds
            try db.query(
                """
                INSERT INTO claims (key, owner, expires_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE claims.owner = excluded.owner OR claims.expires_at <= ?4
                """,
                [.text(key), .text(owner), .integer(expiresAt), .integer(now)]
            )
            return db.changes == 1
        }
    }

    public func release(key: String, owner: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query("DELETE FROM claims WHERE key = ?1 AND owner = ?2", [.text(key), .text(owner)])
            return db.changes == 1
        }
    }
}

extension SQLiteStore {
    /// Runs SQL statements that return no rows, as they are (tests write rows the API cannot, such as an older
    /// schema's).
    func execute(sql: String) async throws {
        try await self.connection.run { db in try db.execute(sql) }
    }

    /// The refresh token's bytes as stored (tests check that they are not the plaintext); `nil` when the team has
    /// no connection or a connection without a refresh token.
    func storedRefreshToken(teamID: String) async throws -> [UInt8]? {
        try await self.connection.run { db in
            try db.query(
                "SELECT refresh_token_sealed FROM salesforce_connections WHERE team_id = ?1", [.text(teamID)]
            ).first?.first?.blob
        }
    }

    /// The shared access token's bytes as stored (tests check that they are not the plaintext).
    func storedAccessToken(teamID: String) async throws -> [UInt8]? {
        try await self.connection.run { db in
            try db.query(
                "SELECT access_token_sealed FROM salesforce_connections WHERE team_id = ?1", [.text(teamID)]
            ).first?.first?.blob
        }
    }
}

import Foundation
import Logging
import PostgresNIO

// The `SyncStore` operations on PostgreSQL: one statement (or one transaction) each.
extension PostgresStore {
    // MARK: Team settings

    public func teamSettings(teamID: String) async throws -> StoredTeamSettings? {
        try await self.rows(
            "SELECT settings::text, updated_at FROM team_settings WHERE team_id = \(teamID)", "reading team settings"
        ) { row in
            let (json, updatedAt) = try row.decode((String, Date).self)
            return StoredTeamSettings(json: Data(json.utf8), updatedAt: updatedAt)
        }.first
    }

    public func saveTeamSettings(teamID: String, json: Data) async throws {
        let text = try json.validatedJSON("the settings of team \(teamID)")
        _ = try await self.count(
            """
            INSERT INTO team_settings (team_id, settings, updated_at) VALUES (\(teamID), \(text)::jsonb, now())
            ON CONFLICT (team_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
            """,
            "saving team settings"
        )
    }

    // MARK: Salesforce connections

    public func connection(teamID: String) async throws -> SalesforceConnection? {
        let row = try await self.rows(
            """
            SELECT instance_url, login_url, client_id, refresh_token_sealed, needs_reauthentication,
                   reauthentication_reason, updated_at, access_token_sealed, session_instance_url, session_updated_at,
                   connected_user_id
            FROM salesforce_connections WHERE team_id = \(teamID)
            """,
            "reading a Salesforce connection"
        ) { row in
            try row.decode((String, String, String, Data?, Bool, String?, Date, Data?, String?, Date?, String?).self)
        }.first
        guard
            let (
                instanceURL, loginURL, clientID, sealed, needsReauthentication, reason, updatedAt, sealedAccess,
                sessionInstanceURL, sessionUpdatedAt, connectedUserID
            ) = row
        else {
            return nil
        }
        var session: SalesforceSession?
        if let sealedAccess, let sessionInstanceURL {
            session = SalesforceSession(
                accessToken: try self.cipher.open(Array(sealedAccess), teamID: teamID, kind: .access),
                instanceURL: sessionInstanceURL, updatedAt: sessionUpdatedAt
            )
        }
        return SalesforceConnection(
            teamID: teamID,
            instanceURL: instanceURL,
            loginURL: loginURL,
            clientID: clientID,
            refreshToken: try sealed.map { try self.cipher.open(Array($0), teamID: teamID) },
            needsReauthentication: needsReauthentication,
            reauthenticationReason: reason,
            updatedAt: updatedAt,
            session: session,
            connectedUserID: connectedUserID
        )
    }

    public func saveConnection(_ connection: SalesforceConnection) async throws {
        // A client-credentials connection has no refresh token: both columns are NULL.
        let sealed = try connection.refreshToken.map { Data(try self.cipher.seal($0, teamID: connection.teamID)) }
        let digest = connection.refreshToken.map { Data(self.cipher.digest($0)) }
        let sealedAccess = try connection.session.map {
            Data(try self.cipher.seal($0.accessToken, teamID: connection.teamID, kind: .access))
        }
        let sessionInstanceURL = connection.session?.instanceURL
        _ = try await self.count(
            """
            INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                refresh_token_digest, needs_reauthentication, reauthentication_reason, updated_at,
                access_token_sealed, session_instance_url, session_updated_at, connected_user_id)
            VALUES (\(connection.teamID), \(connection.instanceURL), \(connection.loginURL), \(connection.clientID),
                \(sealed), \(digest), \(connection.needsReauthentication), \(connection.reauthenticationReason), now(),
                \(sealedAccess), \(sessionInstanceURL), CASE WHEN \(sessionInstanceURL)::text IS NULL THEN NULL ELSE now() END,
                \(connection.connectedUserID))
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
            "saving a Salesforce connection"
        )
    }

    public func rotateRefreshToken(teamID: String, old: String, new: String) async throws -> Bool {
        let sealed = Data(try self.cipher.seal(new, teamID: teamID))
        let oldDigest = Data(self.cipher.digest(old))
        let newDigest = Data(self.cipher.digest(new))
        // A connection without a refresh token has a NULL digest, which equals nothing: no row changes.
        return try await self.count(
            """
            UPDATE salesforce_connections
            SET refresh_token_sealed = \(sealed), refresh_token_digest = \(newDigest), updated_at = now()
            WHERE team_id = \(teamID) AND refresh_token_digest = \(oldDigest)
            RETURNING 1
            """,
            "rotating a refresh token"
        ) == 1
    }

    public func markNeedsReauthentication(teamID: String, reason: String) async throws -> Bool {
        try await self.count(
            """
            UPDATE salesforce_connections
            SET needs_reauthentication = true, reauthentication_reason = \(reason), updated_at = now()
            WHERE team_id = \(teamID)
            RETURNING 1
            """,
            "flagging a connection for re-authentication"
        ) == 1
    }

    public func markNeedsReauthentication(teamID: String, reason: String, refreshToken: String?) async throws -> Bool {
        let digest = refreshToken.map { Data(self.cipher.digest($0)) }
        // IS NOT DISTINCT FROM compares NULL with NULL as equal: a client-credentials connection matches `nil`.
        return try await self.count(
            """
            UPDATE salesforce_connections
            SET needs_reauthentication = true, reauthentication_reason = \(reason), updated_at = now()
            WHERE team_id = \(teamID) AND refresh_token_digest IS NOT DISTINCT FROM \(digest)::bytea
            RETURNING 1
            """,
            "flagging a connection for re-authentication"
        ) == 1
    }

    public func teamsNeedingLogin() async throws -> [TeamNeedingLogin] {
        try await self.rows(
            """
            SELECT team_id, reauthentication_reason, updated_at FROM salesforce_connections
            WHERE needs_reauthentication ORDER BY team_id
            """,
            "listing the teams needing a login"
        ) { row in
            let (teamID, reason, since) = try row.decode((String, String?, Date).self)
            return TeamNeedingLogin(teamID: teamID, reason: reason, since: since)
        }
    }

    // MARK: The shared Salesforce session

    public func saveSession(
        teamID: String, _ session: SalesforceSession, refreshedWith: String?, rotatedTo: String?
    ) async throws -> Bool {
        let sealedAccess = Data(try self.cipher.seal(session.accessToken, teamID: teamID, kind: .access))
        let used = refreshedWith.map { Data(self.cipher.digest($0)) }
        let sealedRefresh = try rotatedTo.map { Data(try self.cipher.seal($0, teamID: teamID)) }
        let newDigest = rotatedTo.map { Data(self.cipher.digest($0)) }
        // Without rotation the refresh-token columns are written back unchanged (COALESCE keeps them).
        return try await self.count(
            """
            UPDATE salesforce_connections
            SET access_token_sealed = \(sealedAccess), session_instance_url = \(session.instanceURL),
                session_updated_at = now(),
                refresh_token_sealed = COALESCE(\(sealedRefresh)::bytea, refresh_token_sealed),
                refresh_token_digest = COALESCE(\(newDigest)::bytea, refresh_token_digest),
                updated_at = CASE WHEN \(newDigest)::bytea IS NULL THEN updated_at ELSE now() END
            WHERE team_id = \(teamID) AND refresh_token_digest IS NOT DISTINCT FROM \(used)::bytea
            RETURNING 1
            """,
            "saving the shared Salesforce session"
        ) == 1
    }

    // MARK: Account links

    public func accountLink(teamID: String, docSendAccountID: String) async throws -> String? {
        try await self.rows(
            """
            SELECT salesforce_account_id FROM account_links
            WHERE team_id = \(teamID) AND docsend_account_id = \(docSendAccountID)
            """,
            "reading an account link"
        ) { row in try row.decode(String.self) }.first
    }

    public func saveAccountLink(teamID: String, docSendAccountID: String, salesforceAccountID: String) async throws {
        _ = try await self.count(
            """
            INSERT INTO account_links (team_id, docsend_account_id, salesforce_account_id, updated_at)
            VALUES (\(teamID), \(docSendAccountID), \(salesforceAccountID), now())
            ON CONFLICT (team_id, docsend_account_id) DO UPDATE
            SET salesforce_account_id = excluded.salesforce_account_id, updated_at = excluded.updated_at
            """,
            "saving an account link"
        )
    }

    // MARK: Sync state

    public func loadState(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> StateRecord? {
        try await self.rows(
            """
            SELECT state::text, version, updated_at FROM sync_state
            WHERE team_id = \(teamID) AND object_kind = \(kind.rawValue) AND object_id = \(objectID)
            """,
            "reading sync state"
        ) { row in
            let (state, version, updatedAt) = try row.decode((String, Int64, Date).self)
            return StateRecord(state: Data(state.utf8), version: version, updatedAt: updatedAt)
        }.first
    }

    public func saveState(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        state: Data,
        expectedVersion: Int64?
    ) async throws -> Int64 {
        let text = try state.validatedJSON("the state of \(kind) \(objectID)")
        if let expectedVersion {
            let saved = try await self.count(
                """
                UPDATE sync_state SET state = \(text)::jsonb, version = version + 1, updated_at = now()
                WHERE team_id = \(teamID) AND object_kind = \(kind.rawValue) AND object_id = \(objectID)
                    AND version = \(expectedVersion)
                RETURNING 1
                """,
                "saving sync state"
            )
            guard saved == 1 else {
                throw StoreError(
                    .versionConflict,
                    "the state of \(kind) \(objectID) of team \(teamID) is no longer at version \(expectedVersion)"
                )
            }
            return expectedVersion + 1
        }
        let inserted = try await self.count(
            """
            INSERT INTO sync_state (team_id, object_kind, object_id, state, version, updated_at)
            VALUES (\(teamID), \(kind.rawValue), \(objectID), \(text)::jsonb, 1, now())
            ON CONFLICT (team_id, object_kind, object_id) DO NOTHING
            RETURNING 1
            """,
            "saving new sync state"
        )
        guard inserted == 1 else {
            throw StoreError(.versionConflict, "the state of \(kind) \(objectID) of team \(teamID) was already saved")
        }
        return 1
    }

    // MARK: Ledger

    public func ledgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> LedgerEntry? {
        try await self.rows(
            """
            SELECT salesforce_type, salesforce_id, created_at FROM ledger
            WHERE team_id = \(teamID) AND object_kind = \(kind.rawValue) AND object_id = \(objectID)
            """,
            "reading the ledger"
        ) { row in
            let (type, id, createdAt) = try row.decode((String, String, Date).self)
            return LedgerEntry(
                teamID: teamID, kind: kind, objectID: objectID, salesforceType: type, salesforceID: id,
                createdAt: createdAt
            )
        }.first
    }

    public func recordLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String
    ) async throws -> LedgerEntry {
        let inserted = try await self.rows(
            """
            INSERT INTO ledger (team_id, object_kind, object_id, salesforce_type, salesforce_id, created_at)
            VALUES (\(teamID), \(kind.rawValue), \(objectID), \(salesforceType), \(salesforceID), now())
            ON CONFLICT DO NOTHING
            RETURNING created_at
            """,
            "recording a ledger entry"
        ) { row in try row.decode(Date.self) }.first
        // On a conflict, the conflicting insert has committed (ON CONFLICT waits for it), so a new snapshot sees it.
        return try await ledgerEntry(
            written: inserted, teamID: teamID, kind: kind, objectID: objectID, salesforceType: salesforceType,
            salesforceID: salesforceID)
    }

    public func replaceLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String,
        replacing: String
    ) async throws -> LedgerEntry {
        let stored = try await self.rows(
            """
            INSERT INTO ledger (team_id, object_kind, object_id, salesforce_type, salesforce_id, created_at)
            VALUES (\(teamID), \(kind.rawValue), \(objectID), \(salesforceType), \(salesforceID), now())
            ON CONFLICT (team_id, object_kind, object_id) DO UPDATE
            SET salesforce_type = excluded.salesforce_type, salesforce_id = excluded.salesforce_id,
                created_at = excluded.created_at
            WHERE ledger.salesforce_id = \(replacing)
            RETURNING created_at
            """,
            "replacing a ledger entry"
        ) { row in try row.decode(Date.self) }.first
        // Nothing written: the stored entry no longer names the deleted object, another worker recorded the new one.
        return try await ledgerEntry(
            written: stored, teamID: teamID, kind: kind, objectID: objectID, salesforceType: salesforceType,
            salesforceID: salesforceID)
    }

    /// The entry a ledger statement wrote (it returned its `created_at`), or, when it wrote nothing, the one stored.
    private func ledgerEntry(
        written createdAt: Date?, teamID: String, kind: SyncObjectKind, objectID: String, salesforceType: String,
        salesforceID: String
    ) async throws -> LedgerEntry {
        if let createdAt {
            return LedgerEntry(
                teamID: teamID, kind: kind, objectID: objectID, salesforceType: salesforceType,
                salesforceID: salesforceID, createdAt: createdAt)
        }
        guard let existing = try await self.ledgerEntry(teamID: teamID, kind: kind, objectID: objectID) else {
            throw StoreError(.backend, "PostgreSQL: the ledger entry for \(kind) \(objectID) vanished after a conflict")
        }
        return existing
    }

    // MARK: Claims

    public func claim(key: String, owner: String, ttl: Duration) async throws -> Bool {
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        return try await self.count(
            """
            INSERT INTO claims (key, owner, expires_at)
            VALUES (\(key), \(owner), clock_timestamp() + make_interval(secs => \(seconds)))
            ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
            WHERE claims.owner = excluded.owner OR claims.expires_at <= clock_timestamp()
            RETURNING 1
            """,
            "claiming a lease"
        ) == 1
    }

    public func release(key: String, owner: String) async throws -> Bool {
        try await self.count(
            "DELETE FROM claims WHERE key = \(key) AND owner = \(owner) RETURNING 1", "releasing a lease"
        ) == 1
    }
}

extension PostgresStore {
    /// Runs SQL statements that return no rows, as they are (tests write rows the API cannot, such as an older
    /// schema's).
    func execute(sql: String) async throws {
        _ = try await self.count(PostgresQuery(unsafeSQL: sql), "running SQL")
    }

    /// The refresh token's bytes as stored (tests check that they are not the plaintext); `nil` when the team has
    /// no connection or a connection without a refresh token.
    func storedRefreshToken(teamID: String) async throws -> [UInt8]? {
        try await self.rows(
            "SELECT refresh_token_sealed FROM salesforce_connections WHERE team_id = \(teamID)", "reading a token"
        ) { row in try row.decode(Data?.self).map(Array.init) }.first ?? nil
    }

    /// The shared access token's bytes as stored (tests check that they are not the plaintext).
    func storedAccessToken(teamID: String) async throws -> [UInt8]? {
        try await self.rows(
            "SELECT access_token_sealed FROM salesforce_connections WHERE team_id = \(teamID)", "reading a token"
        ) { row in try row.decode(Data?.self).map(Array.init) }.first ?? nil
    }
}

import Foundation

// The admin service's operations on SQLite (schema version 5).
extension SQLiteStore {
    public func deleteConnection(teamID: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query("DELETE FROM salesforce_connections WHERE team_id = ?1", [.text(teamID)])
            return db.changes == 1
        }
    }

    public func clearOrgState(teamID: String) async throws -> ClearedOrgState {
        try await self.connection.run { db in
            try db.transaction { db in
                try db.query("DELETE FROM ledger WHERE team_id = ?1", [.text(teamID)])
                let ledger = db.changes
                try db.query("DELETE FROM account_links WHERE team_id = ?1", [.text(teamID)])
                let links = db.changes
                try db.query("DELETE FROM sync_state WHERE team_id = ?1", [.text(teamID)])
                let states = db.changes
                try db.query(
                    """
                    UPDATE salesforce_connections
                    SET access_token_sealed = NULL, session_instance_url = NULL, session_updated_at = NULL
                    WHERE team_id = ?1 AND access_token_sealed IS NOT NULL
                    """,
                    [.text(teamID)]
                )
                return ClearedOrgState(ledgerEntries: ledger, accountLinks: links, syncStates: states, session: db.changes == 1)
            }
        }
    }

    public func accountLinks(teamID: String) async throws -> [AccountLink] {
        try await self.connection.run { db in
            try db.query(
                """
                SELECT docsend_account_id, salesforce_account_id, updated_at FROM account_links
                WHERE team_id = ?1 ORDER BY docsend_account_id
                """,
                [.text(teamID)]
            ).map { row in
                AccountLink(
                    docSendAccountID: row[0].text ?? "", salesforceAccountID: row[1].text ?? "",
                    updatedAt: Self.date(row[2]))
            }
        }
    }

    public func deleteAccountLink(teamID: String, docSendAccountID: String) async throws -> Bool {
        try await self.connection.run { db in
            try db.query(
                "DELETE FROM account_links WHERE team_id = ?1 AND docsend_account_id = ?2",
                [.text(teamID), .text(docSendAccountID)])
            return db.changes == 1
        }
    }

    public func recentLedgerEntries(teamID: String, limit: Int) async throws -> [LedgerEntry] {
        try await self.connection.run { db in
            try db.query(
                """
                SELECT object_kind, object_id, salesforce_type, salesforce_id, created_at FROM ledger
                WHERE team_id = ?1 ORDER BY created_at DESC, object_kind, object_id LIMIT ?2
                """,
                [.text(teamID), .integer(Int64(max(0, limit)))]
            ).map { row in
                LedgerEntry(
                    teamID: teamID, kind: SyncObjectKind(rawValue: row[0].text ?? ""), objectID: row[1].text ?? "",
                    salesforceType: row[2].text ?? "", salesforceID: row[3].text ?? "", createdAt: Self.date(row[4]))
            }
        }
    }

    public func recordAudit(_ entry: AuditEntry) async throws {
        let details = try entry.details.validatedJSON("the details of an audit entry")
        try await self.connection.run { db in
            try db.query(
                "INSERT INTO audit_log (team_id, actor, action, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                [.text(entry.teamID), .text(entry.actor), .text(entry.action), .text(details), .integer(Self.now())])
        }
    }

    public func auditEntries(teamID: String, limit: Int) async throws -> [AuditEntry] {
        try await self.connection.run { db in
            try db.query(
                """
                SELECT id, actor, action, details, created_at FROM audit_log
                WHERE team_id = ?1 ORDER BY id DESC LIMIT ?2
                """,
                [.text(teamID), .integer(Int64(max(0, limit)))]
            ).map { row in
                AuditEntry(
                    id: row[0].integer, teamID: teamID, actor: row[1].text ?? "", action: row[2].text ?? "",
                    details: Data(row[3].blob ?? []), at: Self.date(row[4]))
            }
        }
    }

    public func saveOAuthFlow(_ flow: OAuthFlow) async throws {
        let sealed = try self.cipher.seal(flow.secret, teamID: flow.teamID, kind: .oauthFlow)
        let digest = self.cipher.digest(flow.id)
        try await self.connection.run { db in
            let now = Self.now()
            try db.transaction { db in
                try db.query("DELETE FROM oauth_flows WHERE expires_at < ?1", [.integer(now - 3_600_000)])
                try db.query(
                    """
                    INSERT INTO oauth_flows (id_digest, team_id, session_id, kind, secret_sealed, expires_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    """,
                    [.blob(digest), .text(flow.teamID), .text(flow.sessionID), .text(flow.kind), .blob(sealed),
                     .integer(Self.milliseconds(flow.expiresAt))])
            }
        }
    }

    public func takeOAuthFlow(id: String) async throws -> OAuthFlow? {
        let digest = self.cipher.digest(id)
        let row = try await self.connection.run { db in
            try db.query(
                """
                DELETE FROM oauth_flows WHERE id_digest = ?1
                RETURNING team_id, session_id, kind, secret_sealed, expires_at
                """,
                [.blob(digest)]
            ).first
        }
        guard let row else { return nil }
        let teamID = row[0].text ?? ""
        return OAuthFlow(
            id: id, teamID: teamID, sessionID: row[1].text ?? "", kind: row[2].text ?? "",
            secret: try self.cipher.open(row[3].blob ?? [], teamID: teamID, kind: .oauthFlow),
            expiresAt: Self.date(row[4]))
    }

    public func teamOrg(teamID: String) async throws -> TeamOrg? {
        try await self.connection.run { db in
            guard let row = try db.query(
                "SELECT organization_id, instance_url, username, updated_at FROM team_orgs WHERE team_id = ?1",
                [.text(teamID)]
            ).first else { return nil }
            return TeamOrg(
                teamID: teamID, organizationID: row[0].text ?? "", instanceURL: row[1].text ?? "",
                username: row[2].text, updatedAt: Self.date(row[3]))
        }
    }

    public func saveTeamOrg(_ org: TeamOrg) async throws {
        try await self.connection.run { db in
            try db.query(
                """
                INSERT INTO team_orgs (team_id, organization_id, instance_url, username, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (team_id) DO UPDATE SET organization_id = excluded.organization_id,
                    instance_url = excluded.instance_url, username = excluded.username, updated_at = excluded.updated_at
                """,
                [.text(org.teamID), .text(org.organizationID), .text(org.instanceURL),
                 org.username.map { .text($0) } ?? .null, .integer(Self.now())])
        }
    }

    public func saveOrgPause(_ pause: OrgPause) async throws {
        try await self.connection.run { db in
            try db.query(
                """
                INSERT INTO org_pauses (team_id, process, reason, paused_until, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (team_id, process) DO UPDATE SET reason = excluded.reason, paused_until = excluded.paused_until,
                    updated_at = excluded.updated_at
                """,
                [.text(pause.teamID), .text(pause.process), .text(pause.reason), .integer(Self.milliseconds(pause.until)),
                 .integer(Self.now())])
        }
    }

    public func deleteOrgPause(teamID: String, process: String) async throws {
        try await self.connection.run { db in
            try db.query("DELETE FROM org_pauses WHERE team_id = ?1 AND process = ?2", [.text(teamID), .text(process)])
        }
    }

    public func orgPauses() async throws -> [OrgPause] {
        try await self.connection.run { db in
            try db.query(
                "SELECT team_id, process, reason, paused_until FROM org_pauses WHERE paused_until > ?1 ORDER BY team_id, process",
                [.integer(Self.now())]
            ).map { row in
                OrgPause(teamID: row[0].text ?? "", process: row[1].text ?? "", reason: row[2].text ?? "", until: Self.date(row[3]))
            }
        }
    }
}

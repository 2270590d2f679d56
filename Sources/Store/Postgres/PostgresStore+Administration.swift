import Foundation
import Logging
import PostgresNIO

// The admin service's operations on PostgreSQL (schema version 5): one statement each.
extension PostgresStore {
    public func deleteConnection(teamID: String) async throws -> Bool {
        try await self.count(
            "DELETE FROM salesforce_connections WHERE team_id = \(teamID) RETURNING 1", "deleting a connection"
        ) == 1
    }

    public func clearOrgState(teamID: String) async throws -> ClearedOrgState {
        // Data-modifying CTEs: one statement, so one atomic change.
        let counts = try await self.rows(
            """
            WITH l AS (DELETE FROM ledger WHERE team_id = \(teamID) RETURNING 1),
                 a AS (DELETE FROM account_links WHERE team_id = \(teamID) RETURNING 1),
                 s AS (DELETE FROM sync_state WHERE team_id = \(teamID) RETURNING 1),
                 c AS (UPDATE salesforce_connections
                       SET access_token_sealed = NULL, session_instance_url = NULL, session_updated_at = NULL
                       WHERE team_id = \(teamID) AND access_token_sealed IS NOT NULL RETURNING 1)
            SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM a), (SELECT count(*) FROM s),
                   (SELECT count(*) FROM c)
            """,
            "clearing a team's org state"
        ) { row in try row.decode((Int64, Int64, Int64, Int64).self) }.first
        guard let (ledger, links, states, session) = counts else {
            throw StoreError(.backend, "PostgreSQL: clearing a team's org state returned no row")
        }
        return ClearedOrgState(
            ledgerEntries: Int(ledger), accountLinks: Int(links), syncStates: Int(states), session: session == 1)
    }

    public func accountLinks(teamID: String) async throws -> [AccountLink] {
        try await self.rows(
            """
            SELECT docsend_account_id, salesforce_account_id, updated_at FROM account_links
            WHERE team_id = \(teamID) ORDER BY docsend_account_id
            """,
            "listing account links"
        ) { row in
            let (docSend, salesforce, updatedAt) = try row.decode((String, String, Date).self)
            return AccountLink(docSendAccountID: docSend, salesforceAccountID: salesforce, updatedAt: updatedAt)
        }
    }

    public func deleteAccountLink(teamID: String, docSendAccountID: String) async throws -> Bool {
        try await self.count(
            """
            DELETE FROM account_links WHERE team_id = \(teamID) AND docsend_account_id = \(docSendAccountID)
            RETURNING 1
            """,
            "deleting an account link"
        ) == 1
    }

    public func recentLedgerEntries(teamID: String, limit: Int) async throws -> [LedgerEntry] {
        try await self.rows(
            """
            SELECT object_kind, object_id, salesforce_type, salesforce_id, created_at FROM ledger
            WHERE team_id = \(teamID) ORDER BY created_at DESC, object_kind, object_id LIMIT \(max(0, limit))
            """,
            "reading the recent ledger"
        ) { row in
            let (kind, objectID, type, id, createdAt) = try row.decode((String, String, String, String, Date).self)
            return LedgerEntry(
                teamID: teamID, kind: SyncObjectKind(rawValue: kind), objectID: objectID, salesforceType: type,
                salesforceID: id, createdAt: createdAt)
        }
    }

    public func recordAudit(_ entry: AuditEntry) async throws {
        let details = try entry.details.validatedJSON("the details of an audit entry")
        _ = try await self.count(
            """
            INSERT INTO audit_log (team_id, actor, action, details, created_at)
            VALUES (\(entry.teamID), \(entry.actor), \(entry.action), \(details)::jsonb, now())
            """,
            "recording an audit entry"
        )
    }

    public func auditEntries(teamID: String, limit: Int) async throws -> [AuditEntry] {
        try await self.rows(
            """
            SELECT id, actor, action, details::text, created_at FROM audit_log
            WHERE team_id = \(teamID) ORDER BY id DESC LIMIT \(max(0, limit))
            """,
            "reading the audit trail"
        ) { row in
            let (id, actor, action, details, at) = try row.decode((Int64, String, String, String, Date).self)
            return AuditEntry(id: id, teamID: teamID, actor: actor, action: action, details: Data(details.utf8), at: at)
        }
    }

    public func saveOAuthFlow(_ flow: OAuthFlow) async throws {
        let sealed = Data(try self.cipher.seal(flow.secret, teamID: flow.teamID, kind: .oauthFlow))
        let digest = Data(self.cipher.digest(flow.id))
        _ = try await self.count(
            "DELETE FROM oauth_flows WHERE expires_at < now() - interval '1 hour'", "forgetting expired OAuth flows")
        _ = try await self.count(
            """
            INSERT INTO oauth_flows (id_digest, team_id, session_id, kind, secret_sealed, expires_at)
            VALUES (\(digest), \(flow.teamID), \(flow.sessionID), \(flow.kind), \(sealed), \(flow.expiresAt))
            """,
            "saving an OAuth flow"
        )
    }

    public func takeOAuthFlow(id: String) async throws -> OAuthFlow? {
        let digest = Data(self.cipher.digest(id))
        let row = try await self.rows(
            """
            DELETE FROM oauth_flows WHERE id_digest = \(digest)
            RETURNING team_id, session_id, kind, secret_sealed, expires_at
            """,
            "taking an OAuth flow"
        ) { row in try row.decode((String, String, String, Data, Date).self) }.first
        guard let (teamID, sessionID, kind, sealed, expiresAt) = row else { return nil }
        return OAuthFlow(
            id: id, teamID: teamID, sessionID: sessionID, kind: kind,
            secret: try self.cipher.open(Array(sealed), teamID: teamID, kind: .oauthFlow), expiresAt: expiresAt)
    }

    public func teamOrg(teamID: String) async throws -> TeamOrg? {
        try await self.rows(
            "SELECT organization_id, instance_url, username, updated_at FROM team_orgs WHERE team_id = \(teamID)",
            "reading a team's org"
        ) { row in
            let (organizationID, instanceURL, username, updatedAt) = try row.decode((String, String, String?, Date).self)
            return TeamOrg(
                teamID: teamID, organizationID: organizationID, instanceURL: instanceURL, username: username,
                updatedAt: updatedAt)
        }.first
    }

    public func saveTeamOrg(_ org: TeamOrg) async throws {
        _ = try await self.count(
            """
            INSERT INTO team_orgs (team_id, organization_id, instance_url, username, updated_at)
            VALUES (\(org.teamID), \(org.organizationID), \(org.instanceURL), \(org.username), now())
            ON CONFLICT (team_id) DO UPDATE SET organization_id = excluded.organization_id,
                instance_url = excluded.instance_url, username = excluded.username, updated_at = excluded.updated_at
            """,
            "saving a team's org"
        )
    }

    public func saveOrgPause(_ pause: OrgPause) async throws {
        _ = try await self.count(
            """
            INSERT INTO org_pauses (team_id, process, reason, paused_until, updated_at)
            VALUES (\(pause.teamID), \(pause.process), \(pause.reason), \(pause.until), now())
            ON CONFLICT (team_id, process) DO UPDATE SET reason = excluded.reason, paused_until = excluded.paused_until,
                updated_at = excluded.updated_at
            """,
            "saving an org pause"
        )
    }

    public func deleteOrgPause(teamID: String, process: String) async throws {
        _ = try await self.count(
            "DELETE FROM org_pauses WHERE team_id = \(teamID) AND process = \(process)", "deleting an org pause")
    }

    public func orgPauses() async throws -> [OrgPause] {
        try await self.rows(
            "SELECT team_id, process, reason, paused_until FROM org_pauses WHERE paused_until > now() ORDER BY team_id, process",
            "reading org pauses"
        ) { row in
            let (teamID, process, reason, until) = try row.decode((String, String, String, Date).self)
            return OrgPause(teamID: teamID, process: process, reason: reason, until: until)
        }
    }
}

/// One schema change, in both dialects. Migrations are numbered from 1, applied in order on open, recorded in
/// `schema_migrations`, and never edited once released: a change is a new migration.
struct Migration: Sendable {
    var version: Int
    var name: String
    var sqlite: [String]
    var postgres: [String]
}

/// Times: SQLite stores integer milliseconds since 1970 (one host, one clock); PostgreSQL stores `timestamptz` and
/// takes lease times from the server's clock, the one clock every host of a fleet shares.
let migrations: [Migration] = [
    Migration(
        version: 1,
        name: "initial schema",
        sqlite: [
            """
            CREATE TABLE team_settings (
                team_id TEXT PRIMARY KEY,
                settings TEXT NOT NULL CHECK (json_valid(settings)),
                updated_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE salesforce_connections (
                team_id TEXT PRIMARY KEY,
                instance_url TEXT NOT NULL,
                login_url TEXT NOT NULL,
                client_id TEXT NOT NULL,
                refresh_token_sealed BLOB NOT NULL,
                refresh_token_digest BLOB NOT NULL,
                needs_reauthentication INTEGER NOT NULL DEFAULT 0,
                reauthentication_reason TEXT,
                updated_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE account_links (
                team_id TEXT NOT NULL,
                docsend_account_id TEXT NOT NULL,
                salesforce_account_id TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (team_id, docsend_account_id)
            )
            """,
            """
            CREATE TABLE visits (
                team_id TEXT NOT NULL,
                visit_id TEXT NOT NULL,
                state TEXT NOT NULL CHECK (json_valid(state)),
                version INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (team_id, visit_id)
            )
            """,
            """
            CREATE TABLE ledger (
                team_id TEXT NOT NULL,
                object_kind TEXT NOT NULL,
                object_id TEXT NOT NULL,
                salesforce_type TEXT NOT NULL,
                salesforce_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (team_id, object_kind, object_id)
            )
            """,
            """
            CREATE TABLE processed_events (
                event_id TEXT PRIMARY KEY,
                processed_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX processed_events_processed_at ON processed_events (processed_at)",
            """
            CREATE TABLE claims (
                key TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            )
            """,
        ],
        postgres: [
            """
            CREATE TABLE team_settings (
                team_id text PRIMARY KEY,
                settings jsonb NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE salesforce_connections (
                team_id text PRIMARY KEY,
                instance_url text NOT NULL,
                login_url text NOT NULL,
                client_id text NOT NULL,
                refresh_token_sealed bytea NOT NULL,
                refresh_token_digest bytea NOT NULL,
                needs_reauthentication boolean NOT NULL DEFAULT false,
                reauthentication_reason text,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE account_links (
                team_id text NOT NULL,
                docsend_account_id text NOT NULL,
                salesforce_account_id text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (team_id, docsend_account_id)
            )
            """,
            """
            CREATE TABLE visits (
                team_id text NOT NULL,
                visit_id text NOT NULL,
                state jsonb NOT NULL,
                version bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (team_id, visit_id)
            )
            """,
            """
            CREATE TABLE ledger (
                team_id text NOT NULL,
                object_kind text NOT NULL,
                object_id text NOT NULL,
                salesforce_type text NOT NULL,
                salesforce_id text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (team_id, object_kind, object_id)
            )
            """,
            """
            CREATE TABLE processed_events (
                event_id text PRIMARY KEY,
                processed_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX processed_events_processed_at ON processed_events (processed_at)",
            """
            CREATE TABLE claims (
                key text PRIMARY KEY,
                owner text NOT NULL,
                expires_at timestamptz NOT NULL
            )
            """,
        ]
    ),
    // Per-object sync state for every kind of DocSend object (visits, document links, space links, ...) instead
    // of visits only; and connections without a refresh token (OAuth client-credentials flow): the sealed token
    // and its digest become nullable, both present or both absent.
    Migration(
        version: 2,
        name: "per-object sync state; connections without a refresh token",
        sqlite: [
            """
            CREATE TABLE sync_state (
                team_id TEXT NOT NULL,
                object_kind TEXT NOT NULL,
                object_id TEXT NOT NULL,
                state TEXT NOT NULL CHECK (json_valid(state)),
                version INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (team_id, object_kind, object_id)
            )
            """,
            """
            INSERT INTO sync_state (team_id, object_kind, object_id, state, version, updated_at)
            SELECT team_id, 'visit', visit_id, state, version, updated_at FROM visits
            """,
            "DROP TABLE visits",
            // SQLite cannot drop NOT NULL with ALTER TABLE: rebuild the table (no index, trigger, view or
            // foreign key refers to it), inside the migration's transaction.
            """
            CREATE TABLE salesforce_connections_v2 (
                team_id TEXT PRIMARY KEY,
                instance_url TEXT NOT NULL,
                login_url TEXT NOT NULL,
                client_id TEXT NOT NULL,
                refresh_token_sealed BLOB,
                refresh_token_digest BLOB,
                needs_reauthentication INTEGER NOT NULL DEFAULT 0,
                reauthentication_reason TEXT,
                updated_at INTEGER NOT NULL,
                CHECK ((refresh_token_sealed IS NULL) = (refresh_token_digest IS NULL))
            )
            """,
            """
            INSERT INTO salesforce_connections_v2 (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                refresh_token_digest, needs_reauthentication, reauthentication_reason, updated_at)
            SELECT team_id, instance_url, login_url, client_id, refresh_token_sealed, refresh_token_digest,
                needs_reauthentication, reauthentication_reason, updated_at
            FROM salesforce_connections
            """,
            "DROP TABLE salesforce_connections",
            "ALTER TABLE salesforce_connections_v2 RENAME TO salesforce_connections",
        ],
        postgres: [
            """
            CREATE TABLE sync_state (
                team_id text NOT NULL,
                object_kind text NOT NULL,
                object_id text NOT NULL,
                state jsonb NOT NULL,
                version bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (team_id, object_kind, object_id)
            )
            """,
            """
            INSERT INTO sync_state (team_id, object_kind, object_id, state, version, updated_at)
            SELECT team_id, 'visit', visit_id, state, version, updated_at FROM visits
            """,
            "DROP TABLE visits",
            """
            ALTER TABLE salesforce_connections
                ALTER COLUMN refresh_token_sealed DROP NOT NULL,
                ALTER COLUMN refresh_token_digest DROP NOT NULL,
                ADD CONSTRAINT salesforce_connections_refresh_token_pair
                    CHECK ((refresh_token_sealed IS NULL) = (refresh_token_digest IS NULL))
            """,
        ]
    ),
    // One Salesforce session per team for the whole fleet: the newest access token (sealed like the refresh token,
    // with its own associated data), the instance URL it was issued for, and when it was stored. All three are
    // NULL until a worker's first refresh, and again after a new login.
    Migration(
        version: 3,
        name: "shared Salesforce session",
        sqlite: [
            "ALTER TABLE salesforce_connections ADD COLUMN access_token_sealed BLOB",
            "ALTER TABLE salesforce_connections ADD COLUMN session_instance_url TEXT",
            "ALTER TABLE salesforce_connections ADD COLUMN session_updated_at INTEGER",
        ],
        postgres: [
            """
            ALTER TABLE salesforce_connections
                ADD COLUMN access_token_sealed bytea,
                ADD COLUMN session_instance_url text,
                ADD COLUMN session_updated_at timestamptz,
                ADD CONSTRAINT salesforce_connections_session_pair
                    CHECK ((access_token_sealed IS NULL) = (session_instance_url IS NULL))
            """,
        ]
    ),
    // The processed-events table goes: nothing but tests ever used it (the workers are idempotent through the
    // ledger, sync state and leases, not through event ids). Its index goes with it.
    Migration(
        version: 4,
        name: "drop processed_events",
        sqlite: ["DROP TABLE IF EXISTS processed_events"],
        postgres: ["DROP TABLE IF EXISTS processed_events"]
    ),
    // The admin service (issue 14): the audit trail, OAuth steps in progress (shared by every admin process of a
    // fleet), the org each team's state belongs to (kept across a disconnect), and an index for the recent ledger.
    Migration(
        version: 5,
        name: "admin service: audit trail, OAuth flows, team orgs",
        sqlite: [
            """
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                team_id TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                details TEXT NOT NULL CHECK (json_valid(details)),
                created_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX audit_log_team ON audit_log (team_id, id)",
            """
            CREATE TABLE oauth_flows (
                id_digest BLOB PRIMARY KEY,
                team_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                secret_sealed BLOB NOT NULL,
                expires_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE team_orgs (
                team_id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                instance_url TEXT NOT NULL,
                username TEXT,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX ledger_team_created ON ledger (team_id, created_at)",
        ],
        postgres: [
            """
            CREATE TABLE audit_log (
                id bigserial PRIMARY KEY,
                team_id text NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                details jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX audit_log_team ON audit_log (team_id, id)",
            """
            CREATE TABLE oauth_flows (
                id_digest bytea PRIMARY KEY,
                team_id text NOT NULL,
                session_id text NOT NULL,
                kind text NOT NULL,
                secret_sealed bytea NOT NULL,
                expires_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE team_orgs (
                team_id text PRIMARY KEY,
                organization_id text NOT NULL,
                instance_url text NOT NULL,
                username text,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX ledger_team_created ON ledger (team_id, created_at)",
        ]
    ),
    // The Salesforce User who authorized a team's connection: the owner of follow-up Tasks whose link owner has no
    // User (issue 16). Existing connections get it at their next login.
    Migration(
        version: 6,
        name: "the user who connected a team's org",
        sqlite: ["ALTER TABLE salesforce_connections ADD COLUMN connected_user_id TEXT"],
        postgres: ["ALTER TABLE salesforce_connections ADD COLUMN connected_user_id text"]
    ),
    // Org pauses (issue 15): each worker process records the orgs its gate paused (API budget, circuit), so that
    // `docsend-sync status` can say which orgs wait and why. A row ends when the process resumes the org, or lapses
    // with its pause (a process that stopped leaves nothing standing).
    Migration(
        version: 7,
        name: "org pauses",
        sqlite: [
            """
            CREATE TABLE org_pauses (
                team_id TEXT NOT NULL,
                process TEXT NOT NULL,
                reason TEXT NOT NULL,
                paused_until INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (team_id, process)
            )
            """
        ],
        postgres: [
            """
            CREATE TABLE org_pauses (
                team_id text NOT NULL,
                process text NOT NULL,
                reason text NOT NULL,
                paused_until timestamptz NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (team_id, process)
            )
            """
        ]
    ),
    // Retention (issue 16): the workers' pruning passes look for the oldest rows of every team, by kind and age; these
    // indexes let each bounded pass read only what it removes. Existing rows need nothing: their `updated_at` and
    // `created_at` are already what the passes compare.
    Migration(
        version: 8,
        name: "retention indexes",
        sqlite: [
            "CREATE INDEX sync_state_kind_updated ON sync_state (object_kind, updated_at)",
            "CREATE INDEX ledger_created ON ledger (created_at)",
            "CREATE INDEX claims_expires ON claims (expires_at)",
        ],
        postgres: [
            "CREATE INDEX sync_state_kind_updated ON sync_state (object_kind, updated_at)",
            "CREATE INDEX ledger_created ON ledger (created_at)",
            "CREATE INDEX claims_expires ON claims (expires_at)",
        ]
    ),
]

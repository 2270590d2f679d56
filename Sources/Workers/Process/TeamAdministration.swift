import Foundation
import HTTP
import Jobs
import Logging
import Salesforce
import Store
import SyncCore

/// What `docsend-sync team` does, until DocSend's admin API takes over: connecting a team's org, changing its
/// settings (checked against the org), showing both.
public struct TeamAdministration: Sendable {
    let store: any SyncStore
    let app: SalesforceAppSettings
    let http: HTTPClient
    let logger: Logger
    /// The stored teams' clients and settings, as the workers see them.
    let orgs: TeamOrgs

    /// Administration over `store`, reaching Salesforce through `http`.
    public init(store: any SyncStore, app: SalesforceAppSettings, http: HTTPClient, logger: Logger) {
        self.store = store
        self.app = app
        self.http = http
        self.logger = logger
        self.orgs = TeamOrgs(store: store, app: app, http: http, logger: logger)
    }

    /// What a connection check found.
    public struct ConnectionCheck: Sendable {
        /// Where the org's REST API is.
        public var instanceURL: String
        /// Every finding of ``OrgCheck`` for the team's settings against the org.
        public var findings: [OrgCheck.Finding]

        /// The findings that are not ok: problems and warnings.
        public var problems: [OrgCheck.Finding] { findings.filter { $0.severity != .ok } }
    }

    /// Signs in with `refreshToken` (or, when `nil`, the client-credentials flow), reads the org's Task fields,
    /// and stores the connection (the token encrypted) with the User the token was issued to (the admin who
    /// logged in: the follow-up owner of last resort). Nothing is stored when signing in fails.
    public func connect(teamID: String, loginURL: String, clientID: String, refreshToken: String?) async throws
        -> ConnectionCheck
    {
        let configuration = app.clientConfiguration(loginURL: loginURL, clientID: clientID)
        let rotated = TokenBox(refreshToken)
        let client = SalesforceClient(
            configuration: configuration, credentials: refreshToken.map { .refreshToken($0) } ?? .clientCredentials,
            httpClient: http, backgroundActivityLogger: logger,
            onRefreshTokenRotated: { new in rotated.value.withLock { $0 = new } })
        let facts = try await Self.facts(client: client, connectedUserID: nil, logger: logger)
        guard let instanceURL = client.instanceURL else {
            throw WorkFailure.permanent(code: "no_instance_url", "Salesforce's token response named no instance URL")
        }
        let connectedUserID = client.identityUserID
        try await store.saveConnection(
            SalesforceConnection(
                teamID: teamID, instanceURL: instanceURL, loginURL: configuration.loginURL, clientID: clientID,
                refreshToken: rotated.value.withLock { $0 }, connectedUserID: connectedUserID))
        var withUser = facts
        if let connectedUserID {
            withUser.connectedUser = .init(
                id: connectedUserID, isActive: try? await client.isActiveUser(id: connectedUserID, logger: logger))
        }
        let settings = try await settings(teamID: teamID)
        return ConnectionCheck(instanceURL: instanceURL, findings: OrgCheck.findings(settings, withUser))
    }

    /// Checks the team's org against its settings (``OrgCheck``): `docsend-sync team check`. The team must be
    /// connected; the checks read the org as the workers do, with the team's stored connection.
    public func check(teamID: String) async throws -> ConnectionCheck {
        guard let connection = try await store.connection(teamID: teamID) else {
            throw WorkFailure.permanent(code: "not_connected", "team \(teamID) has no Salesforce connection: run team connect first")
        }
        let client = try await orgs.client(teamID: teamID)
        let facts = try await Self.facts(client: client, connectedUserID: connection.connectedUserID, logger: logger)
        return ConnectionCheck(
            instanceURL: connection.instanceURL, findings: OrgCheck.findings(try await settings(teamID: teamID), facts))
    }

    /// What ``OrgCheck`` judges, read from the org: describes of the objects the workers use (an object the
    /// integration user cannot see has no entry), the Task statuses, the connecting User.
    static func facts(client: SalesforceClient, connectedUserID: String?, logger: Logger) async throws -> OrgFacts {
        var objects: [String: OrgFacts.ObjectAccess] = [:]
        var task: SObjectDescription?
        var lead: SObjectDescription?
        for name in ["Task", "Lead", "Contact", "Account", "User"] {
            let description: SObjectDescription
            do {
                description = try await client.describe(name, logger: logger)
            } catch let error as SalesforceError where error.httpStatus == 404 || error.httpStatus == 403 {
                continue
            }
            objects[name] = .init(
                queryable: description.queryable, createable: description.createable, updateable: description.updateable)
            if name == "Task" { task = description }
            if name == "Lead" { lead = description }
        }
        let statuses = try await client.taskStatuses(logger: logger)
        let leadSource = lead?.field("LeadSource").map(PicklistFieldDescription.init)
        var user: OrgFacts.ConnectedUser?
        if let connectedUserID {
            user = .init(id: connectedUserID, isActive: try? await client.isActiveUser(id: connectedUserID, logger: logger))
        }
        return OrgFacts(
            objects: objects, taskFields: task.map { TaskFieldDescription.all(in: $0) } ?? [], statuses: statuses,
            leadSource: leadSource, connectedUser: user)
    }

    /// The team's settings (the defaults when it has none yet).
    public func settings(teamID: String) async throws -> TeamSettings {
        try await orgs.settings(teamID: teamID)
    }

    /// The team's connection, if any (its description never shows the token).
    public func connection(teamID: String) async throws -> SalesforceConnection? {
        try await store.connection(teamID: teamID)
    }

    /// A setting refused whatever the org: its key and why.
    public struct InvalidSetting: Error, Sendable, Hashable, CustomStringConvertible {
        /// The setting's JSON key, e.g. `time_zone`.
        public var key: String
        public var problem: String
        public var description: String { "\(key): \(problem)" }
    }

    /// Changes the team's settings. A new time zone must be an IANA name (``TeamSettings/timeZoneProblem(_:)``),
    /// whoever sets it; a change to the field mapping or the external-id fields is checked against the org's Task
    /// fields first (the team must be connected) and refused with every problem found.
    @discardableResult
    public func updateSettings(teamID: String, _ change: (inout TeamSettings) -> Void) async throws -> TeamSettings {
        let current = try await settings(teamID: teamID)
        var updated = current
        change(&updated)
        if updated.timeZone != current.timeZone, let problem = TeamSettings.timeZoneProblem(updated.timeZone) {
            throw InvalidSetting(key: "time_zone", problem: problem)
        }
        if updated.fieldMapping != current.fieldMapping || updated.externalIDFields != current.externalIDFields {
            let fields = try await orgs.client(teamID: teamID).taskFields(logger: logger)
            let problems = Self.problems(updated, fields)
            guard problems.isEmpty else { throw FieldMappingValidationError(problems: problems) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try await store.saveTeamSettings(teamID: teamID, json: try encoder.encode(updated))
        return updated
    }

    /// Links a DocSend account to a Salesforce Account id (checked to exist in the org).
    public func linkAccount(teamID: String, docSendAccountID: String, salesforceAccountID: String) async throws {
        _ = try await orgs.client(teamID: teamID).get("Account", id: salesforceAccountID, fields: ["Id"], logger: logger)
        try await store.saveAccountLink(
            teamID: teamID, docSendAccountID: docSendAccountID, salesforceAccountID: salesforceAccountID)
    }

    /// The org's Task fields, as the mapping is checked against them (the admin page's choices).
    public func taskFields(teamID: String) async throws -> [TaskFieldDescription] {
        try await orgs.client(teamID: teamID).taskFields(logger: logger)
    }

    /// The team's signed-in client, its session shared with the workers (the admin service's Account search).
    public func client(teamID: String) async throws -> SalesforceClient {
        try await orgs.client(teamID: teamID)
    }

    private static func problems(_ settings: TeamSettings, _ fields: [TaskFieldDescription]) -> [FieldMappingProblem] {
        settings.externalIDFields.problems(against: fields) + settings.fieldMapping.problems(against: fields)
    }
}

import Jobs
import Logging
import Salesforce
import SyncCore

/// What the workers need to know of an org's set-up: Task statuses and the settings checked against the Task's
/// fields, per kind of Task.
struct OrgMetadata: Sendable {
    var statuses: [TaskStatusRecord]
    var fit: TaskFieldFit

    /// The mapping Tasks of `kind` write.
    ///
    /// - Throws: ``WorkFailure`` `field_mapping_invalid` (parked) listing every problem of the fields Tasks of `kind`
    ///   need (their external id, the properties they carry); the other kinds' fields do not matter.
    func mapping(for kind: ActivityKind, teamID: String) throws(WorkFailure) -> ResolvedFieldMapping {
        switch fit.mapping(for: kind) {
        case .success(let mapping): return mapping
        case .failure(let error):
            throw WorkFailure.permanent(
                code: "field_mapping_invalid",
                "team \(teamID)'s Task fields do not fit its settings for \(kind) Tasks: "
                    + error.problems.map(\.description).joined(separator: "; "))
        }
    }
}

/// Each team's org metadata (Task statuses, the Task's fields as `describe` gives them, Users by email), read from
/// Salesforce once per org and process (single-flight: jobs in flight on a cold process wait for one load) and kept
/// for ``lifetime``; a team's entries are forgotten when Salesforce says a field is gone.
final class OrgMetadataCache: Sendable {
    /// A User looked up in a team's org: by email (``users(teamID:email:client:logger:)``) or by id
    /// (``isActiveUser(teamID:id:client:logger:)``), each in its own cache.
    struct UserKey: Hashable, Sendable {
        var teamID: String
        var lookup: String
    }

    let lifetime: Duration
    /// Keyed by team, loaded for the settings it was checked against (the mapping and the external-id fields).
    private let metadata: SingleFlightCache<String, TeamSettings, OrgMetadata>
    private let users: SingleFlightCache<UserKey, Bool, SalesforceUser?>
    /// Keyed by team and User id: whether the User is active (the follow-up owner of last resort).
    private let activeUsers: SingleFlightCache<UserKey, Bool, Bool>
    /// Keyed by team: the `LeadSource` new Leads get.
    private let leadSources: SingleFlightCache<String, Bool, LeadSourceChoice>

    init(lifetime: Duration) {
        self.lifetime = lifetime
        metadata = SingleFlightCache(lifetime: lifetime)
        users = SingleFlightCache(lifetime: lifetime)
        activeUsers = SingleFlightCache(lifetime: lifetime)
        leadSources = SingleFlightCache(lifetime: lifetime)
    }

    /// Forgets what is known of the team's org (a field the mapping uses is gone, a picklist changed).
    func forget(teamID: String) {
        metadata.forget { $0 == teamID }
        users.forget { $0.teamID == teamID }
        activeUsers.forget { $0.teamID == teamID }
        leadSources.forget { $0 == teamID }
    }

    /// The `LeadSource` the team's new Leads get (``LeadSourceChoice``), from the Lead's describe; logged once per
    /// load when the org refuses `DocSend`.
    func leadSource(teamID: String, client: SalesforceClient, logger: Logger) async throws -> LeadSourceChoice {
        try await leadSources.value(teamID, version: true) {
            let choice = LeadSourceChoice.choose(field: try await client.leadSourceField(logger: logger))
            if case .omitted(let reason) = choice {
                logger.warning("new Leads are created without a LeadSource", metadata: ["docsend-reason": "\(reason)"])
            }
            return choice
        }
    }

    /// Whether the User `id` is active (an unknown id is not).
    func isActiveUser(teamID: String, id: String, client: SalesforceClient, logger: Logger) async throws -> Bool {
        try await activeUsers.value(UserKey(teamID: teamID, lookup: id), version: true) {
            try await client.isActiveUser(id: id, logger: logger)
        }
    }

    /// The org's Task statuses and the team's settings checked against the Task's fields, per kind of Task
    /// (``OrgMetadata/mapping(for:teamID:)`` says what a sync of one kind may write).
    func metadata(teamID: String, client: SalesforceClient, settings: TeamSettings, logger: Logger)
        async throws -> OrgMetadata
    {
        try await metadata.value(teamID, version: settings) {
            try await Self.load(teamID: teamID, client: client, settings: settings, logger: logger)
        }
    }

    private static func load(teamID: String, client: SalesforceClient, settings: TeamSettings, logger: Logger)
        async throws -> OrgMetadata
    {
        let statuses = try await client.taskStatuses(logger: logger)
        let fields = try await client.taskFields(logger: logger)
        return OrgMetadata(statuses: statuses, fit: TaskFieldFit(settings, against: fields))
    }

    /// The active User with `email`: one or none.
    func users(teamID: String, email: String?, client: SalesforceClient, logger: Logger) async throws -> [SalesforceUser] {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return [] }
        let user = try await users.value(UserKey(teamID: teamID, lookup: email), version: true) {
            let rows = try await client.query(
                .select(["Id", "Email", "IsActive"], from: "User").where(.equals("Email", .string(email))), logger: logger)
            let users = rows.compactMap { row -> SalesforceUser? in
                guard let id = row.id else { return nil }
                return SalesforceUser(
                    id: id, email: row["Email"]?.stringValue ?? "", isActive: row["IsActive"]?.boolValue ?? false)
            }
            return Matching.user(forEmail: email, among: users)
        }
        return user.map { [$0] } ?? []
    }
}

extension SalesforceClient {
    /// The org's Task statuses.
    func taskStatuses(logger: Logger) async throws -> [TaskStatusRecord] {
        let rows = try await query(
            .select(["ApiName", "MasterLabel", "IsClosed", "IsDefault"], from: "TaskStatus"), logger: logger)
        return rows.map { row in
            TaskStatusRecord(
                apiName: row["ApiName"]?.stringValue, masterLabel: row["MasterLabel"]?.stringValue ?? "",
                isClosed: row["IsClosed"]?.boolValue ?? false, isDefault: row["IsDefault"]?.boolValue ?? false)
        }
    }

    /// Whether the User `id` exists and is active.
    func isActiveUser(id: String, logger: Logger) async throws -> Bool {
        let rows = try await query(
            .select(["Id", "IsActive"], from: "User").where(.equals("Id", .string(id))), logger: logger)
        return rows.first?["IsActive"]?.boolValue ?? false
    }

    /// `Lead.LeadSource` as ``LeadSourceChoice`` judges it; `nil` when the Lead has no such field.
    func leadSourceField(logger: Logger) async throws -> PicklistFieldDescription? {
        try await describe("Lead", logger: logger).field("LeadSource").map(PicklistFieldDescription.init)
    }

    /// The org's Task fields as the mapping checks see them (`describe`).
    func taskFields(logger: Logger) async throws -> [TaskFieldDescription] {
        TaskFieldDescription.all(in: try await describe("Task", logger: logger))
    }
}

extension TaskFieldDescription {
    /// A Task describe's fields, as the mapping checks see them.
    static func all(in task: SObjectDescription) -> [TaskFieldDescription] {
        task.fields.map {
            TaskFieldDescription(
                name: $0.name, type: $0.type, length: $0.length, custom: $0.custom, createable: $0.createable,
                updateable: $0.updateable, externalId: $0.externalId, unique: $0.unique, caseSensitive: $0.caseSensitive)
        }
    }
}

extension PicklistFieldDescription {
    /// A picklist field as ``LeadSourceChoice`` judges it: its active values.
    init(_ field: FieldDescription) {
        self.init(
            createable: field.createable, restricted: field.restrictedPicklist,
            values: field.picklistValues.filter(\.active).map(\.value))
    }
}

import Foundation
import JSON
import SyncCore

/// A change of a team's settings: what is given changes, the rest stays. The API reads it from a JSON object with
/// the settings document's keys (``init(json:)``); the page builds it from its form.
public struct SettingsChange: Sendable, Hashable {
    public var syncVisits: Bool?
    public var syncDocumentLinks: Bool?
    public var syncSpaceLinks: Bool?
    public var createLeadsForUnmatchedEmails: Bool?
    public var createOpenTasksForUnmatchedRecords: Bool?
    /// Property → custom field to map it to, or `nil` to remove its mapping.
    public var fieldMapping: [SyncedProperty: String?]
    /// Activity → its external-id field.
    public var externalIDFields: [ActivityKind: String]
    /// The IANA time zone of Task dates (checked by ``AdminService/updateSettings(teamID:_:by:)``).
    public var timeZone: String?
    /// What a later write does with a Task a rep deleted in Salesforce.
    public var deletedTasks: DeletedTaskPolicy?

    /// An empty change.
    public init(
        syncVisits: Bool? = nil, syncDocumentLinks: Bool? = nil, syncSpaceLinks: Bool? = nil,
        createLeadsForUnmatchedEmails: Bool? = nil, createOpenTasksForUnmatchedRecords: Bool? = nil,
        fieldMapping: [SyncedProperty: String?] = [:], externalIDFields: [ActivityKind: String] = [:],
        timeZone: String? = nil, deletedTasks: DeletedTaskPolicy? = nil
    ) {
        self.syncVisits = syncVisits
        self.syncDocumentLinks = syncDocumentLinks
        self.syncSpaceLinks = syncSpaceLinks
        self.createLeadsForUnmatchedEmails = createLeadsForUnmatchedEmails
        self.createOpenTasksForUnmatchedRecords = createOpenTasksForUnmatchedRecords
        self.fieldMapping = fieldMapping
        self.externalIDFields = externalIDFields
        self.timeZone = timeZone
        self.deletedTasks = deletedTasks
    }

    /// Reads a change from a JSON object such as
    /// `{"sync_visits": false, "field_mapping": {"visit_duration": "DocSend_Duration__c", "percent_viewed": null}}`;
    /// an unknown key or a value of the wrong type is refused with every problem, per field.
    public init(json data: Data) throws {
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw AdminError.invalid("the body is not a JSON object")
        }
        self.init()
        var problems: [AdminError.FieldProblem] = []
        let toggles: [(String, WritableKeyPath<SettingsChange, Bool?>)] = [
            ("sync_visits", \.syncVisits), ("sync_document_links", \.syncDocumentLinks),
            ("sync_space_links", \.syncSpaceLinks), ("create_leads_for_unmatched_emails", \.createLeadsForUnmatchedEmails),
            ("create_open_tasks_for_unmatched_records", \.createOpenTasksForUnmatchedRecords),
        ]
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if let toggle = toggles.first(where: { $0.0 == key }) {
                if case .bool(let flag) = value {
                    self[keyPath: toggle.1] = flag
                } else {
                    problems.append(.init(field: key, message: "expected true or false"))
                }
            } else if key == "field_mapping" {
                guard case .object(let entries) = value else {
                    problems.append(.init(field: key, message: "expected an object of property → field name or null"))
                    continue
                }
                for (name, field) in entries.sorted(by: { $0.key < $1.key }) {
                    guard let property = SyncedProperty(rawValue: name) else {
                        problems.append(.init(field: "field_mapping.\(Self.shown(name))", message: "unknown property"))
                        continue
                    }
                    switch field {
                    case .null: fieldMapping[property] = .some(nil)
                    case .string(let text): fieldMapping[property] = .some(text)
                    default: problems.append(.init(field: "field_mapping.\(name)", message: "expected a field name or null"))
                    }
                }
            } else if key == "external_id_fields" {
                guard case .object(let entries) = value else {
                    problems.append(.init(field: key, message: "expected an object of activity → field name"))
                    continue
                }
                for (name, field) in entries.sorted(by: { $0.key < $1.key }) {
                    guard let kind = ActivityKind(rawValue: name) else {
                        problems.append(.init(field: "external_id_fields.\(Self.shown(name))", message: "unknown activity"))
                        continue
                    }
                    guard case .string(let text) = field else {
                        problems.append(.init(field: "external_id_fields.\(name)", message: "expected a field name"))
                        continue
                    }
                    externalIDFields[kind] = text
                }
            } else if key == "deleted_tasks" {
                if case .string(let name) = value, let policy = DeletedTaskPolicy(rawValue: name) {
                    deletedTasks = policy
                } else {
                    let names = DeletedTaskPolicy.allCases.map(\.rawValue).joined(separator: " or ")
                    problems.append(.init(field: key, message: "expected \(names)"))
                }
            } else if key == "time_zone" {
                if case .string(let name) = value {
                    timeZone = name
                } else {
                    problems.append(.init(field: key, message: "expected an IANA time zone name"))
                }
            } else {
                problems.append(.init(field: Self.shown(key), message: "unknown setting"))
            }
        }
        guard problems.isEmpty else {
            throw AdminError(.validationFailed, "the change is not valid", status: 422, fields: problems)
        }
    }

    /// A key as shown back in a problem: at most 64 characters.
    private static func shown(_ key: String) -> String { String(key.prefix(64)) }

    /// Whether nothing would change.
    public var isEmpty: Bool { self == SettingsChange() }

    /// Applies the change.
    public func apply(to settings: inout TeamSettings) {
        if let syncVisits { settings.syncVisits = syncVisits }
        if let syncDocumentLinks { settings.syncDocumentLinks = syncDocumentLinks }
        if let syncSpaceLinks { settings.syncSpaceLinks = syncSpaceLinks }
        if let createLeadsForUnmatchedEmails { settings.createLeadsForUnmatchedEmails = createLeadsForUnmatchedEmails }
        if let createOpenTasksForUnmatchedRecords {
            settings.createOpenTasksForUnmatchedRecords = createOpenTasksForUnmatchedRecords
        }
        for (property, field) in fieldMapping { settings.fieldMapping.fields[property] = field }
        for (kind, field) in externalIDFields {
            switch kind {
            case .visit: settings.externalIDFields.visit = field
            case .documentLink: settings.externalIDFields.documentLink = field
            case .spaceLink: settings.externalIDFields.spaceLink = field
            }
        }
        if let timeZone { settings.timeZone = timeZone }
        if let deletedTasks { settings.deletedTasks = deletedTasks }
    }

    /// The change's own problems, before anything is saved: a time zone that is no IANA name.
    var problems: [AdminError.FieldProblem] {
        guard let timeZone, let problem = TeamSettings.timeZoneProblem(timeZone) else { return [] }
        return [.init(field: "time_zone", message: problem)]
    }

    /// A mapping problem as a field problem: `field_mapping.<property>` or `external_id_fields.<activity>`.
    static func fieldProblem(_ problem: FieldMappingProblem) -> AdminError.FieldProblem {
        if let property = SyncedProperty.allCases.first(where: { $0.label == problem.subject }) {
            return .init(field: "field_mapping.\(property.rawValue)", message: problem.description)
        }
        if let kind = ActivityKind.allCases.first(where: { "External id (\($0))" == problem.subject }) {
            return .init(field: "external_id_fields.\(kind.rawValue)", message: problem.description)
        }
        return .init(field: "settings", message: problem.description)
    }

    /// What differs between two settings, keyed like the problems: `{"sync_visits": {"from": true, "to": false}}`.
    static func differences(_ before: TeamSettings, _ after: TeamSettings) -> [String: AuditValue] {
        var changed: [String: AuditValue] = [:]
        func note(_ key: String, _ old: AuditValue, _ new: AuditValue) {
            if old != new { changed[key] = .object(["from": old, "to": new]) }
        }
        note("sync_visits", .bool(before.syncVisits), .bool(after.syncVisits))
        note("sync_document_links", .bool(before.syncDocumentLinks), .bool(after.syncDocumentLinks))
        note("sync_space_links", .bool(before.syncSpaceLinks), .bool(after.syncSpaceLinks))
        note(
            "create_leads_for_unmatched_emails", .bool(before.createLeadsForUnmatchedEmails),
            .bool(after.createLeadsForUnmatchedEmails))
        note(
            "create_open_tasks_for_unmatched_records", .bool(before.createOpenTasksForUnmatchedRecords),
            .bool(after.createOpenTasksForUnmatchedRecords))
        for property in SyncedProperty.allCases {
            note(
                "field_mapping.\(property.rawValue)", before.fieldMapping[property].map(AuditValue.string) ?? .null,
                after.fieldMapping[property].map(AuditValue.string) ?? .null)
        }
        note("time_zone", .string(before.timeZone), .string(after.timeZone))
        note("deleted_tasks", .string(before.deletedTasks.rawValue), .string(after.deletedTasks.rawValue))
        for kind in ActivityKind.allCases {
            note(
                "external_id_fields.\(kind.rawValue)", .string(before.externalIDFields.field(for: kind)),
                .string(after.externalIDFields.field(for: kind)))
        }
        return changed
    }
}

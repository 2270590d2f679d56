import Foundation

/// A team's Salesforce sync settings, as admins set them in DocSend's settings page.
///
/// Every sync can be switched on or off (visits, document links, space links), as can the two options for
/// visits that match no Lead or Contact. The field mapping sends each synced property to a custom Task field
/// *as well as* to the Task's Comments.
///
/// Defaults (a team that just connected Salesforce): every sync on, both options off, no mapping, the
/// default external-id fields, Task dates in UTC, a Task a rep deleted written again whole. Decoding is forward compatible: a missing key takes its default, unknown keys
/// are ignored.
public struct TeamSettings: Sendable, Hashable, Codable {
    /// Sync visits into Tasks.
    public var syncVisits: Bool
    /// Sync document link creations into Tasks.
    public var syncDocumentLinks: Bool
    /// Sync space link creations into Tasks.
    public var syncSpaceLinks: Bool
    /// Option *Create new leads for unmatched emails*.
    public var createLeadsForUnmatchedEmails: Bool
    /// Option *Create open tasks for unmatched records*.
    public var createOpenTasksForUnmatchedRecords: Bool
    /// Synced properties mapped to custom Task fields.
    public var fieldMapping: FieldMapping
    /// The custom Task fields holding the idempotency keys.
    public var externalIDFields: ExternalIDFields
    /// The IANA time zone (e.g. `America/Los_Angeles`) whose calendar day is every Task's `ActivityDate`: an evening
    /// visit in California is dated that evening's day, not tomorrow's UTC day. `UTC` by default.
    /// ``timeZoneProblem(_:)`` says whether an identifier may be set.
    public var timeZone: String
    /// What a later write (visit re-sync, link visitor refresh) does when a sales rep deleted the Task in Salesforce:
    /// write it again whole (``DeletedTaskPolicy/recreate``, the default) or leave it deleted
    /// (``DeletedTaskPolicy/leave``). Never half a Task either way (``DeletedTaskRule``).
    public var deletedTasks: DeletedTaskPolicy

    /// Creates settings; every argument has the default a newly connected team gets.
    public init(
        syncVisits: Bool = true, syncDocumentLinks: Bool = true, syncSpaceLinks: Bool = true,
        createLeadsForUnmatchedEmails: Bool = false, createOpenTasksForUnmatchedRecords: Bool = false,
        fieldMapping: FieldMapping = [:], externalIDFields: ExternalIDFields = .init(),
        timeZone: String = TeamSettings.defaultTimeZone, deletedTasks: DeletedTaskPolicy = .recreate
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

    /// The time zone of teams that set none: `UTC`.
    public static let defaultTimeZone = "UTC"

    /// The time zone Task dates are taken in: ``timeZone``, or UTC when it names none (settings are checked when
    /// set, so only a hand-edited store gets there).
    public var activityTimeZone: TimeZone { TimeZone(identifier: timeZone) ?? .gmt }

    /// Why `identifier` cannot be a team's time zone, or `nil` when it can: it must be an IANA time zone name
    /// (`America/Los_Angeles`, `Europe/Paris`, `Asia/Kolkata`, `UTC`), exactly as the tz database spells it (an
    /// `Area/Location` the system knows, case included). Offsets (`GMT+2`) and abbreviations (`PST`) are refused:
    /// they do not follow daylight saving time, or are ambiguous.
    public static func timeZoneProblem(_ identifier: String) -> String? {
        let iana = identifier == "UTC" || (identifier.contains("/") && TimeZone(identifier: identifier)?.identifier == identifier)
        guard iana else {
            return "not an IANA time zone name; use one such as America/Los_Angeles, Europe/Paris or UTC"
        }
        return nil
    }

    /// Whether the sync of `kind` is on.
    public func isSyncEnabled(_ kind: ActivityKind) -> Bool {
        switch kind {
        case .visit: syncVisits
        case .documentLink: syncDocumentLinks
        case .spaceLink: syncSpaceLinks
        }
    }

    enum CodingKeys: String, CodingKey {
        case syncVisits = "sync_visits"
        case syncDocumentLinks = "sync_document_links"
        case syncSpaceLinks = "sync_space_links"
        case createLeadsForUnmatchedEmails = "create_leads_for_unmatched_emails"
        case createOpenTasksForUnmatchedRecords = "create_open_tasks_for_unmatched_records"
        case fieldMapping = "field_mapping"
        case externalIDFields = "external_id_fields"
        case timeZone = "time_zone"
        case deletedTasks = "deleted_tasks"
    }

    public init(from decoder: any Decoder) throws {
        let defaults = TeamSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        syncVisits = try c.decodeIfPresent(Bool.self, forKey: .syncVisits) ?? defaults.syncVisits
        syncDocumentLinks = try c.decodeIfPresent(Bool.self, forKey: .syncDocumentLinks) ?? defaults.syncDocumentLinks
        syncSpaceLinks = try c.decodeIfPresent(Bool.self, forKey: .syncSpaceLinks) ?? defaults.syncSpaceLinks
        createLeadsForUnmatchedEmails =
            try c.decodeIfPresent(Bool.self, forKey: .createLeadsForUnmatchedEmails)
            ?? defaults.createLeadsForUnmatchedEmails
        createOpenTasksForUnmatchedRecords =
            try c.decodeIfPresent(Bool.self, forKey: .createOpenTasksForUnmatchedRecords)
            ?? defaults.createOpenTasksForUnmatchedRecords
        fieldMapping = try c.decodeIfPresent(FieldMapping.self, forKey: .fieldMapping) ?? defaults.fieldMapping
        externalIDFields =
            try c.decodeIfPresent(ExternalIDFields.self, forKey: .externalIDFields) ?? defaults.externalIDFields
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? defaults.timeZone
        // A value this version does not know (a hand-edited store, a newer writer) takes the default rather than
        // making the team's every job fail; the CLI and the admin API only store known values.
        deletedTasks =
            try c.decodeIfPresent(String.self, forKey: .deletedTasks).flatMap(DeletedTaskPolicy.init(rawValue:))
            ?? defaults.deletedTasks
    }
}

/// The three kinds of activity that become Tasks.
public enum ActivityKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// A visit of a link.
    case visit
    /// A document link creation.
    case documentLink = "document_link"
    /// A space link creation.
    case spaceLink = "space_link"

    /// `visit`, `document link`, `space link`.
    public var description: String {
        switch self {
        case .visit: "visit"
        case .documentLink: "document link"
        case .spaceLink: "space link"
        }
    }
}

/// A property DocSend syncs into a Task, which an admin may map to a custom Task field.
public enum SyncedProperty: String, Sendable, Hashable, CaseIterable, Codable, CodingKeyRepresentable,
    CustomStringConvertible
{
    /// Document name (visits and document links).
    case documentName = "document_name"
    /// DocSend account name (all three kinds).
    case accountName = "account_name"
    /// Visit duration, in seconds.
    case visitDuration = "visit_duration"
    /// Percent of the document viewed, 0…100.
    case percentViewed = "percent_viewed"
    /// Link to the visit's full analytics.
    case analyticsLink = "analytics_link"
    /// Document URL (document links).
    case documentURL = "document_url"
    /// Internal link URL, the link's page in DocSend (document links).
    case internalLinkURL = "internal_link_url"
    /// External link URL, the URL visitors open (document links).
    case externalLinkURL = "external_link_url"
    /// The link's visitors, one per line (document links).
    case visitors
    /// Space name (space links).
    case spaceName = "space_name"
    /// Space URL (space links).
    case spaceURL = "space_url"
    /// Internal space URL (space links).
    case internalSpaceURL = "internal_space_url"

    /// What a mapped field must be able to hold.
    public enum ValueKind: Sendable, Hashable {
        /// One-line text: `string` or `textarea` fields.
        case text
        /// A URL: `url`, `string` or `textarea` fields.
        case url
        /// A number: `double`, `int` or `percent` fields.
        case number
        /// Multi-line text: `textarea` or `string` fields.
        case longText

        /// The describe `type`s a field may have to hold this kind of value.
        public var acceptedFieldTypes: [String] {
            switch self {
            case .text: ["string", "textarea"]
            case .url: ["url", "string", "textarea"]
            case .number: ["double", "int", "percent"]
            case .longText: ["textarea", "string"]
            }
        }
    }

    /// The kind of value this property holds.
    public var valueKind: ValueKind {
        switch self {
        case .documentName, .accountName, .spaceName: .text
        case .visitDuration, .percentViewed: .number
        case .analyticsLink, .documentURL, .internalLinkURL, .externalLinkURL, .spaceURL, .internalSpaceURL: .url
        case .visitors: .longText
        }
    }

    /// The activities whose Tasks carry this property.
    public var activities: Set<ActivityKind> {
        switch self {
        case .documentName: [.visit, .documentLink]
        case .accountName: [.visit, .documentLink, .spaceLink]
        case .visitDuration, .percentViewed, .analyticsLink: [.visit]
        case .documentURL, .internalLinkURL, .externalLinkURL, .visitors: [.documentLink]
        case .spaceName, .spaceURL, .internalSpaceURL: [.spaceLink]
        }
    }

    /// The label shown to admins and used in the Comments block, e.g. `Visit duration`.
    public var label: String {
        switch self {
        case .documentName: "Document name"
        case .accountName: "Account name"
        case .visitDuration: "Visit duration"
        case .percentViewed: "Percent viewed"
        case .analyticsLink: "Full analytics"
        case .documentURL: "Document URL"
        case .internalLinkURL: "Internal link URL"
        case .externalLinkURL: "External link URL"
        case .visitors: "Visitors"
        case .spaceName: "Space name"
        case .spaceURL: "Space URL"
        case .internalSpaceURL: "Internal space URL"
        }
    }

    public var description: String { label }
}

/// Which custom Task field (API name, e.g. `DocSend_Duration__c`) each synced property is *also* written to.
///
/// Encodes as a JSON object keyed by the property's snake_case name; unknown keys are ignored on decoding.
public struct FieldMapping: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// Property → custom Task field API name.
    public var fields: [SyncedProperty: String]

    /// A mapping from a dictionary.
    public init(_ fields: [SyncedProperty: String] = [:]) { self.fields = fields }

    public init(dictionaryLiteral elements: (SyncedProperty, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// The field `property` is mapped to, if any.
    public subscript(property: SyncedProperty) -> String? {
        get { fields[property] }
        set { fields[property] = newValue }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: String].self)
        var fields: [SyncedProperty: String] = [:]
        for (key, value) in raw {
            guard let property = SyncedProperty(rawValue: key) else { continue }
            fields[property] = value
        }
        self.fields = fields
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: fields.map { ($0.key.rawValue, $0.value) }))
    }
}

/// The custom Task fields (Text, External ID, Unique) that hold each activity's idempotency key, so that
/// re-syncs and redeliveries upsert the same Task instead of creating a second one.
///
/// The key is the DocSend id as is (`visit_id`, `link_id`, `space_link_id`, at most 255 bytes, so it fits a
/// Text(255) field); one field per kind keeps ids of different kinds from colliding.
public struct ExternalIDFields: Sendable, Hashable, Codable {
    /// Key of visit Tasks: the visit id.
    public var visit: String
    /// Key of document-link Tasks: the link id.
    public var documentLink: String
    /// Key of space-link Tasks: the space link id.
    public var spaceLink: String

    /// Creates the set; the defaults are the fields the DocSend package installs.
    public init(
        visit: String = "DocSend_Visit_Id__c", documentLink: String = "DocSend_Link_Id__c",
        spaceLink: String = "DocSend_Space_Link_Id__c"
    ) {
        self.visit = visit
        self.documentLink = documentLink
        self.spaceLink = spaceLink
    }

    /// The field keying Tasks of `kind`.
    public func field(for kind: ActivityKind) -> String {
        switch kind {
        case .visit: visit
        case .documentLink: documentLink
        case .spaceLink: spaceLink
        }
    }

    enum CodingKeys: String, CodingKey {
        case visit
        case documentLink = "document_link"
        case spaceLink = "space_link"
    }

    public init(from decoder: any Decoder) throws {
        let defaults = ExternalIDFields()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        visit = try c.decodeIfPresent(String.self, forKey: .visit) ?? defaults.visit
        documentLink = try c.decodeIfPresent(String.self, forKey: .documentLink) ?? defaults.documentLink
        spaceLink = try c.decodeIfPresent(String.self, forKey: .spaceLink) ?? defaults.spaceLink
    }
}

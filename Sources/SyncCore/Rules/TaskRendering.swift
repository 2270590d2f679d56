import Foundation

/// One `TaskStatus` row a worker fetched (`SELECT ApiName, MasterLabel, IsClosed, IsDefault FROM TaskStatus`).
public struct TaskStatusRecord: Sendable, Hashable, Codable {
    /// `ApiName` (the value written to `Task.Status`), when the org reports it.
    public var apiName: String?
    /// `MasterLabel`
    public var masterLabel: String
    /// `IsClosed`
    public var isClosed: Bool
    /// `IsDefault`
    public var isDefault: Bool

    /// Creates a status row.
    public init(apiName: String? = nil, masterLabel: String, isClosed: Bool, isDefault: Bool = false) {
        self.apiName = apiName
        self.masterLabel = masterLabel
        self.isClosed = isClosed
        self.isDefault = isDefault
    }

    /// The value to write to `Task.Status`: `ApiName`, else `MasterLabel`.
    public var value: String {
        if let apiName, !apiName.isEmpty { return apiName }
        return masterLabel
    }
}

/// Why a Task cannot be rendered.
public enum TaskRenderingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The org has no closed Task status.
    case noClosedStatus
    /// The org has no open Task status.
    case noOpenStatus

    public var description: String {
        switch self {
        case .noClosedStatus: "the org's TaskStatus list has no closed status to log the activity with"
        case .noOpenStatus: "the org's TaskStatus list has no open status for a follow-up task"
        }
    }
}

/// The Task status rules.
public enum TaskStatusChoice {
    /// The status of a logged Task: `Completed` when the org has it as a closed status, else the first closed
    /// status (a default one first), `nil` when there is none.
    public static func closedStatus(in statuses: [TaskStatusRecord]) -> String? {
        let closed = statuses.filter(\.isClosed)
        return (closed.first { $0.value == "Completed" } ?? closed.first(where: \.isDefault) ?? closed.first)?.value
    }

    /// The status of a follow-up Task: the org's default status when it is open, else the first open status,
    /// `nil` when there is none.
    public static func defaultOpenStatus(in statuses: [TaskStatusRecord]) -> String? {
        let open = statuses.filter { !$0.isClosed }
        return (open.first(where: \.isDefault) ?? open.first)?.value
    }

    /// The status for `disposition`.
    public static func status(for disposition: TaskDisposition, in statuses: [TaskStatusRecord])
        throws(TaskRenderingError) -> String
    {
        switch disposition {
        case .logged:
            guard let status = closedStatus(in: statuses) else { throw .noClosedStatus }
            return status
        case .followUp:
            guard let status = defaultOpenStatus(in: statuses) else { throw .noOpenStatus }
            return status
        }
    }
}

/// Everything a Task needs besides the activity: where it goes and how the org is set up.
public struct TaskContext: Sendable, Hashable {
    /// `WhoId` / `WhatId`.
    public var relations: TaskRelations
    /// Logged (closed) or follow-up (open).
    public var disposition: TaskDisposition
    /// `OwnerId`: the link owner's (or creator's) Salesforce User; `nil` leaves the integration user.
    public var ownerID: String?
    /// The org's Task statuses.
    public var statuses: [TaskStatusRecord]
    /// Custom fields the properties also go to.
    public var mapping: ResolvedFieldMapping
    /// The idempotency-key fields.
    public var externalIDFields: ExternalIDFields
    /// The time zone `ActivityDate` is taken in (UTC by default).
    public var timeZone: TimeZone

    /// Creates a context.
    public init(
        relations: TaskRelations, disposition: TaskDisposition = .logged, ownerID: String? = nil,
        statuses: [TaskStatusRecord], mapping: ResolvedFieldMapping = .none,
        externalIDFields: ExternalIDFields = .init(), timeZone: TimeZone = .gmt
    ) {
        self.relations = relations
        self.disposition = disposition
        self.ownerID = ownerID
        self.statuses = statuses
        self.mapping = mapping
        self.externalIDFields = externalIDFields
        self.timeZone = timeZone
    }
}

/// A Task ready to be written, keyed for an idempotent upsert.
///
/// The first write upserts ``fields`` on `PATCH /sobjects/Task/{externalIDField}/{externalID}` (or
/// ``recordWithExternalID`` in an sObject Collections upsert). Later writes (visit re-syncs, visitor refreshes)
/// send ``updateFields`` only: the activity's changing content, never `Status`, `OwnerId`, `WhoId`/`WhatId`
/// or `Subject`, which a sales rep may have changed since (closing a follow-up Task, reassigning it).
public struct RenderedTask: Sendable, Hashable {
    /// The external-id field, e.g. `DocSend_Visit_Id__c`.
    public var externalIDField: String
    /// Its value: the DocSend id.
    public var externalID: String
    /// Every field to create the Task with (the external id is in the URL, not here).
    public var fields: [String: FieldValue]
    /// The names of the fields a later write updates.
    public var updateFieldNames: Set<String>

    /// A rendered Task (normally built by ``TaskRendering``).
    public init(
        externalIDField: String, externalID: String, fields: [String: FieldValue], updateFieldNames: Set<String>
    ) {
        self.externalIDField = externalIDField
        self.externalID = externalID
        self.fields = fields
        self.updateFieldNames = updateFieldNames
    }

    /// The fields a later write sends.
    public var updateFields: [String: FieldValue] { fields.filter { updateFieldNames.contains($0.key) } }

    /// ``fields`` plus the external id, for sObject Collections upserts.
    public var recordWithExternalID: [String: FieldValue] {
        var record = fields
        record[externalIDField] = .string(externalID)
        return record
    }

    /// ``updateFields`` plus the external id, for sObject Collections upserts.
    public var updateRecordWithExternalID: [String: FieldValue] {
        var record = updateFields
        record[externalIDField] = .string(externalID)
        return record
    }
}

/// The Task rendering rules: Subject, Comments, custom fields, Status, owner, date and relations.
///
/// Every text is cut to its field's limit on a grapheme boundary (Subject 255, Comments 32,000, custom fields
/// their describe length); every value on a one-line field or on a line of the Comments is put on one line
/// first, so hostile names cannot forge lines.
public enum TaskRendering {
    /// `Task.Subject` limit.
    public static let subjectLimit = 255
    /// `Task.Description` (Comments) limit.
    public static let descriptionLimit = 32_000
    /// Longest visitor label in a Subject, so the document name keeps room.
    static let subjectNameLimit = 80

    // MARK: Visits

    /// The Task for a visit, with the values to show (``VisitSyncState/currentValues``).
    public static func visitTask(
        _ visit: VisitStarted, values: SyncedVisitValues, context: TaskContext
    ) throws(TaskRenderingError) -> RenderedTask {
        let who = visitorLabel(visit.visitor)
        let properties: [(SyncedProperty, PropertyValue)] = [
            (.documentName, .text(visit.document.name)),
            (.accountName, .text(visit.account?.name ?? "")),
            (.visitDuration, .number(Double(values.durationSeconds), shown: formatDuration(values.durationSeconds))),
            (.percentViewed, .number(values.percentViewed, shown: formatPercent(values.percentViewed))),
            (.analyticsLink, .url(visit.analyticsURL)),
        ]
        let visitorLine = "Visitor: " + (visitorDisplay(visit.visitor) ?? "anonymous")
        let description = descriptionBlock(properties, extraLines: [visitorLine])
        return try task(
            kind: .visit, id: visit.visitID,
            subject: subject(prefix: "DocSend: \(cutName(who)) viewed ", quotedName: visit.document.name),
            description: description, properties: properties, date: visit.startedAt, context: context,
            updated: [.visitDuration, .percentViewed])
    }

    // MARK: Links

    /// The Task for a document link, listing its visitors.
    public static func linkTask(_ link: LinkCreated, visitors: LinkVisitorList, context: TaskContext)
        throws(TaskRenderingError) -> RenderedTask
    {
        let creator = SalesforceText.singleLine(link.creatorEmail)
        var properties: [(SyncedProperty, PropertyValue)] = [
            (.documentName, .text(link.document.name)),
            (.accountName, .text(link.account?.name ?? "")),
            (.documentURL, .url(link.document.url)),
            (.internalLinkURL, .url(link.internalURL)),
            (.externalLinkURL, .url(link.externalURL)),
        ]
        var extra: [String] = []
        if let name = link.linkName.map({ SalesforceText.singleLine($0) }), !name.isEmpty {
            extra.append("Link name: " + name)
        }
        extra.append("Created by: " + creator)
        var head = descriptionBlock(properties, extraLines: extra)
        head += "\nVisitors (\(visitors.visitors.count)\(visitors.isCapped ? "+" : "")):"
        let visitorLines = visitors.visitors.map { "- " + $0.displayText }
        let description = appendCapped(
            lines: visitorLines, to: head, empty: "\n(none yet)", limit: descriptionLimit,
            capped: visitors.isCapped)
        let visitorsText = visitors.visitors.map(\.displayText).joined(separator: "\n")
        properties.append((.visitors, .longText(visitorsText)))
        return try task(
            kind: .documentLink, id: link.linkID,
            subject: subject(prefix: "DocSend: \(cutName(creator)) created a link to ", quotedName: link.document.name),
            description: description, properties: properties, date: link.createdAt, context: context,
            updated: [.visitors])
    }

    /// The Task for a space link.
    public static func spaceLinkTask(_ spaceLink: SpaceLinkCreated, context: TaskContext)
        throws(TaskRenderingError) -> RenderedTask
    {
        let creator = SalesforceText.singleLine(spaceLink.creatorEmail)
        let properties: [(SyncedProperty, PropertyValue)] = [
            (.spaceName, .text(spaceLink.space.name)),
            (.accountName, .text(spaceLink.account?.name ?? "")),
            (.spaceURL, .url(spaceLink.space.url)),
            (.internalSpaceURL, .url(spaceLink.internalURL)),
        ]
        return try task(
            kind: .spaceLink, id: spaceLink.spaceLinkID,
            subject: subject(
                prefix: "DocSend: \(cutName(creator)) created a space link to ", quotedName: spaceLink.space.name),
            description: descriptionBlock(properties, extraLines: ["Created by: " + creator]),
            properties: properties, date: spaceLink.createdAt, context: context, updated: [])
    }

    // MARK: Formatting rules

    /// A duration for people: `45 s`, `2 min 5 s`, `2 min`, `1 h 3 min`.
    public static func formatDuration(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 {
            let rest = seconds % 60
            return rest == 0 ? "\(seconds / 60) min" : "\(seconds / 60) min \(rest) s"
        }
        let minutes = seconds / 60 % 60
        return minutes == 0 ? "\(seconds / 3600) h" : "\(seconds / 3600) h \(minutes) min"
    }

    /// A percent with at most one decimal: `45%`, `45.5%`.
    public static func formatPercent(_ percent: Double) -> String {
        guard percent.isFinite else { return "0%" }
        let tenths = (min(max(percent, 0), 100) * 10).rounded()
        let whole = Int(tenths) / 10
        let decimal = Int(tenths) % 10
        return decimal == 0 ? "\(whole)%" : "\(whole).\(decimal)%"
    }

    /// How a visitor is named in a Subject: name, else email, else `Someone`.
    public static func visitorLabel(_ visitor: VisitorInfo) -> String {
        if let name = visitor.name.map({ SalesforceText.singleLine($0) }), !name.isEmpty { return name }
        if let email = Matching.normalizedEmail(visitor.email) { return SalesforceText.singleLine(email) }
        return "Someone"
    }

    /// A Subject: `prefix` then `"name"`, the name cut (with `…`) so the closing quote always fits in 255.
    public static func subject(prefix: String, quotedName name: String) -> String {
        let prefix = SalesforceText.cut(prefix, to: subjectLimit - 2, ellipsis: true)
        let room = subjectLimit - SalesforceText.length(prefix) - 2
        let shown = SalesforceText.singleLine(name, limit: room)
        return prefix + "\"" + shown + "\""
    }

    // MARK: Internals

    enum PropertyValue {
        case text(String)
        case url(String)
        case number(Double, shown: String)
        case longText(String)

        var shown: String {
            switch self {
            case .text(let text), .url(let text), .longText(let text): SalesforceText.singleLine(text)
            case .number(_, let shown): shown
            }
        }
    }

    private static func cutName(_ name: String) -> String {
        SalesforceText.cut(name, to: subjectNameLimit, ellipsis: true)
    }

    private static func visitorDisplay(_ visitor: VisitorInfo) -> String? {
        let email = Matching.normalizedEmail(visitor.email).map { SalesforceText.singleLine($0) }
        let name = visitor.name.map { SalesforceText.singleLine($0) }.flatMap { $0.isEmpty ? nil : $0 }
        switch (name, email) {
        case (let name?, let email?): return "\(name) <\(email)>"
        case (nil, let email?): return email
        case (let name?, nil): return name
        case (nil, nil): return nil
        }
    }

    /// `Label: value` lines for the properties (long text excepted), then `extraLines`.
    private static func descriptionBlock(_ properties: [(SyncedProperty, PropertyValue)], extraLines: [String])
        -> String
    {
        var lines: [String] = []
        for (property, value) in properties {
            if case .longText = value { continue }
            let shown = value.shown
            lines.append("\(property.label): \(shown.isEmpty ? "(none)" : shown)")
        }
        return SalesforceText.cut((lines + extraLines).joined(separator: "\n"), to: descriptionLimit, ellipsis: true)
    }

    /// `head` followed by as many `lines` as fit in `limit`, then `… and N more` for those that do not.
    private static func appendCapped(lines: [String], to head: String, empty: String, limit: Int, capped: Bool)
        -> String
    {
        guard !lines.isEmpty else { return SalesforceText.cut(head + empty, to: limit, ellipsis: true) }
        let reserve = 64  // room for the "… and N more" line
        var text = head
        var used = SalesforceText.length(head)
        var shown = 0
        for line in lines {
            let cutLine = SalesforceText.cut(line, to: 1_000, ellipsis: true)
            let size = 1 + SalesforceText.length(cutLine)
            guard used + size <= limit - reserve else { break }
            text += "\n" + cutLine
            used += size
            shown += 1
        }
        if shown < lines.count {
            text += "\n… and \(lines.count - shown) more"
        } else if capped {
            text += "\n… and more (the list keeps the first \(lines.count))"
        }
        return SalesforceText.cut(text, to: limit, ellipsis: true)
    }

    private static func task(
        kind: ActivityKind, id: String, subject: String, description: String,
        properties: [(SyncedProperty, PropertyValue)], date: Date, context: TaskContext,
        updated: Set<SyncedProperty>
    ) throws(TaskRenderingError) -> RenderedTask {
        var fields: [String: FieldValue] = [
            "Subject": .string(subject),
            "Description": .string(description),
            "Status": .string(try TaskStatusChoice.status(for: context.disposition, in: context.statuses)),
            "ActivityDate": .date(SalesforceDate(date, timeZone: context.timeZone)),
        ]
        if let owner = context.ownerID { fields["OwnerId"] = .string(owner) }
        if let who = context.relations.whoID { fields["WhoId"] = .string(who) }
        if let what = context.relations.whatID { fields["WhatId"] = .string(what) }
        var updateNames: Set<String> = ["Description"]
        for (property, value) in properties {
            guard property.activities.contains(kind), let field = context.mapping.fields[property] else { continue }
            fields[field.name] = mappedValue(value, into: field)
            if updated.contains(property) { updateNames.insert(field.name) }
        }
        return RenderedTask(
            externalIDField: context.externalIDFields.field(for: kind), externalID: id, fields: fields,
            updateFieldNames: updateNames)
    }

    /// A property's value as its custom field takes it: numbers as numbers (rounded for `int` fields), text
    /// cut to the field's length, a URL that does not fit written as `null` (a cut URL is a wrong link).
    static func mappedValue(_ value: PropertyValue, into field: MappedTaskField) -> FieldValue {
        let limit = field.length > 0 ? field.length : 255
        switch value {
        case .number(let number, _):
            return .number(field.type.lowercased() == "int" ? number.rounded() : number)
        case .text(let text):
            return .string(SalesforceText.singleLine(text, limit: limit))
        case .longText(let text):
            return .string(SalesforceText.cut(text, to: limit, ellipsis: true))
        case .url(let url):
            return SalesforceText.length(url) <= limit ? .string(url) : .null
        }
    }
}

/// What an org's set-up looks like to the integration user: the facts ``OrgCheck`` judges, read by
/// `docsend-sync team check` (describes of Task, Lead, Contact, Account and User, the Task statuses, the User who
/// connected the org).
public struct OrgFacts: Sendable, Hashable {
    /// What the integration user may do with an object (its describe).
    public struct ObjectAccess: Sendable, Hashable {
        public var queryable: Bool
        public var createable: Bool
        public var updateable: Bool

        /// Creates an access description.
        public init(queryable: Bool = true, createable: Bool = true, updateable: Bool = true) {
            self.queryable = queryable
            self.createable = createable
            self.updateable = updateable
        }
    }

    /// The User who connected the org (the follow-up owner of last resort).
    public struct ConnectedUser: Sendable, Hashable {
        public var id: String
        /// `nil` when the User could not be read.
        public var isActive: Bool?

        /// Creates the user's facts.
        public init(id: String, isActive: Bool?) {
            self.id = id
            self.isActive = isActive
        }
    }

    /// Per object name (`Task`, `Lead`, `Contact`, `Account`, `User`): its access, absent when the integration user
    /// cannot see it at all.
    public var objects: [String: ObjectAccess]
    /// The Task's fields.
    public var taskFields: [TaskFieldDescription]
    /// The org's Task statuses.
    public var statuses: [TaskStatusRecord]
    /// `Lead.LeadSource`, when the Lead has it.
    public var leadSource: PicklistFieldDescription?
    /// The User recorded at connect time, `nil` when none is (a connection older than the record, or the
    /// client-credentials flow without an identity).
    public var connectedUser: ConnectedUser?

    /// Creates the facts.
    public init(
        objects: [String: ObjectAccess], taskFields: [TaskFieldDescription], statuses: [TaskStatusRecord],
        leadSource: PicklistFieldDescription?, connectedUser: ConnectedUser?
    ) {
        self.objects = objects
        self.taskFields = taskFields
        self.statuses = statuses
        self.leadSource = leadSource
        self.connectedUser = connectedUser
    }
}

/// The checks of `docsend-sync team check` (docs/salesforce-setup.md): whether the org is ready for the team's
/// settings, one finding per piece an admin sets up, each with what to do about it.
public enum OrgCheck {
    /// How much a finding matters.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        /// Set up as needed.
        case ok
        /// Syncs run, with less than the team asked for (a Lead without its source, a follow-up without its owner).
        case warning
        /// Some syncs park until it is fixed.
        case problem

        private var rank: Int {
            switch self {
            case .ok: 0
            case .warning: 1
            case .problem: 2
            }
        }

        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// One piece of the set-up and what was found.
    public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
        /// What is checked, e.g. `Task field DocSend_Visit_Id__c` or `Lead.LeadSource`.
        public var subject: String
        public var severity: Severity
        /// What was found, and for a warning or a problem, what to do.
        public var detail: String

        /// Creates a finding.
        public init(_ subject: String, _ severity: Severity, _ detail: String) {
            self.subject = subject
            self.severity = severity
            self.detail = detail
        }

        /// E.g. `problem  Task field DocSend_Visit_Id__c: … `.
        public var description: String { "\(severity.rawValue): \(subject): \(detail)" }
    }

    /// The objects the workers read (`Contact`, `Lead`, `Account`, `User`: matching, owners) and why.
    static let readObjects: [(name: String, why: String)] = [
        ("Contact", "visitors are matched to Contacts by email"),
        ("Lead", "visitors are matched to Leads by email"),
        ("Account", "DocSend accounts are matched to Accounts by name"),
        ("User", "link owners are matched to Users by email"),
    ]

    /// Every finding for `settings` against `facts`, in a fixed order: objects, external-id fields, mapped
    /// fields, Task statuses, Leads, the follow-up owner.
    public static func findings(_ settings: TeamSettings, _ facts: OrgFacts) -> [Finding] {
        var findings: [Finding] = []
        let syncsAny = ActivityKind.allCases.contains { settings.isSyncEnabled($0) }

        // Objects.
        if let task = facts.objects["Task"], task.createable, task.updateable {
            findings.append(Finding("Task object", .ok, "the integration user can create and edit Tasks"))
        } else {
            findings.append(
                Finding(
                    "Task object", syncsAny ? .problem : .warning,
                    "the integration user cannot create and edit Tasks: give it the permission set DocSend_Sync_Integration"
                        + " (or a profile with Edit Tasks)"))
        }
        for (name, why) in readObjects {
            if facts.objects[name]?.queryable == true {
                findings.append(Finding("\(name) object", .ok, "readable"))
            } else {
                findings.append(
                    Finding("\(name) object", .problem, "the integration user cannot read \(name) records (\(why)): grant Read"))
            }
        }

        // External-id fields, per kind of Task.
        for kind in ActivityKind.allCases {
            let name = settings.externalIDFields.field(for: kind)
            let problems = settings.externalIDFields.problems(against: facts.taskFields, kinds: [kind])
            let subject = "Task field \(name)"
            if problems.isEmpty {
                findings.append(Finding(subject, .ok, "key of \(kind) Tasks: External ID, Unique, case sensitive"))
            } else if settings.isSyncEnabled(kind) {
                findings.append(
                    Finding(
                        subject, .problem,
                        problems.map(\.description).joined(separator: "; ") + "; \(kind) Tasks are parked until it is fixed"))
            } else {
                findings.append(
                    Finding(subject, .warning, problems.map(\.description).joined(separator: "; ") + " (\(kind) sync is off)"))
            }
        }

        // Mapped properties.
        let mappingProblems = settings.fieldMapping.problems(against: facts.taskFields)
        for problem in mappingProblems {
            findings.append(Finding("Task field \(problem.field)", .problem, problem.description))
        }
        let mapped = settings.fieldMapping.fields.count
        if mapped > 0, mappingProblems.isEmpty {
            findings.append(Finding("Field mapping", .ok, "\(mapped) mapped propert\(mapped == 1 ? "y" : "ies") fit the Task's fields"))
        }

        // Task statuses.
        if let closed = TaskStatusChoice.closedStatus(in: facts.statuses) {
            findings.append(Finding("Task status (logged)", .ok, "logged activities are saved as \"\(closed)\""))
        } else {
            findings.append(
                Finding("Task status (logged)", syncsAny ? .problem : .warning, "the org has no closed Task status: add one (Setup → Task Status)"))
        }
        if settings.createOpenTasksForUnmatchedRecords {
            if let open = TaskStatusChoice.defaultOpenStatus(in: facts.statuses) {
                findings.append(Finding("Task status (follow-up)", .ok, "follow-up Tasks open as \"\(open)\""))
            } else {
                findings.append(
                    Finding("Task status (follow-up)", .problem, "the org has no open Task status for follow-up Tasks: add one"))
            }
        }

        // Leads.
        if settings.createLeadsForUnmatchedEmails {
            if facts.objects["Lead"]?.createable == true {
                findings.append(Finding("Lead creation", .ok, "the integration user can create Leads"))
            } else {
                findings.append(
                    Finding(
                        "Lead creation", .problem,
                        "the integration user cannot create Leads, and the team creates Leads for unmatched emails: grant Create on Lead"))
            }
            switch LeadSourceChoice.choose(field: facts.leadSource) {
            case .value(let value): findings.append(Finding("Lead.LeadSource", .ok, "new Leads get \"\(value)\""))
            case .omitted(let reason):
                findings.append(
                    Finding(
                        "Lead.LeadSource", .warning,
                        "\(reason): new Leads are created without it (the org's default applies); add \"\(LeadDraft.leadSource)\" "
                            + "to the picklist to mark them"))
            }
        }

        // The follow-up owner of last resort.
        if settings.createOpenTasksForUnmatchedRecords {
            switch facts.connectedUser {
            case .some(let user) where user.isActive == true:
                findings.append(Finding("Follow-up owner", .ok, "follow-up Tasks without a link owner go to User \(user.id)"))
            case .some(let user) where user.isActive == false:
                findings.append(
                    Finding(
                        "Follow-up owner", .warning,
                        "User \(user.id), who connected the org, is inactive: follow-up Tasks whose link owner has no User are not"
                            + " created; connect the org again as an active admin"))
            case .some(let user):
                findings.append(Finding("Follow-up owner", .warning, "User \(user.id), who connected the org, could not be read"))
            case .none:
                findings.append(
                    Finding(
                        "Follow-up owner", .warning,
                        "no User is recorded for the connection: follow-up Tasks whose link owner has no User are not created;"
                            + " connect the org again"))
            }
        }
        return findings
    }

    /// The worst severity among `findings` (`ok` when empty).
    public static func worst(_ findings: [Finding]) -> Severity { findings.map(\.severity).max() ?? .ok }
}

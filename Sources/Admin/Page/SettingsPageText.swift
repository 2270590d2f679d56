import SyncCore

/// The words of the settings page: each sync and option with its help, following DocSend's own help article on the
/// Salesforce integration (translated from its French edition, shared/seed), and how each mapped property is described.
enum SettingsPageText {
    struct Toggle: Sendable {
        var name: String
        var label: String
        var help: String
        var value: @Sendable (TeamSettings) -> Bool
    }

    /// The select of what a later write does with a Task a rep deleted in Salesforce, `selected` chosen.
    static func deletedTasks(id: String, selected: DeletedTaskPolicy, error: String?) -> AdminPages.ControlView {
        AdminPages.ControlView(
            name: "deleted_tasks", id: id, label: "When a rep deletes a synced Task",
            help: "A visit's Task is updated every 10 minutes while the visit stays active, and a link's Task when new "
                + "visitors open the link. If a rep has deleted the Task in Salesforce by then, DocSend either writes it "
                + "again whole, as it was first written (on the same lead, contact or account, with the same owner, "
                + "status and subject, and the latest visit data or visitors), or leaves it deleted and stops updating "
                + "it. Either way, it never writes a partial Task.",
            options: [
                .init(value: DeletedTaskPolicy.recreate.rawValue, label: "Write the Task again", selected: selected == .recreate),
                .init(value: DeletedTaskPolicy.leave.rawValue, label: "Leave it deleted", selected: selected == .leave),
            ],
            error: error)
    }

    /// The three syncs.
    static let syncs: [Toggle] = [
        Toggle(
            name: "sync_visits", label: "Sync visits",
            help: "A visit is counted when a visitor opens a DocSend link. Syncing visits into Salesforce helps you "
                + "understand how your documents perform and how interested their visitors are; it can also feed lead "
                + "scoring. Each visit matching the email address of a lead or a contact gets a new Task with the "
                + "document name, the account name, the visit duration, the percent viewed and a link to the full "
                + "analytics. Visit data syncs right away on a new link visit, then every 10 minutes while the visit "
                + "stays active; visits shorter than 10 minutes sync at most twice.",
            value: { $0.syncVisits }),
        Toggle(
            name: "sync_document_links", label: "Sync document links",
            help: "Links share individual documents. Syncing link creations into Salesforce can help track adoption by "
                + "your users and the overall level of engagement in an account. When the account is linked to a "
                + "Salesforce Account, each link created gets a new Task with the document name, the account name, the "
                + "document URL, the internal and external link URLs, and the visitors (updated when new visitors open "
                + "the link).",
            value: { $0.syncDocumentLinks }),
        Toggle(
            name: "sync_space_links", label: "Sync space links",
            help: "Spaces share several documents with a single link. Syncing space creations into Salesforce also lets "
                + "you follow DocSend's overall adoption. When the account is linked to a Salesforce Account, each "
                + "space link created gets a new Task with the space name, the account name, the space URL and the "
                + "internal space URL.",
            value: { $0.syncSpaceLinks }),
    ]

    /// The two options for visits that match no lead or contact.
    static let options: [Toggle] = [
        Toggle(
            name: "create_leads_for_unmatched_emails", label: "Create new leads for unmatched emails",
            help: "DocSend automatically creates a new lead for a visit whose email matches no lead or contact.",
            value: { $0.createLeadsForUnmatchedEmails }),
        Toggle(
            name: "create_open_tasks_for_unmatched_records", label: "Create open tasks for unmatched records",
            help: "DocSend syncs an open Task, assigned to you, for follow-up.",
            value: { $0.createOpenTasksForUnmatchedRecords }),
    ]

    /// What a property's Tasks are and what field it needs, e.g. "Visits. Needs a Number or Percent field.".
    static func help(_ property: SyncedProperty) -> String {
        let activities = ActivityKind.allCases.filter { property.activities.contains($0) }.map { kind in
            switch kind {
            case .visit: "visits"
            case .documentLink: "document links"
            case .spaceLink: "space links"
            }
        }
        let needs: String
        switch property.valueKind {
        case .text: needs = "a Text or Text Area field"
        case .url: needs = "a URL, Text or Text Area field"
        case .number: needs = "a Number or Percent field"
        case .longText: needs = "a Text Area or Text field"
        }
        let list = activities.joined(separator: ", ")
        return "Synced with \(list). Needs \(needs)."
    }

    /// The label of an activity kind's idempotency-key field.
    static func keyLabel(_ kind: ActivityKind) -> String {
        switch kind {
        case .visit: "Key of visit Tasks"
        case .documentLink: "Key of document-link Tasks"
        case .spaceLink: "Key of space-link Tasks"
        }
    }

    /// How a setting is named in an error summary: `field_mapping.visit_duration` → "Visit duration".
    static func label(ofField field: String) -> String {
        if let toggle = (syncs + options).first(where: { $0.name == field }) { return toggle.label }
        if field.hasPrefix("field_mapping."), let property = SyncedProperty(rawValue: String(field.dropFirst(14))) {
            return property.label
        }
        if field.hasPrefix("external_id_fields."), let kind = ActivityKind(rawValue: String(field.dropFirst(19))) {
            return keyLabel(kind)
        }
        switch field {
        case "docsend_account_id": return "DocSend account id"
        case "salesforce_account_id": return "Salesforce Account"
        case "account_search": return "Account name"
        case "my_domain": return "My Domain login URL"
        case "time_zone": return "Time zone"
        case "deleted_tasks": return "Tasks deleted in Salesforce"
        default: return "Settings"
        }
    }

    /// The activity kinds of the ledger, for people.
    static func activityLabel(_ kind: String) -> String {
        switch kind {
        case "visit": "Visit"
        case "link": "Document link"
        case "space_link": "Space link"
        case "lead": "Lead"
        default: kind
        }
    }
}

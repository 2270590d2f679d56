import Foundation
import SyncCore

extension SettingsChange {
    /// The change the settings page's form asks for, against the stored settings: the toggles when the form carries
    /// them (`settings_form=1`; an unchecked box is absent, so absent means off), and only the mapping and key fields
    /// that differ from `current` (a team that is not connected can still switch syncs on and off: an unchanged
    /// mapping is not checked against an org). A mapping select left on "Not mapped" (empty) unmaps the property. The
    /// time zone changes when the form carries one that differs (trimmed; empty keeps the stored one), and so does
    /// what to do with deleted Tasks (an unknown value keeps the stored one).
    init(form: [String: String], current: TeamSettings) {
        self.init()
        if form["settings_form"] != nil {
            syncVisits = form["sync_visits"] == "on"
            syncDocumentLinks = form["sync_document_links"] == "on"
            syncSpaceLinks = form["sync_space_links"] == "on"
            createLeadsForUnmatchedEmails = form["create_leads_for_unmatched_emails"] == "on"
            createOpenTasksForUnmatchedRecords = form["create_open_tasks_for_unmatched_records"] == "on"
        }
        for property in SyncedProperty.allCases {
            guard let value = form["field_mapping.\(property.rawValue)"] else { continue }
            let field = value.trimmingCharacters(in: .whitespaces)
            let wanted: String? = field.isEmpty ? nil : field
            if wanted != current.fieldMapping[property] { fieldMapping[property] = .some(wanted) }
        }
        for kind in ActivityKind.allCases {
            guard let value = form["external_id_fields.\(kind.rawValue)"]?.trimmingCharacters(in: .whitespaces),
                !value.isEmpty, value != current.externalIDFields.field(for: kind)
            else { continue }
            externalIDFields[kind] = value
        }
        if let value = form["time_zone"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value != current.timeZone {
            timeZone = value
        }
        if let value = form["deleted_tasks"].flatMap(DeletedTaskPolicy.init(rawValue:)), value != current.deletedTasks {
            deletedTasks = value
        }
    }
}

import Testing

@testable import SyncCore

@Suite("LeadSource choice and the org check")
struct OrgCheckTests {
    @Test("LeadSource: DocSend unless the org refuses it; the picklist's own spelling when listed")
    func leadSource() {
        #expect(LeadSourceChoice.choose(field: PicklistFieldDescription(values: ["Web"])) == .value("DocSend"))
        #expect(LeadSourceChoice.choose(field: PicklistFieldDescription(restricted: true, values: ["Web", "docsend"])) == .value("docsend"))
        #expect(
            LeadSourceChoice.choose(field: PicklistFieldDescription(restricted: true, values: ["Web"]))
                == .omitted(.notInRestrictedPicklist(wanted: "DocSend", values: ["Web"])))
        #expect(LeadSourceChoice.choose(field: PicklistFieldDescription(createable: false, values: ["DocSend"])) == .omitted(.notCreateable))
        #expect(LeadSourceChoice.choose(field: nil) == .omitted(.fieldMissing))
    }

    @Test("A Lead without a LeadSource when the org refuses DocSend; with it otherwise")
    func leadDraftFields() throws {
        let visitor = VisitorInfo(email: "new@example.com", name: "Ada Lovelace")
        let marked = try LeadDraft.make(visitor: visitor, accountName: nil).get()
        #expect(marked.fields["LeadSource"] == .string("DocSend"))
        let refused = LeadSourceChoice.choose(field: PicklistFieldDescription(restricted: true, values: ["Web"]))
        let unmarked = try LeadDraft.make(visitor: visitor, accountName: nil, leadSource: refused).get()
        #expect(unmarked.fields["LeadSource"] == nil)
        #expect(unmarked.fields["LastName"] == .string("Lovelace"))
    }

    /// An org set up as docs/salesforce-setup.md says.
    static let ready = OrgFacts(
        objects: Dictionary(uniqueKeysWithValues: ["Task", "Lead", "Contact", "Account", "User"].map { ($0, OrgFacts.ObjectAccess()) }),
        taskFields: Fixture.taskFields,
        statuses: [
            TaskStatusRecord(masterLabel: "Not Started", isClosed: false, isDefault: true),
            TaskStatusRecord(masterLabel: "Completed", isClosed: true),
        ],
        leadSource: PicklistFieldDescription(restricted: true, values: ["Web", "DocSend"]),
        connectedUser: .init(id: "005000000000001", isActive: true))

    static let everything = TeamSettings(
        createLeadsForUnmatchedEmails: true, createOpenTasksForUnmatchedRecords: true,
        fieldMapping: [.visitDuration: "DocSend_Duration__c"])

    @Test("A ready org: every finding ok")
    func readyOrg() {
        let findings = OrgCheck.findings(Self.everything, Self.ready)
        #expect(OrgCheck.worst(findings) == .ok, "\(findings.filter { $0.severity != .ok })")
        #expect(findings.contains { $0.subject == "Task field DocSend_Space_Link_Id__c" })
        #expect(findings.contains { $0.subject == "Lead.LeadSource" && $0.detail.contains("\"DocSend\"") })
    }

    @Test("Each missing piece is named, with its severity")
    func missingPieces() {
        func worst(_ subject: String, settings: TeamSettings = OrgCheckTests.everything, _ change: (inout OrgFacts) -> Void) -> OrgCheck.Finding? {
            var facts = Self.ready
            change(&facts)
            let findings = OrgCheck.findings(settings, facts).filter { $0.severity != .ok }
            return findings.count == 1 && findings[0].subject == subject ? findings[0] : nil
        }
        func field(_ name: String, _ change: @escaping (inout TaskFieldDescription) -> Void) -> (inout OrgFacts) -> Void {
            { facts in facts.taskFields = facts.taskFields.map { var f = $0; if f.name == name { change(&f) }; return f } }
        }
        let missing = worst("Task field DocSend_Link_Id__c") { $0.taskFields.removeAll { $0.name == "DocSend_Link_Id__c" } }
        #expect(missing?.severity == .problem && missing?.detail.contains("no field") == true, "\(String(describing: missing))")
        let insensitive = worst("Task field DocSend_Visit_Id__c", field("DocSend_Visit_Id__c") { $0.caseSensitive = false })
        #expect(insensitive?.severity == .problem && insensitive?.detail.contains("case sensitive") == true)
        let notUnique = worst("Task field DocSend_Space_Link_Id__c", field("DocSend_Space_Link_Id__c") { $0.unique = false })
        #expect(notUnique?.detail.contains("Unique") == true)
        // The space-link sync off: its field is only a warning.
        var noSpaces = Self.everything
        noSpaces.syncSpaceLinks = false
        let off = worst("Task field DocSend_Space_Link_Id__c", settings: noSpaces) { $0.taskFields.removeAll { $0.name == "DocSend_Space_Link_Id__c" } }
        #expect(off?.severity == .warning)
        let mapped = worst("Task field DocSend_Duration__c") { $0.taskFields.removeAll { $0.name == "DocSend_Duration__c" } }
        #expect(mapped?.severity == .problem)
        let source = worst("Lead.LeadSource") { $0.leadSource = PicklistFieldDescription(restricted: true, values: ["Web"]) }
        #expect(source?.severity == .warning && source?.detail.contains("without it") == true)
        #expect(worst("Lead creation") { $0.objects["Lead"]?.createable = false }?.severity == .problem)
        #expect(worst("Task object") { $0.objects["Task"]?.updateable = false }?.severity == .problem)
        #expect(worst("Contact object") { $0.objects["Contact"] = nil }?.severity == .problem)
        #expect(worst("Task status (logged)") { $0.statuses.removeAll(where: \.isClosed) }?.severity == .problem)
        #expect(worst("Task status (follow-up)") { $0.statuses.removeAll { !$0.isClosed } }?.severity == .problem)
        #expect(worst("Follow-up owner") { $0.connectedUser?.isActive = false }?.detail.contains("inactive") == true)
        #expect(worst("Follow-up owner") { $0.connectedUser = nil }?.severity == .warning)
        // Options off: Leads and the follow-up owner are not checked.
        let plain = OrgCheck.findings(TeamSettings(), Self.ready).map(\.subject)
        #expect(!plain.contains("Lead.LeadSource") && !plain.contains("Follow-up owner"))
    }
}

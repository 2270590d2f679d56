import Foundation
import Testing

@testable import SyncCore

@Suite("Team settings and field mapping")
struct FieldMappingTests {
    @Test("Settings round-trip through JSON with snake_case keys; missing keys take defaults")
    func codable() throws {
        let settings = TeamSettings(
            syncSpaceLinks: false, createLeadsForUnmatchedEmails: true,
            fieldMapping: [.visitDuration: "DocSend_Duration__c"])
        let data = try JSONEncoder().encode(settings)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"sync_space_links\":false"))
        #expect(text.contains("\"visit_duration\":\"DocSend_Duration__c\""))
        #expect(try JSONDecoder().decode(TeamSettings.self, from: data) == settings)

        let sparse = try JSONDecoder().decode(
            TeamSettings.self,
            from: Data(#"{"sync_visits": false, "field_mapping": {"future_property": "X__c"}, "new_key": 1}"#.utf8))
        #expect(sparse == TeamSettings(syncVisits: false))
    }

    @Test("The team's time zone: UTC unless set, stored as time_zone, only IANA names accepted")
    func timeZone() throws {
        #expect(TeamSettings().timeZone == "UTC")
        #expect(TeamSettings().activityTimeZone.secondsFromGMT() == 0)
        // Teams stored before the setting existed keep UTC.
        let old = try JSONDecoder().decode(TeamSettings.self, from: Data(#"{"sync_visits": true}"#.utf8))
        #expect(old.timeZone == "UTC")
        let pacific = TeamSettings(timeZone: "America/Los_Angeles")
        let text = String(decoding: try JSONEncoder().encode(pacific), as: UTF8.self)
        #expect(text.contains(#""time_zone":"America\/Los_Angeles""#) || text.contains(#""time_zone":"America/Los_Angeles""#))
        #expect(try JSONDecoder().decode(TeamSettings.self, from: Data(text.utf8)) == pacific)
        #expect(pacific.activityTimeZone.identifier == "America/Los_Angeles")
        for valid in ["UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Kolkata", "Etc/UTC"] {
            #expect(TeamSettings.timeZoneProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "Mars/Olympus", "america/los_angeles", "PST", "GMT+2", "+02:00", "Europe/Paris\n"] {
            #expect(TeamSettings.timeZoneProblem(invalid) != nil, "\(invalid)")
        }
        // A stored name no longer known (hand-edited store): Task dates fall back to UTC rather than fail.
        #expect(TeamSettings(timeZone: "Mars/Olympus").activityTimeZone.secondsFromGMT() == 0)
    }

    @Test("A valid mapping resolves to the org's fields")
    func validMapping() throws {
        let mapping: FieldMapping = [
            .visitDuration: "docsend_duration__c", .percentViewed: "DocSend_Percent__c",
            .documentName: "DocSend_Document__c", .analyticsLink: "DocSend_Analytics__c",
            .visitors: "DocSend_Visitors__c",
        ]
        let resolved = try mapping.resolve(against: Fixture.taskFields).get()
        #expect(resolved.fields[.visitDuration] == MappedTaskField(name: "DocSend_Duration__c", type: "double"))
        #expect(resolved.fields[.documentName]?.length == 40)
        #expect(mapping.problems(against: Fixture.taskFields).isEmpty)
    }

    @Test("Each problem names the property and the field")
    func problems() {
        let mapping: FieldMapping = [
            .documentName: "DocSend_Gone__c",  // missing
            .accountName: "Subject",  // standard field
            .visitDuration: "DocSend_Account__c",  // text field for a number
            .percentViewed: "DocSend_Flag__c",  // boolean for a number
            .analyticsLink: "DocSend_Formula__c",  // not createable
            .documentURL: "DocSend_Locked__c",  // not updateable
            .spaceName: "Bad Name; DROP",
            .spaceURL: "DocSend_Analytics__c",
            .internalSpaceURL: "docsend_analytics__C",  // mapped twice
        ]
        let problems = mapping.problems(against: Fixture.taskFields)
        let byField = Dictionary(problems.map { ($0.subject, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byField["Document name"]?.kind == .fieldMissing)
        #expect(byField["Account name"]?.kind == .notCustom)
        #expect(byField["Visit duration"]?.kind == .wrongType(found: "string", expected: ["double", "int", "percent"]))
        #expect(
            byField["Percent viewed"]?.kind == .wrongType(found: "boolean", expected: ["double", "int", "percent"]))
        #expect(byField["Full analytics"]?.kind == .notCreateable)
        #expect(byField["Document URL"]?.kind == .notUpdateable)
        #expect(byField["Space name"]?.kind == .invalidName)
        #expect(byField["Internal space URL"]?.kind == .mappedTwice(with: .spaceURL))
        #expect(problems.count == 8)
        #expect(
            byField["Visit duration"]?.description
                == #"Visit duration → "DocSend_Account__c": "DocSend_Account__c" is a string field; "#
                + "expected one of: double, int, percent"
        )
        #expect("\(byField["Document name"]!)".contains("Task object has no field \"DocSend_Gone__c\""))
        guard case .failure(let error) = mapping.resolve(against: Fixture.taskFields) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.problems == problems)
    }

    @Test("each kind of Task is checked against the fields it needs only: its external id and the properties it carries")
    func fitPerKind() throws {
        var settings = TeamSettings(externalIDFields: ExternalIDFields(spaceLink: "Missing__c"))
        settings.fieldMapping = [.visitDuration: "DocSend_Document__c", .documentName: "DocSend_Document__c"]
        let fit = TaskFieldFit(settings, against: Fixture.taskFields)
        // Visits: the duration mapped to a text field is wrong; the missing space-link field does not matter.
        let visit = try #require(fit.mapping(for: .visit).failure)
        #expect(visit.problems.map(\.subject) == ["Visit duration"], "\(visit)")
        // Document links carry the document name (fine) and not the duration.
        #expect(try fit.mapping(for: .documentLink).get().fields.keys.sorted { $0.rawValue < $1.rawValue } == [.documentName])
        // Space links: their own external id only.
        let space = try #require(fit.mapping(for: .spaceLink).failure)
        #expect(space.problems.map(\.subject) == ["External id (space link)"])
        #expect(TaskFieldFit(TeamSettings(), against: Fixture.taskFields).kinds.values.allSatisfy { (try? $0.get()) != nil })
    }

    @Test("External-id fields must exist as custom text fields")
    func externalIDs() {
        #expect(ExternalIDFields().problems(against: Fixture.taskFields).isEmpty)
        let problems = ExternalIDFields(visit: "DocSend_Duration__c", spaceLink: "Missing__c")
            .problems(against: Fixture.taskFields)
        #expect(problems.map(\.subject) == ["External id (visit)", "External id (space link)"])
    }

    @Test("External-id fields must be flagged External ID and Unique, case sensitive")
    func externalIDAttributes() {
        func fields(externalId: Bool = true, unique: Bool = true, caseSensitive: Bool = true) -> [TaskFieldDescription] {
            Fixture.taskFields.map { field in
                guard field.name == "DocSend_Visit_Id__c" else { return field }
                var changed = field
                changed.externalId = externalId
                changed.unique = unique
                changed.caseSensitive = caseSensitive
                return changed
            }
        }
        func kinds(_ taskFields: [TaskFieldDescription]) -> [FieldMappingProblem.Kind] {
            ExternalIDFields().problems(against: taskFields).map(\.kind)
        }
        #expect(kinds(fields()).isEmpty)
        #expect(kinds(fields(externalId: false)) == [.notExternalID])
        #expect(kinds(fields(unique: false, caseSensitive: false)) == [.notUnique])
        #expect(kinds(fields(caseSensitive: false)) == [.notCaseSensitive])
        #expect(kinds(fields(externalId: false, unique: false)) == [.notExternalID, .notUnique])
        let problem = FieldMappingProblem(subject: "External id (visit)", field: "DocSend_Visit_Id__c", kind: .notCaseSensitive)
        #expect(problem.description.contains("case sensitive"), "\(problem)")
        // A visit's fit fails on its own key; links and space links keep theirs.
        let fit = TaskFieldFit(TeamSettings(), against: fields(caseSensitive: false))
        #expect(fit.mapping(for: .visit).failure?.problems.map(\.kind) == [.notCaseSensitive])
        #expect((try? fit.mapping(for: .documentLink).get()) != nil)
    }
}

extension Result {
    /// The error of a failure, `nil` for a success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

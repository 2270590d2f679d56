import Foundation
import FoundationXML
import SalesforceSandbox
import SyncCore
import Testing

/// The org set-up folder `deploy/salesforce` as an admin deploys it: its custom Task fields and permission set.
struct SalesforceSetupMetadata {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/salesforce")
    static let fieldsDirectory = root.appendingPathComponent("force-app/main/default/objects/Activity/fields")
    static let permissionSet = root.appendingPathComponent(
        "force-app/main/default/permissionsets/DocSend_Sync_Integration.permissionset-meta.xml")

    /// One `*.field-meta.xml`: its elements' texts by name (`fullName`, `type`, `length`, `externalId`, …).
    struct Field {
        var elements: [String: String]
        var name: String { elements["fullName"] ?? "" }
        func flag(_ name: String) -> Bool { elements[name] == "true" }

        /// The field as the sandbox seeds it (Text → string, Number → double, Url → url, LongTextArea → textarea).
        var seed: CustomFieldSeed {
            let types: [String: FieldType] = ["Text": .string, "Number": .double, "Url": .url, "LongTextArea": .textarea]
            return CustomFieldSeed(
                name: name, type: types[elements["type"] ?? ""] ?? FieldType(rawValue: elements["type"] ?? "?"),
                length: elements["length"].flatMap { Int($0) }, externalId: flag("externalId"), unique: flag("unique"),
                caseSensitive: flag("caseSensitive"))
        }
    }

    /// Every field of the folder.
    static func fields() throws -> [Field] {
        try FileManager.default.contentsOfDirectory(atPath: fieldsDirectory.path).filter { $0.hasSuffix(".field-meta.xml") }.sorted()
            .map { Field(elements: try leaves(of: fieldsDirectory.appendingPathComponent($0)).reduce(into: [:]) { $0[$1.0] = $1.1 }) }
    }

    /// The permission set's `fieldPermissions` entries: field → (readable, editable).
    static func fieldPermissions() throws -> [String: (readable: Bool, editable: Bool)] {
        var permissions: [String: (Bool, Bool)] = [:]
        var current: [String: String] = [:]
        for (name, text) in try leaves(of: permissionSet, closing: "fieldPermissions") {
            if name == "fieldPermissions" {
                if let field = current["field"] { permissions[field] = (current["readable"] == "true", current["editable"] == "true") }
                current = [:]
            } else {
                current[name] = text
            }
        }
        return permissions
    }

    /// The leaf elements of an XML file in document order, as (name, text); with `closing`, also a marker
    /// (`closing`, "") each time an element of that name ends.
    static func leaves(of file: URL, closing: String? = nil) throws -> [(String, String)] {
        final class Collector: NSObject, XMLParserDelegate {
            var leaves: [(String, String)] = []
            var text = ""
            let closing: String?
            init(closing: String?) { self.closing = closing }
            func parser(
                _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) { text = "" }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
            func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
                if elementName == closing {
                    leaves.append((elementName, ""))
                } else {
                    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !trimmed.isEmpty { leaves.append((elementName, trimmed)) }
                }
                text = ""
            }
        }
        let parser = XMLParser(data: try Data(contentsOf: file))
        let collector = Collector(closing: closing)
        parser.delegate = collector
        guard parser.parse() else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: file.path]) }
        return collector.leaves
    }
}

/// `deploy/salesforce` against what the workers require, and `docsend-sync team check` against a sandbox org set up
/// from it, then missing each piece in turn.
@Suite(
    "Org set-up: deploy/salesforce and team check",
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(5)))
struct TeamCheckTests {
    @Test("the metadata declares the external-id fields as the workers need them, and the permission set grants every field")
    func metadataFitsTheCode() throws {
        let fields = try SalesforceSetupMetadata.fields()
        let byName = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0) })
        for kind in ActivityKind.allCases {
            let name = ExternalIDFields().field(for: kind)
            let field = try #require(byName[name], "\(name) is not in deploy/salesforce")
            #expect(field.elements["type"] == "Text" && field.flag("externalId") && field.flag("unique") && field.flag("caseSensitive"), "\(name)")
        }
        // The metadata passes the checks the workers run.
        let described = fields.map { field in
            let seed = field.seed
            return TaskFieldDescription(
                name: field.name, type: seed.type?.rawValue ?? "", length: seed.length ?? 0, externalId: field.flag("externalId"),
                unique: field.flag("unique"), caseSensitive: field.flag("caseSensitive"))
        }
        #expect(ExternalIDFields().problems(against: described).isEmpty)
        #expect(Self.fullMapping.problems(against: described).isEmpty, "\(Self.fullMapping.problems(against: described))")
        let permissions = try SalesforceSetupMetadata.fieldPermissions()
        for field in fields {
            let permission = permissions["Activity.\(field.name)"]
            #expect(permission?.readable == true && permission?.editable == true, "no editable permission for \(field.name)")
        }
        let manifest = try String(contentsOf: SalesforceSetupMetadata.root.appendingPathComponent("manifest/package.xml"), encoding: .utf8)
        for field in fields { #expect(manifest.contains("<members>Activity.\(field.name)</members>"), "\(field.name)") }
        #expect(manifest.contains("<members>DocSend_Sync_Integration</members>"))
    }

    /// Every optional field of the folder mapped to its property.
    static let fullMapping: FieldMapping = [
        .documentName: "DocSend_Document__c", .accountName: "DocSend_Account__c", .visitDuration: "DocSend_Duration__c",
        .percentViewed: "DocSend_Percent_Viewed__c", .analyticsLink: "DocSend_Analytics_URL__c", .visitors: "DocSend_Visitors__c",
    ]

    /// The sandbox's worker-test org with the Task fields of `deploy/salesforce`, changed by `change`.
    static func seed(_ change: (inout SandboxSeed) -> Void = { _ in }) throws -> SandboxSeed {
        var seed = SandboxSeed.workerTests
        seed.customTaskFields = try SalesforceSetupMetadata.fields().map(\.seed)
        change(&seed)
        return seed
    }

    static func field(_ name: String, _ change: @escaping (inout CustomFieldSeed) -> Void) -> (inout SandboxSeed) -> Void {
        { seed in
            seed.customTaskFields = seed.customTaskFields?.map { field in
                var field = field
                if field.name == name { change(&field) }
                return field
            }
        }
    }

    @Test("team connect checks the org at once: a restricted LeadSource without DocSend is reported when the team creates Leads")
    func connectReportsLeadSource() async throws {
        let world = try await TeamCommandTests.World()
        try await world.sandbox.org.reset(
            to: try Self.seed { $0.picklists = ["Lead.LeadSource": PicklistSeed(values: ["Web"], restricted: true)] })
        let configured = try await world.run(["team", "set", "--team", "team_x", "--create-leads", "on"])
        #expect(configured.status == 0, "\(configured.output)")
        let connected = try await world.run(
            ["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken)
        #expect(connected.status == 0, "\(connected.output)")
        #expect(connected.output.contains("warning: Lead.LeadSource"), "\(connected.output)")
        #expect(connected.output.contains("team check --team team_x"), "\(connected.output)")
        await world.close()
    }

    @Test("team check: ready when deploy/salesforce is deployed; each missing piece named, problems exit 1")
    func teamCheckEachPiece() async throws {
        let world = try await TeamCommandTests.World()
        try await world.sandbox.org.reset(to: try Self.seed())
        let connected = try await world.run(
            ["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken)
        #expect(connected.status == 0, "\(connected.output)")
        var set = ["team", "set", "--team", "team_x", "--create-leads", "on", "--create-open-tasks", "on"]
        for (property, field) in Self.fullMapping.fields { set += ["--map", "\(property.rawValue)=\(field)"] }
        let configured = try await world.run(set)
        #expect(configured.status == 0, "\(configured.output)")

        let ready = try await world.run(["team", "check", "--team", "team_x"])
        #expect(ready.status == 0, "\(ready.output)")
        #expect(ready.output.contains("the org is ready"), "\(ready.output)")
        #expect(ready.output.contains("Task field DocSend_Visit_Id__c"), "\(ready.output)")

        let pieces: [(String, (inout SandboxSeed) -> Void, status: Int32, expected: [String])] = [
            ("visit key missing", { $0.customTaskFields?.removeAll { $0.name == "DocSend_Visit_Id__c" } }, 1,
             ["PROBLEM", "DocSend_Visit_Id__c", "no field"]),
            ("link key missing", { $0.customTaskFields?.removeAll { $0.name == "DocSend_Link_Id__c" } }, 1,
             ["PROBLEM", "DocSend_Link_Id__c"]),
            ("space-link key missing", { $0.customTaskFields?.removeAll { $0.name == "DocSend_Space_Link_Id__c" } }, 1,
             ["PROBLEM", "DocSend_Space_Link_Id__c"]),
            ("visit key case-insensitive", Self.field("DocSend_Visit_Id__c") { $0.caseSensitive = false }, 1,
             ["PROBLEM", "case sensitive"]),
            ("link key not unique", Self.field("DocSend_Link_Id__c") { $0.unique = false }, 1, ["PROBLEM", "not marked Unique"]),
            ("space-link key not External ID", Self.field("DocSend_Space_Link_Id__c") { $0.externalId = false }, 1,
             ["PROBLEM", "not marked External ID"]),
            ("a mapped field missing", { $0.customTaskFields?.removeAll { $0.name == "DocSend_Duration__c" } }, 1,
             ["PROBLEM", "DocSend_Duration__c", "Visit duration"]),
            ("LeadSource restricted without DocSend",
             { $0.picklists = ["Lead.LeadSource": PicklistSeed(values: ["Web", "Partner"], restricted: true)] }, 0,
             ["WARNING", "Lead.LeadSource", "restricted picklist without \"DocSend\""]),
            ("no closed Task status", { $0.taskStatuses = [TaskStatusSeed("Not Started", isDefault: true)] }, 1,
             ["PROBLEM", "Task status (logged)"]),
            // The permission set's pieces: field-level security, object access.
            ("a key field read-only (no field permission)", { $0.access = ["Task.DocSend_Visit_Id__c": .read] }, 1,
             ["PROBLEM", "DocSend_Visit_Id__c", "field-level security"]),
            ("a mapped field hidden (no field permission)", { $0.access = ["Task.DocSend_Document__c": .none] }, 1,
             ["PROBLEM", "DocSend_Document__c"]),
            ("Tasks read-only (no Edit Tasks)", { $0.access = ["Task": .read] }, 1, ["PROBLEM", "Task object", "Edit Tasks"]),
            ("no Create on Lead", { $0.access = ["Lead": .read] }, 1, ["PROBLEM", "Lead creation"]),
            ("Contact not readable", { $0.access = ["Contact": .none] }, 1, ["PROBLEM", "Contact object", "cannot read"]),
            ("LeadSource not editable", { $0.access = ["Lead.LeadSource": .read] }, 0, ["WARNING", "field-level security"]),
        ]
        for (piece, change, status, expected) in pieces {
            try await world.sandbox.org.reset(to: try Self.seed(change))
            let result = try await world.run(["team", "check", "--team", "team_x"])
            #expect(result.status == status, "\(piece): \(result.output)")
            for text in expected { #expect(result.output.contains(text), "\(piece): \(text) in \(result.output)") }
            let flagged = result.output.split(separator: "\n").filter { $0.contains("PROBLEM") || $0.contains("WARNING") }
            #expect(flagged.count == 1, "\(piece): only its own finding, got \(flagged)")
        }

        try await world.sandbox.org.reset(to: try Self.seed { $0.customTaskFields?.removeAll { $0.name == "DocSend_Link_Id__c" } })
        let json = try await world.run(["team", "check", "--team", "team_x", "--json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        #expect(object["result"] as? String == "problem")
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["subject"] as? String == "Task field DocSend_Link_Id__c" && $0["severity"] as? String == "problem" })

        let unknown = try await world.run(["team", "check", "--team", "team_nobody"])
        #expect(unknown.status != 0 && unknown.output.contains("team connect"), "\(unknown.output)")
        await world.close()
    }
}

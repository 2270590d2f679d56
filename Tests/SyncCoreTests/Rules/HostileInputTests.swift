import Foundation
import Testing

@testable import SyncCore

/// Attacker-controlled strings through the whole pipeline: routing, Lead drafts, every Task kind.
@Suite("Hostile input")
struct HostileInputTests {
    static let strings: [String] = [
        "",
        "\"'\\`; DROP TABLE Task;--",
        String(repeating: "x", count: 300) + "@" + String(repeating: "y", count: 19) + ".example",
        String(repeating: "😀", count: 600),
        String(repeating: "\u{202E}שלום عالم ", count: 120),
        "e" + String(repeating: "\u{301}", count: 1000),
        String(repeating: "👨🏽‍💻🇫🇷", count: 150),
        "line1\nline2\r\n\u{0}\u{7}\u{2028}end",
        String(repeating: "a", count: 1024),
    ]

    @Test("Every field stays within its Salesforce limit and nothing crashes", arguments: strings)
    func pipeline(_ text: String) throws {
        let account = AccountInfo(id: "acc", name: text)
        let visit = Fixture.visit(email: text, name: text, account: account, document: text)
        let settings = TeamSettings(createLeadsForUnmatchedEmails: true, createOpenTasksForUnmatchedRecords: true)
        let route = VisitRouting.route(
            visit, settings: settings, people: [Fixture.contact("003A", email: text)],
            accounts: [Fixture.account("001A", name: text)], users: [Fixture.owner])
        // A Task on no record is only ever an open follow-up Task.
        if case .task(.unrelated, let disposition, _) = route { #expect(disposition == .followUp) }

        if case .success(let draft) = LeadDraft.make(visitor: visit.visitor, accountName: text) {
            #expect(SalesforceText.length(draft.lastName) <= 80)
            #expect(SalesforceText.length(draft.firstName ?? "") <= 40)
            #expect(SalesforceText.length(draft.company) <= 255)
            #expect(SalesforceText.length(draft.email) <= 80)
            #expect(!draft.lastName.isEmpty)
        }

        let mapping = try FieldMapping([
            .documentName: "DocSend_Document__c", .accountName: "DocSend_Account__c",
            .visitors: "DocSend_Visitors__c",
        ]).resolve(against: Fixture.taskFields).get()
        let context = TaskContext(
            relations: .account("001A"), statuses: Fixture.statuses, mapping: mapping)
        let visitors = LinkVisitorList().refreshed(
            with: (0..<50).map { Fixture.visit(id: "v\($0)", email: "\($0)\(text)", name: text) }, linkID: "lnk_1"
        ).list
        let link = LinkCreated(
            linkID: "lnk_1", linkName: text, creatorEmail: text,
            document: DocumentInfo(id: "d", name: text, url: "https://x.example/" + text), account: account,
            internalURL: "https://x.example/i", externalURL: "https://x.example/e", createdAt: Fixture.base)
        let spaceLink = SpaceLinkCreated(
            spaceLinkID: "s", creatorEmail: text, space: SpaceInfo(id: "sp", name: text, url: "https://x.example/s"),
            account: account, internalURL: "https://x.example/si", createdAt: Fixture.base)

        let tasks = [
            try TaskRendering.visitTask(visit, values: .init(durationSeconds: 5, percentViewed: 1), context: context),
            try TaskRendering.linkTask(link, visitors: visitors, context: context),
            try TaskRendering.spaceLinkTask(spaceLink, context: context),
        ]
        for task in tasks {
            #expect(SalesforceText.length(try #require(task.fields["Subject"]?.stringValue)) <= 255)
            #expect(try #require(task.fields["Subject"]?.stringValue).hasSuffix("\""))
            #expect(SalesforceText.length(try #require(task.fields["Description"]?.stringValue)) <= 32_000)
            #expect(SalesforceText.length(task.fields["DocSend_Account__c"]?.stringValue ?? "") <= 255)
            #expect(SalesforceText.length(task.fields["DocSend_Document__c"]?.stringValue ?? "") <= 40)
            #expect(SalesforceText.length(task.fields["DocSend_Visitors__c"]?.stringValue ?? "") <= 1000)
            // The whole record encodes as JSON.
            _ = try JSONEncoder().encode(task.recordWithExternalID)
        }
    }
}

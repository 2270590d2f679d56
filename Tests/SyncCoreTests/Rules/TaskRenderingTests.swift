import Foundation
import Testing

@testable import SyncCore

@Suite("Task rendering")
struct TaskRenderingTests {
    let values = SyncedVisitValues(durationSeconds: 125, percentViewed: 45.5)

    func context(
        _ relations: TaskRelations = .contact("003A", account: "001ACME"), _ disposition: TaskDisposition = .logged,
        mapping: ResolvedFieldMapping = .none
    ) -> TaskContext {
        TaskContext(
            relations: relations, disposition: disposition, ownerID: "005OWNER", statuses: Fixture.statuses,
            mapping: mapping)
    }

    @Test("A logged visit Task: subject, the five properties in Comments, closed status, owner, date, relations, key")
    func visitTask() throws {
        let task = try TaskRendering.visitTask(Fixture.visit(), values: values, context: context())
        #expect(task.fields["Subject"] == .string(#"DocSend: Ada Lovelace viewed "Q4 Pricing.pdf""#))
        #expect(
            task.fields["Description"]
                == .string(
                    """
                    Document name: Q4 Pricing.pdf
                    Account name: Acme
                    Visit duration: 2 min 5 s
                    Percent viewed: 45.5%
                    Full analytics: https://docsend.com/view/analytics/visits/vis_1
                    Visitor: Ada Lovelace <ada@acme.example>
                    """))
        #expect(task.fields["Status"] == .string("Completed"))
        #expect(task.fields["OwnerId"] == .string("005OWNER"))
        #expect(task.fields["ActivityDate"] == .date(SalesforceDate(Fixture.base)))
        #expect(task.fields["WhoId"] == .string("003A"))
        #expect(task.fields["WhatId"] == .string("001ACME"))
        #expect(task.externalIDField == "DocSend_Visit_Id__c")
        #expect(task.externalID == "vis_1")
        #expect(task.fields["DocSend_Visit_Id__c"] == nil)
        #expect(task.recordWithExternalID["DocSend_Visit_Id__c"] == .string("vis_1"))
    }

    @Test("A Task on a Lead has no WhatId; an account-only Task has only WhatId")
    func relations() throws {
        let onLead = try TaskRendering.visitTask(Fixture.visit(), values: values, context: context(.lead("00QA")))
        #expect(onLead.fields["WhoId"] == .string("00QA"))
        #expect(onLead.fields["WhatId"] == nil)
        let onAccount = try TaskRendering.visitTask(Fixture.visit(), values: values, context: context(.account("001X")))
        #expect(onAccount.fields["WhoId"] == nil)
        #expect(onAccount.fields["WhatId"] == .string("001X"))
    }

    @Test("An open follow-up Task takes the org's default open status")
    func followUpStatus() throws {
        let task = try TaskRendering.visitTask(Fixture.visit(), values: values, context: context(.unrelated, .followUp))
        #expect(task.fields["Status"] == .string("Not Started"))
        #expect(task.fields["OwnerId"] == .string("005OWNER"))
    }

    @Test("Status choice: Completed first, else the first closed; default open, else the first open; none is an error")
    func statusChoice() {
        let custom = [
            TaskStatusRecord(masterLabel: "Open", isClosed: false),
            TaskStatusRecord(masterLabel: "Waiting", isClosed: false, isDefault: true),
            TaskStatusRecord(apiName: "Done_API", masterLabel: "Done", isClosed: true),
        ]
        #expect(TaskStatusChoice.closedStatus(in: custom) == "Done_API")
        #expect(TaskStatusChoice.defaultOpenStatus(in: custom) == "Waiting")
        #expect(
            TaskStatusChoice.defaultOpenStatus(in: [
                TaskStatusRecord(masterLabel: "Done", isClosed: true, isDefault: true),
                TaskStatusRecord(masterLabel: "Open", isClosed: false),
            ]) == "Open")
        #expect(throws: TaskRenderingError.noClosedStatus) {
            try TaskStatusChoice.status(for: .logged, in: [TaskStatusRecord(masterLabel: "Open", isClosed: false)])
        }
        #expect(throws: TaskRenderingError.noOpenStatus) {
            try TaskStatusChoice.status(for: .followUp, in: [])
        }
    }

    @Test("Mapped properties also go to their custom fields, typed and cut; re-syncs update only what changes")
    func mappedFields() throws {
        let mapping = try FieldMapping([
            .documentName: "DocSend_Document__c", .visitDuration: "DocSend_Duration__c",
            .percentViewed: "DocSend_Percent__c", .analyticsLink: "DocSend_Analytics__c",
            .accountName: "DocSend_Account__c",
        ]).resolve(against: Fixture.taskFields).get()
        let visit = Fixture.visit(document: String(repeating: "Pricing ", count: 10))
        let task = try TaskRendering.visitTask(visit, values: values, context: context(mapping: mapping))
        #expect(task.fields["DocSend_Duration__c"] == .number(125))
        #expect(task.fields["DocSend_Percent__c"] == .number(45.5))
        #expect(task.fields["DocSend_Account__c"] == .string("Acme"))
        #expect(task.fields["DocSend_Analytics__c"] == .string("https://docsend.com/view/analytics/visits/vis_1"))
        let document = try #require(task.fields["DocSend_Document__c"]?.stringValue)
        #expect(SalesforceText.length(document) == 40)
        #expect(document.hasSuffix("…"))
        #expect(task.updateFieldNames == ["Description", "DocSend_Duration__c", "DocSend_Percent__c"])
        #expect(Set(task.updateFields.keys) == task.updateFieldNames)
        // Link-only properties never land on a visit Task.
        #expect(task.fields.keys.allSatisfy { !$0.contains("Visitors") })
    }

    @Test("Mapped values: int fields get whole numbers; a URL too long for its field is cleared, not cut")
    func mappedValueRules() {
        #expect(
            TaskRendering.mappedValue(.number(45.6, shown: ""), into: .init(name: "X__c", type: "int")) == .number(46))
        #expect(
            TaskRendering.mappedValue(
                .url("https://x.example/" + String(repeating: "a", count: 300)),
                into: .init(name: "U__c", type: "url", length: 255)) == .null)
    }

    @Test("Durations and percents read as people write them")
    func formatting() {
        #expect(TaskRendering.formatDuration(0) == "0 s")
        #expect(TaskRendering.formatDuration(59) == "59 s")
        #expect(TaskRendering.formatDuration(120) == "2 min")
        #expect(TaskRendering.formatDuration(3725) == "1 h 2 min")
        #expect(TaskRendering.formatDuration(7200) == "2 h")
        #expect(TaskRendering.formatPercent(100) == "100%")
        #expect(TaskRendering.formatPercent(33.333) == "33.3%")
        #expect(TaskRendering.formatPercent(.nan) == "0%")
    }

    @Test("Hostile names: the Subject keeps its closing quote within 255, Comments lines cannot be forged")
    func hostileVisit() throws {
        let visit = Fixture.visit(
            email: String(repeating: "x", count: 300) + "@evil.example",
            name: String(repeating: "\u{202E}👨🏽‍💻\"", count: 200),
            document: "Deck\nPercent viewed: 100%\n" + String(repeating: "🇫🇷", count: 300))
        let task = try TaskRendering.visitTask(visit, values: values, context: context())
        let subject = try #require(task.fields["Subject"]?.stringValue)
        #expect(SalesforceText.length(subject) <= 255)
        #expect(subject.hasSuffix("…\""))
        let description = try #require(task.fields["Description"]?.stringValue)
        #expect(description.split(separator: "\n").filter { $0.hasPrefix("Percent viewed") }.count == 1)
        #expect(SalesforceText.length(description) <= 32_000)
        let longEmail = try TaskRendering.visitTask(
            Fixture.visit(email: String(repeating: "é", count: 300) + "@x.example", name: nil), values: values,
            context: context())
        let longSubject = try #require(longEmail.fields["Subject"]?.stringValue)
        #expect(SalesforceText.length(longSubject) <= 255)
        #expect(longSubject.hasPrefix("DocSend: " + String(repeating: "é", count: 79) + "… viewed \"Q4"))
        let anonymous = try TaskRendering.visitTask(
            Fixture.visit(email: nil, name: "  "), values: values, context: context())
        #expect(anonymous.fields["Subject"] == .string(#"DocSend: Someone viewed "Q4 Pricing.pdf""#))
    }

    @Test("A document link Task: the six properties, on the Account, keyed by link id")
    func linkTask() throws {
        let visitors = LinkVisitorList(visitors: [
            LinkVisitor(email: "ada@acme.example", name: "Ada"), LinkVisitor(email: "bob@acme.example"),
        ])
        let task = try TaskRendering.linkTask(
            Fixture.link(), visitors: visitors, context: context(.account("001LINKED")))
        #expect(
            task.fields["Subject"] == .string(#"DocSend: owner@docsend.example created a link to "Q4 Pricing.pdf""#))
        #expect(
            task.fields["Description"]
                == .string(
                    """
                    Document name: Q4 Pricing.pdf
                    Account name: Acme
                    Document URL: https://docsend.com/documents/doc_1
                    Internal link URL: https://docsend.com/links/lnk_1
                    External link URL: https://docsend.com/view/abc
                    Link name: For Acme
                    Created by: owner@docsend.example
                    Visitors (2):
                    - Ada <ada@acme.example>
                    - bob@acme.example
                    """))
        #expect(task.externalIDField == "DocSend_Link_Id__c")
        #expect(task.externalID == "lnk_1")
        #expect(task.fields["WhatId"] == .string("001LINKED"))
        #expect(task.fields["Status"] == .string("Completed"))
        let empty = try TaskRendering.linkTask(
            Fixture.link(), visitors: .init(), context: context(.account("001LINKED")))
        #expect(empty.fields["Description"]?.stringValue?.hasSuffix("Visitors (0):\n(none yet)") == true)
    }

    @Test("A long visitors list is capped within Comments and in its mapped field")
    func longVisitorList() throws {
        let many = (0..<200).map {
            LinkVisitor(email: "visitor\($0)@" + String(repeating: "d", count: 250) + ".example")
        }
        let mapping = try FieldMapping([.visitors: "DocSend_Visitors__c"]).resolve(against: Fixture.taskFields).get()
        let task = try TaskRendering.linkTask(
            Fixture.link(), visitors: LinkVisitorList(visitors: many, isCapped: true),
            context: context(.account("001LINKED"), mapping: mapping))
        let description = try #require(task.fields["Description"]?.stringValue)
        #expect(SalesforceText.length(description) <= 32_000)
        #expect(description.contains("Visitors (200+):"))
        #expect(description.hasSuffix("more"))
        let mapped = try #require(task.fields["DocSend_Visitors__c"]?.stringValue)
        #expect(SalesforceText.length(mapped) <= 1000)
        #expect(task.updateFieldNames == ["Description", "DocSend_Visitors__c"])
    }

    @Test("A space link Task: the four properties, keyed by space link id")
    func spaceLinkTask() throws {
        let task = try TaskRendering.spaceLinkTask(Fixture.spaceLink(), context: context(.account("001LINKED")))
        #expect(
            task.fields["Subject"] == .string(#"DocSend: owner@docsend.example created a space link to "Deal room""#))
        #expect(
            task.fields["Description"]
                == .string(
                    """
                    Space name: Deal room
                    Account name: Acme
                    Space URL: https://docsend.com/spaces/spc_1
                    Internal space URL: https://docsend.com/space_links/spl_1
                    Created by: owner@docsend.example
                    """))
        #expect(task.externalIDField == "DocSend_Space_Link_Id__c")
        #expect(task.externalID == "spl_1")
    }

    @Test("Rendered fields encode as Salesforce JSON: dates as yyyy-MM-dd, null as null")
    func encoding() throws {
        let fields: [String: FieldValue] = [
            "ActivityDate": .date(SalesforceDate(year: 2026, month: 11, day: 4)), "X__c": .null, "N__c": .number(3),
            "B__c": .bool(true), "S__c": .string("a\"b"),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(fields), as: UTF8.self)
        #expect(json == #"{"ActivityDate":"2026-11-04","B__c":true,"N__c":3,"S__c":"a\"b","X__c":null}"#)
    }

    @Test("Every Task's ActivityDate is its day in the team's time zone: a Pacific evening stays that day")
    func activityDateInTeamTimeZone() throws {
        // 2026-11-20T04:30Z is 20:30 on 2026-11-19 in Los Angeles.
        let evening = Date(timeIntervalSince1970: 1_795_149_000)
        let pacific = TeamSettings(timeZone: "America/Los_Angeles").activityTimeZone
        let context = TaskContext(relations: .account("001A"), statuses: Fixture.statuses, timeZone: pacific)
        let expected = FieldValue.date(SalesforceDate(year: 2026, month: 11, day: 19))
        let visit = try TaskRendering.visitTask(
            Fixture.visit(startedAt: evening), values: SyncedVisitValues(durationSeconds: 0, percentViewed: 0),
            context: context)
        #expect(visit.fields["ActivityDate"] == expected)
        var link = Fixture.link()
        link.createdAt = evening
        #expect(try TaskRendering.linkTask(link, visitors: LinkVisitorList(), context: context).fields["ActivityDate"] == expected)
        var space = Fixture.spaceLink()
        space.createdAt = evening
        #expect(try TaskRendering.spaceLinkTask(space, context: context).fields["ActivityDate"] == expected)
        // UTC (the default) keeps the UTC day.
        let utc = TaskContext(relations: .account("001A"), statuses: Fixture.statuses)
        #expect(
            try TaskRendering.spaceLinkTask(space, context: utc).fields["ActivityDate"]
                == .date(SalesforceDate(year: 2026, month: 11, day: 20)))
    }

    @Test("ActivityDate is the visit's calendar day in the given time zone")
    func activityDate() throws {
        let late = Date(timeIntervalSince1970: 1_795_046_400 - 60)  // 23:59 UTC the day before 2026-11-19T…
        #expect(SalesforceDate(late).description < SalesforceDate(late.addingTimeInterval(120)).description)
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        #expect(SalesforceDate(late, timeZone: tokyo) == SalesforceDate(late.addingTimeInterval(120)))
    }
}

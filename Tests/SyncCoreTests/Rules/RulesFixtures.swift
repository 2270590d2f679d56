import Foundation

@testable import SyncCore

/// Builders for the rules tests: one realistic visit, link and org, each test changes what it pins down.
enum Fixture {
    static let base = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-19T…Z

    static func at(_ seconds: TimeInterval) -> Date { base.addingTimeInterval(seconds) }

    static let acme = AccountInfo(id: "acc_1", name: "Acme", salesforceAccountID: nil)
    static let linkedAcme = AccountInfo(id: "acc_1", name: "Acme", salesforceAccountID: "001LINKED")

    static func visit(
        id: String = "vis_1", email: String? = "ada@acme.example", name: String? = "Ada Lovelace",
        account: AccountInfo? = acme, document: String = "Q4 Pricing.pdf", linkID: String = "lnk_1",
        startedAt: Date = base
    ) -> VisitStarted {
        VisitStarted(
            visitID: id, linkID: linkID, linkOwnerEmail: "owner@docsend.example",
            document: DocumentInfo(id: "doc_1", name: document, url: "https://docsend.com/documents/doc_1"),
            account: account, visitor: VisitorInfo(email: email, name: name),
            analyticsURL: "https://docsend.com/view/analytics/visits/\(id)", startedAt: startedAt)
    }

    static func update(
        _ seconds: TimeInterval, duration: Int? = nil, percent: Double, ended: Bool = false, id: String = "vis_1"
    ) -> VisitUpdated {
        VisitUpdated(
            visitID: id, durationSeconds: duration ?? Int(seconds), percentViewed: percent,
            lastActivityAt: at(seconds), ended: ended)
    }

    static func contact(
        _ id: String, email: String = "ada@acme.example", modified: TimeInterval = 0, account: String? = "001CONTACTACC"
    )
        -> SalesforcePerson
    {
        SalesforcePerson(kind: .contact, id: id, email: email, lastModifiedDate: at(modified), accountID: account)
    }

    static func lead(
        _ id: String, email: String = "ada@acme.example", converted: Bool = false, modified: TimeInterval = 0
    )
        -> SalesforcePerson
    {
        SalesforcePerson(kind: .lead, id: id, email: email, isConverted: converted, lastModifiedDate: at(modified))
    }

    static func account(_ id: String, name: String = "Acme", modified: TimeInterval = 0) -> SalesforceAccount {
        SalesforceAccount(id: id, name: name, lastModifiedDate: at(modified))
    }

    static let owner = SalesforceUser(id: "005OWNER", email: "Owner@DocSend.example")

    static let statuses: [TaskStatusRecord] = [
        TaskStatusRecord(apiName: "Not Started", masterLabel: "Not Started", isClosed: false, isDefault: true),
        TaskStatusRecord(apiName: "In Progress", masterLabel: "In Progress", isClosed: false),
        TaskStatusRecord(apiName: "Completed", masterLabel: "Completed", isClosed: true),
        TaskStatusRecord(apiName: "Deferred", masterLabel: "Deferred", isClosed: false),
    ]

    static func link(account: AccountInfo? = linkedAcme, document: String = "Q4 Pricing.pdf") -> LinkCreated {
        LinkCreated(
            linkID: "lnk_1", linkName: "For Acme", creatorEmail: "owner@docsend.example",
            document: DocumentInfo(id: "doc_1", name: document, url: "https://docsend.com/documents/doc_1"),
            account: account, internalURL: "https://docsend.com/links/lnk_1",
            externalURL: "https://docsend.com/view/abc",
            createdAt: base)
    }

    static func spaceLink(account: AccountInfo? = linkedAcme) -> SpaceLinkCreated {
        SpaceLinkCreated(
            spaceLinkID: "spl_1", creatorEmail: "owner@docsend.example",
            space: SpaceInfo(id: "spc_1", name: "Deal room", url: "https://docsend.com/spaces/spc_1"),
            account: account, internalURL: "https://docsend.com/space_links/spl_1", createdAt: base)
    }

    /// A Task describe with the usual DocSend custom fields.
    static let taskFields: [TaskFieldDescription] = [
        TaskFieldDescription(name: "Subject", type: "combobox", length: 255, custom: false),
        TaskFieldDescription(name: "Description", type: "textarea", length: 32_000, custom: false),
        TaskFieldDescription(name: "DocSend_Document__c", type: "string", length: 40),
        TaskFieldDescription(name: "DocSend_Account__c", type: "string", length: 255),
        TaskFieldDescription(name: "DocSend_Duration__c", type: "double"),
        TaskFieldDescription(name: "DocSend_Percent__c", type: "percent"),
        TaskFieldDescription(name: "DocSend_Analytics__c", type: "url", length: 255),
        TaskFieldDescription(name: "DocSend_Visitors__c", type: "textarea", length: 1000),
        TaskFieldDescription(name: "DocSend_Seconds__c", type: "int"),
        TaskFieldDescription(
            name: "DocSend_Formula__c", type: "string", length: 255, createable: false, updateable: false),
        TaskFieldDescription(name: "DocSend_Locked__c", type: "string", length: 255, updateable: false),
        TaskFieldDescription(name: "DocSend_Flag__c", type: "boolean"),
        TaskFieldDescription(
            name: "DocSend_Visit_Id__c", type: "string", length: 255, updateable: false, externalId: true, unique: true,
            caseSensitive: true),
        TaskFieldDescription(
            name: "DocSend_Link_Id__c", type: "string", length: 255, updateable: false, externalId: true, unique: true,
            caseSensitive: true),
        TaskFieldDescription(
            name: "DocSend_Space_Link_Id__c", type: "string", length: 255, updateable: false, externalId: true, unique: true,
            caseSensitive: true),
    ]
}

import Foundation
import SalesforceSandbox

extension SandboxSeed {
    /// The sandbox's demo org (Acme Corp with Contact Alice, Lead Carol at Initech, Dan converted into a Contact
    /// at Globex; users admin@ and rep@sandbox.example) plus what the worker tests need: the space-link
    /// external id, fields to map properties to, and Eve, a converted Lead whose email is on no Contact.
    static var workerTests: SandboxSeed {
        var seed = SandboxSeed.demo
        seed.customTaskFields = [
            CustomFieldSeed(name: "DocSend_Visit_Id__c", type: .string, length: 255, externalId: true, unique: true,
                caseSensitive: true),
            CustomFieldSeed(name: "DocSend_Link_Id__c", type: .string, length: 255, externalId: true, unique: true,
                caseSensitive: true),
            CustomFieldSeed(name: "DocSend_Space_Link_Id__c", type: .string, length: 255, externalId: true, unique: true,
                caseSensitive: true),
            CustomFieldSeed(name: "DocSend_Duration__c", type: .double),
            CustomFieldSeed(name: "DocSend_Percent_Viewed__c", type: .double),
            CustomFieldSeed(name: "DocSend_Document__c", type: .string, length: 80),
            CustomFieldSeed(name: "DocSend_Analytics_URL__c", type: .url),
            CustomFieldSeed(name: "DocSend_Visitors__c", type: .textarea, length: 32_768),
        ]
        var leads = seed.records?["Lead"] ?? []
        leads.append(
            .object(
                JSONObject([
                    ("Id", .string("00Q5g00000EveCv")), ("FirstName", .string("Eve")), ("LastName", .string("Old")),
                    ("Company", .string("Oldco")), ("Email", .string("eve@oldco.example")), ("IsConverted", .bool(true)),
                    ("Status", .string("Closed - Converted")), ("ConvertedContactId", .string("0035g00000Alice")),
                    ("ConvertedAccountId", .string("0015g00000AcmeA")), ("ConvertedDate", .string("2026-02-01")),
                ])))
        seed.records?["Lead"] = leads
        return seed
    }

    /// IDs of the worker tests' seed.
    enum Ids {
        static let acme = SandboxSeed.Demo.acmeAccountId
        static let globex = SalesforceID.normalize("0015g00000Globx") ?? ""
        static let alice = SandboxSeed.Demo.aliceContactId
        static let carol = SandboxSeed.Demo.carolLeadId
        static let rep = SalesforceID.normalize("0055g00000RexRp") ?? ""
    }
}

import Foundation
@testable import SalesforceSandbox
import Testing

@Suite("Plain types (no HTTP)")
struct UnitTests {
    @Test func idChecksumMatchesSalesforceExample() {
        // From Salesforce's create example: 001D000000IqhSL + IAZ.
        #expect(SalesforceID.checksum("001D000000IqhSL") == "IAZ")
        #expect(SalesforceID.normalize("001D000000IqhSL") == "001D000000IqhSLIAZ")
        #expect(SalesforceID.normalize("001D000000IqhSLIAZ") == "001D000000IqhSLIAZ")
        #expect(SalesforceID.normalize("001D000000IqhSLAAA") == nil)
        #expect(SalesforceID.normalize("not-an-id") == nil)
        let id = SalesforceID.make(keyPrefix: "00Q", serial: 12345)
        #expect(id.count == 18 && id.hasPrefix("00Q") && SalesforceID.normalize(id) == id)
    }

    @Test func dateTimeFormatIsSalesforces() throws {
        let d = try #require(SalesforceDate.parseDateTime("2026-11-24T10:00:00Z"))
        #expect(SalesforceDate.dateTimeString(d) == "2026-11-24T10:00:00.000+0000")
        let e = try #require(SalesforceDate.parseDateTime("2026-11-24T12:00:00.250+02:00"))
        #expect(SalesforceDate.dateTimeString(e) == "2026-11-24T10:00:00.250+0000")
    }

    @Test func jsonRoundTripKeepsOrderAndEscapes() throws {
        let text = #"{"b":1,"a":[true,null,"x\"\\\n\u00e9"],"c":{"d":2.5}}"#
        let v = try JSONValue.parse(text)
        #expect(v.description == #"{"b":1,"a":[true,null,"x\"\\\né"],"c":{"d":2.5}}"#)
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\":}") }
    }

    @Test func soqlLikeWildcardsAndEscapes() throws {
        let store = RecordStore(schemas: ObjectSchema.standardObjects())
        let q = try SOQLQuery.parse(#"SELECT Id FROM Lead WHERE Email LIKE 'a\_b%' AND (Company = 'X' OR Company = 'Y')"#) { store.schema($0) }
        #expect(q.object == "Lead" && q.fields == ["Id"])
        #expect(SOQLEval.like(Array("a_bzzz"), [.char("a"), .char("_"), .char("b"), .anyRun]))
        #expect(!SOQLEval.like(Array("axbzzz"), [.char("a"), .char("_"), .char("b"), .anyRun]))
        #expect(SOQLEval.like(Array("axb"), [.char("a"), .anyOne, .char("b")]))
    }

    @Test(arguments: [
        (#"SELECT Id FROM Lead WHERE Email = 'a\%b'"#, "MALFORMED_QUERY"),
        (#"SELECT Id FROM Lead WHERE Email = 'a\qb'"#, "MALFORMED_QUERY"),
        (#"SELECT Id FROM Lead WHERE Email = 'abc"#, "MALFORMED_QUERY"),
        (#"SELECT Id FROM Lead WHERE Company = 'a' AND Company = 'b' OR Company = 'c'"#, "MALFORMED_QUERY"),
        (#"SELECT Id FORM Lead"#, "MALFORMED_QUERY"),
        (#"SELECT Id, Nope__c FROM Lead"#, "INVALID_FIELD"),
        (#"SELECT Id FROM Lead WHERE Nope = 'x'"#, "INVALID_FIELD"),
        (#"SELECT Id FROM Nope"#, "INVALID_TYPE"),
        (#"SELECT Id FROM Lead WHERE IsConverted = 'false'"#, "INVALID_QUERY_FILTER_OPERATOR"),
    ])
    func soqlErrors(query: String, code: String) {
        let store = RecordStore(schemas: ObjectSchema.standardObjects())
        do {
            _ = try SOQLQuery.parse(query) { store.schema($0) }
            Issue.record("expected \(code) for \(query)")
        } catch {
            #expect(error.errorCode == code)
            #expect(error.message.contains("ERROR at Row:1:Column:"))
        }
    }

    @Test func faultEngineIsDeterministicAndCountsDown() {
        var a = FaultEngine(FaultSettings(rules: [FaultRule(kind: .serverError, probability: 0.5)], randomSeed: 42))
        var b = FaultEngine(FaultSettings(rules: [FaultRule(kind: .serverError, probability: 0.5)], randomSeed: 42))
        let sa = (0..<40).map { _ in a.decide(method: "GET", path: "/x").fault }
        let sb = (0..<40).map { _ in b.decide(method: "GET", path: "/x").fault }
        #expect(sa == sb)
        #expect(sa.contains(nil) && sa.contains(.serverError))

        var c = FaultEngine(FaultSettings(rules: [.next(2, .unableToLockRow, path: "/services/data/*/sobjects/Task*", method: "PATCH")]))
        #expect(c.decide(method: "GET", path: "/services/data/v62.0/sobjects/Task/1").fault == nil)
        #expect(c.decide(method: "PATCH", path: "/services/data/v62.0/sobjects/Account/1").fault == nil)
        #expect(c.decide(method: "PATCH", path: "/services/data/v62.0/sobjects/Task/1").fault == .unableToLockRow)
        #expect(c.decide(method: "PATCH", path: "/services/data/v62.0/sobjects/Task/1").fault == .unableToLockRow)
        #expect(c.decide(method: "PATCH", path: "/services/data/v62.0/sobjects/Task/1").fault == nil)
        #expect(c.settings.rules.isEmpty)
    }

    @Test func oauthClientSeedAcceptsSnakeCase() throws {
        let json = #"{"oauthClients":[{"client_id":"c","client_secret":"s","redirect_uris":["http://x/cb"],"rotate_refresh_tokens":true}]}"#
        let client = try #require(try SandboxSeed.decode(Data(json.utf8)).oauthClients?.first)
        #expect(client == OAuthClientSeed(clientId: "c", clientSecret: "s", redirectURIs: ["http://x/cb"], rotateRefreshTokens: true))
        #expect(throws: DecodingError.self) { try SandboxSeed.decode(Data(#"{"oauthClients":[{"client_id":"c"}]}"#.utf8)) }
    }

    @Test func demoSeedDecodes() throws {
        let seed = try SandboxSeed.decode(Data(SandboxSeed.demoJSON.utf8))
        #expect(seed.users?.count == 2)
        #expect(seed.oauthClients?.first?.clientId == SandboxSeed.Demo.clientId)
        #expect(SandboxSeed.demo == seed)
    }
}

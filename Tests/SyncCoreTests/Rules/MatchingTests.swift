import Foundation
import Testing

@testable import SyncCore

@Suite("Matching")
struct MatchingTests {
    @Test("Email equality is exact and case-insensitive; near misses are dropped")
    func exactCaseInsensitive() {
        let candidates = [
            Fixture.contact("003NEAR1", email: "ada@acme.example.com"),
            Fixture.contact("003NEAR2", email: "ada+x@acme.example"),
            Fixture.contact("003NEAR3", email: "áda@acme.example"),
            Fixture.contact("003HIT", email: "ADA@Acme.Example"),
        ]
        #expect(Matching.person(forEmail: " ada@acme.example ", among: candidates)?.id == "003HIT")
        #expect(Matching.person(forEmail: "ada@acme.exampl", among: candidates) == nil)
        #expect(!Matching.emailsMatch("strasse@x.example", "straße@x.example"))
    }

    @Test("No email, no match, even against candidates without an email")
    func noEmail() {
        let blank = SalesforcePerson(kind: .contact, id: "003X", email: nil, lastModifiedDate: Fixture.base)
        #expect(Matching.person(forEmail: nil, among: [blank]) == nil)
        #expect(Matching.person(forEmail: "   ", among: [blank, Fixture.contact("003Y", email: "   ")]) == nil)
    }

    @Test("Several matches of the same kind: the most recently modified, ties by id")
    func mostRecent() {
        let contacts = [
            Fixture.contact("003B", modified: 10), Fixture.contact("003C", modified: 30),
            Fixture.contact("003A", modified: 30),
        ]
        #expect(Matching.person(forEmail: "ada@acme.example", among: contacts)?.id == "003A")
        let leads = [Fixture.lead("00QA", modified: 1), Fixture.lead("00QB", modified: 2)]
        #expect(Matching.person(forEmail: "ada@acme.example", among: leads)?.id == "00QB")
    }

    @Test("Account resolution: linked id first, then exact name; empty name matches nothing")
    func accountResolution() {
        let accounts = [Fixture.account("001ACME")]
        #expect(Matching.account(for: Fixture.linkedAcme, among: accounts) == .linked(id: "001LINKED"))
        #expect(Matching.account(for: Fixture.acme, among: accounts) == .byName(id: "001ACME"))
        #expect(Matching.account(for: nil, among: accounts) == .none)
        #expect(
            Matching.account(for: AccountInfo(id: "a", name: ""), among: [Fixture.account("001E", name: "")]) == .none)
        #expect(Matching.account(for: AccountInfo(id: "a", name: "Acme "), among: accounts) == .none)
        // The same Account returned twice (two pages, a retry) is not ambiguous.
        #expect(Matching.account(for: Fixture.acme, among: accounts + accounts) == .byName(id: "001ACME"))
    }

    @Test("User resolution: active users only, case-insensitive email")
    func userResolution() {
        let users = [
            SalesforceUser(id: "005OLD", email: "owner@docsend.example", isActive: false),
            SalesforceUser(id: "005B", email: "OWNER@docsend.example"),
            SalesforceUser(id: "005A", email: "owner@docsend.example"),
        ]
        #expect(Matching.user(forEmail: "owner@docsend.example", among: users)?.id == "005A")
        #expect(Matching.user(forEmail: "nobody@docsend.example", among: users) == nil)
    }
}

@Suite("Lead creation")
struct LeadDraftTests {
    @Test("LastName and FirstName from the visitor's name, Company from the account, LeadSource DocSend")
    func fromName() throws {
        let draft = try LeadDraft.make(
            visitor: VisitorInfo(email: "jean@fables.example", name: "  Jean de La Fontaine "), accountName: "Fables SA"
        ).get()
        #expect(draft.firstName == "Jean")
        #expect(draft.lastName == "de La Fontaine")
        #expect(draft.company == "Fables SA")
        #expect(
            draft.fields == [
                "FirstName": .string("Jean"), "LastName": .string("de La Fontaine"), "Company": .string("Fables SA"),
                "Email": .string("jean@fables.example"), "LeadSource": .string("DocSend"),
            ])
    }

    @Test("Without a name: LastName is the email's local part, Company its domain")
    func fromEmail() throws {
        let draft = try LeadDraft.make(visitor: VisitorInfo(email: "o'brien+deals@corp.example"), accountName: nil)
            .get()
        #expect(draft.lastName == "o'brien+deals")
        #expect(draft.firstName == nil)
        #expect(draft.company == "corp.example")
        #expect(draft.fields["FirstName"] == nil)
    }

    @Test("A one-word name is the LastName")
    func oneWord() throws {
        let draft = try LeadDraft.make(visitor: VisitorInfo(email: "ada@x.example", name: "Ada"), accountName: "")
            .get()
        #expect(draft.lastName == "Ada")
        #expect(draft.firstName == nil)
        #expect(draft.company == "x.example")
    }

    @Test("An email longer than 80 characters cannot make a Lead, and it says so")
    func emailTooLong() {
        let email = String(repeating: "é", count: 300) + "@x.example"
        let result = LeadDraft.make(visitor: VisitorInfo(email: email), accountName: nil)
        #expect(result == .failure(.emailTooLong(length: 310)))
        #expect("\(LeadDraft.Failure.emailTooLong(length: 310))".contains("310 characters"))
        // 80 exactly is fine.
        let fits = String(repeating: "a", count: 70) + "@x.example"
        #expect((try? LeadDraft.make(visitor: VisitorInfo(email: fits), accountName: nil).get())?.email == fits)
    }

    @Test("Not an address: no Lead")
    func invalidEmail() {
        for email in ["no-at-sign", "@x.example", "ada@", "ada @x.example"] {
            #expect(LeadDraft.make(visitor: VisitorInfo(email: email), accountName: nil) == .failure(.invalidEmail))
        }
        #expect(LeadDraft.make(visitor: VisitorInfo(email: nil), accountName: nil) == .failure(.noEmail))
    }

    @Test("Names and company are cut to the Lead limits on grapheme boundaries")
    func cutToLimits() throws {
        let first = String(repeating: "👩‍👩‍👧", count: 30)  // 8 UTF-16 units each
        let last = String(repeating: "ب", count: 200)
        let company = String(repeating: "🇫🇷", count: 200)
        let draft = try LeadDraft.make(
            visitor: VisitorInfo(email: "x@y.example", name: first + " " + last), accountName: company
        ).get()
        #expect(SalesforceText.length(try #require(draft.firstName)) <= 40)
        #expect(draft.firstName == String(repeating: "👩‍👩‍👧", count: 5))
        #expect(SalesforceText.length(draft.lastName) == 80)
        #expect(SalesforceText.length(draft.company) <= 255)
        #expect(draft.company.count == 63)
        #expect(draft.company.allSatisfy { $0 == "🇫🇷" })
    }

    @Test("A name with line breaks and control characters is put on one line")
    func hostileName() throws {
        let draft = try LeadDraft.make(
            visitor: VisitorInfo(email: "x@y.example", name: "Robert\n\u{0}\"); DROP TABLE--\r\nTables"),
            accountName: nil
        ).get()
        #expect(draft.firstName == "Robert")
        #expect(draft.lastName == "\"); DROP TABLE-- Tables")
    }
}

import Foundation
import Testing

@testable import SyncCore

@Suite("Link visitors")
struct LinkVisitorsTests {
    func visit(_ id: String, _ email: String?, name: String? = nil, at offset: TimeInterval = 0, link: String = "lnk_1")
        -> VisitStarted
    {
        Fixture.visit(id: id, email: email, name: name, linkID: link, startedAt: Fixture.at(offset))
    }

    @Test("New visitors are appended once, deduplicated by email case-insensitively, in start order")
    func dedupAndOrder() {
        let refresh = LinkVisitorList().refreshed(
            with: [
                visit("v3", "carol@x.example", at: 30), visit("v1", "Ada@X.example", name: "Ada", at: 10),
                visit("v2", "ada@x.example", at: 20), visit("v4", " ada@x.EXAMPLE ", at: 40),
            ], linkID: "lnk_1")
        #expect(refresh.needsUpdate)
        #expect(
            refresh.list.visitors == [
                LinkVisitor(email: "Ada@X.example", name: "Ada"), LinkVisitor(email: "carol@x.example"),
            ])
    }

    @Test("A burst gives one update; replaying it (or a reordering of it) needs none")
    func batching() {
        let burst = (0..<20).map { visit("v\($0)", "user\($0 % 5)@x.example", at: Double($0)) }
        let first = LinkVisitorList().refreshed(with: burst, linkID: "lnk_1")
        #expect(first.needsUpdate)
        #expect(first.list.visitors.count == 5)
        let again = first.list.refreshed(with: burst.reversed(), linkID: "lnk_1")
        #expect(!again.needsUpdate)
        #expect(LinkVisitorList().refreshed(with: burst.shuffled(), linkID: "lnk_1").list == first.list)
    }

    @Test("Visitors without an email and visits of other links are skipped")
    func skipped() {
        let refresh = LinkVisitorList().refreshed(
            with: [visit("v1", nil, name: "Anon"), visit("v2", "  "), visit("v3", "x@y.example", link: "lnk_2")],
            linkID: "lnk_1")
        #expect(!refresh.needsUpdate)
        #expect(refresh.list.visitors.isEmpty)
    }

    @Test("A known visitor's name is filled in when it was missing")
    func nameFilledIn() {
        let list = LinkVisitorList(visitors: [LinkVisitor(email: "ada@x.example")])
        let refresh = list.refreshed(with: [visit("v1", "ADA@x.example", name: "Ada\nLovelace")], linkID: "lnk_1")
        #expect(refresh.needsUpdate)
        #expect(refresh.list.visitors == [LinkVisitor(email: "ada@x.example", name: "Ada Lovelace")])
    }

    @Test("The list is capped; past the cap it is marked incomplete, once")
    func capped() {
        let burst = (0..<10).map { visit("v\($0)", "user\($0)@x.example", at: Double($0)) }
        let refresh = LinkVisitorList().refreshed(with: burst, linkID: "lnk_1", limit: 3)
        #expect(refresh.list.visitors.map(\.email) == ["user0@x.example", "user1@x.example", "user2@x.example"])
        #expect(refresh.list.isCapped)
        let more = refresh.list.refreshed(with: [visit("v99", "late@x.example", at: 99)], linkID: "lnk_1", limit: 3)
        #expect(!more.needsUpdate)
    }

    @Test("Hostile visitor emails are kept on one line and never crash the list")
    func hostile() {
        let hostile = String(repeating: "😀", count: 150) + "\n@evil\u{202E}.example"
        let refresh = LinkVisitorList().refreshed(with: [visit("v1", hostile, name: "\"quoted\"")], linkID: "lnk_1")
        #expect(refresh.list.visitors.count == 1)
        #expect(refresh.list.visitors[0].email.contains("\n") == false)
    }
}

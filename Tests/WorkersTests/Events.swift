import Foundation
import SyncCore

/// Contract events for the tests, each with a fresh event id.
enum Events {
    static func id(_ prefix: String) -> String { "\(prefix)_\(UUID().uuidString.prefix(12).lowercased())" }

    static func started(
        _ visitID: String = id("visit"), email: String?, name: String? = nil, account: AccountInfo? = nil,
        owner: String = "rep@sandbox.example", link: String = "link_1", document: String = "Q4 Pricing Proposal.pdf",
        at: Date = Date(), team: String = FleetHarness.teamID
    ) -> Event {
        Event(
            id: id("evt"), occurredAt: at, teamID: team,
            payload: .visitStarted(
                VisitStarted(
                    visitID: visitID, linkID: link, linkOwnerEmail: owner,
                    document: DocumentInfo(id: "doc_1", name: document, url: "https://docsend.example/documents/doc_1"),
                    account: account, visitor: VisitorInfo(email: email, name: name),
                    analyticsURL: "https://docsend.example/analytics/\(visitID)", startedAt: at)))
    }

    static func updated(
        _ visitID: String, duration: Int, percent: Double, at: Date = Date(), ended: Bool = false,
        team: String = FleetHarness.teamID
    ) -> Event {
        Event(
            id: id("evt"), occurredAt: at, teamID: team,
            payload: .visitUpdated(
                VisitUpdated(visitID: visitID, durationSeconds: duration, percentViewed: percent, lastActivityAt: at, ended: ended)))
    }

    static func linkCreated(
        _ linkID: String = id("link"), account: AccountInfo?, creator: String = "rep@sandbox.example",
        document: String = "Series B Pitch Deck.pdf", at: Date = Date(), team: String = FleetHarness.teamID
    ) -> Event {
        Event(
            id: id("evt"), occurredAt: at, teamID: team,
            payload: .linkCreated(
                LinkCreated(
                    linkID: linkID, linkName: "For the board", creatorEmail: creator,
                    document: DocumentInfo(id: "doc_2", name: document, url: "https://docsend.example/documents/doc_2"),
                    account: account, internalURL: "https://docsend.example/links/\(linkID)",
                    externalURL: "https://docsend.example/view/\(linkID)", createdAt: at)))
    }

    static func spaceLinkCreated(
        _ spaceLinkID: String = id("space_link"), account: AccountInfo?, creator: String = "rep@sandbox.example",
        at: Date = Date(), team: String = FleetHarness.teamID
    ) -> Event {
        Event(
            id: id("evt"), occurredAt: at, teamID: team,
            payload: .spaceLinkCreated(
                SpaceLinkCreated(
                    spaceLinkID: spaceLinkID, creatorEmail: creator,
                    space: SpaceInfo(id: "space_1", name: "Data Room", url: "https://docsend.example/spaces/space_1"),
                    account: account, internalURL: "https://docsend.example/space_links/\(spaceLinkID)", createdAt: at)))
    }

    /// The same event again, as a producer's retry would send it (same id).
    static let acme = AccountInfo(id: "acct_acme", name: "Acme Corp")
}

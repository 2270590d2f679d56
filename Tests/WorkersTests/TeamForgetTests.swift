import Foundation
import Logging
import Store
import SyncCore
import Testing

@testable import Workers

/// `docsend-sync team forget --email`, run as an operator would, on a SQLite store holding two people's data in
/// two teams.
@Suite(
    "docsend-sync team forget", .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
    .timeLimit(.minutes(5)))
struct TeamForgetTests {
    static let team = "team_x"

    /// Ada's and Bob's visits, both in one link's visitors list (Ada also pending on another), Ada's Lead and a
    /// lease on her email left by a dead worker; and Ada's visit in another team.
    static func seed(_ store: any SyncStore) async throws {
        try await RetentionSeed.visit(store, team: team, "visit_ada1", email: "Ada@Example.com")
        try await RetentionSeed.visit(store, team: team, "visit_ada2", email: "ada@example.com ")
        try await RetentionSeed.visit(store, team: team, "visit_bob", email: "bob@example.com")
        // Ada's email as the link owner only: she did not visit.
        var owned = StoredVisit(visitID: "visit_owned")
        _ = owned.sync.apply(Events.started("visit_owned", email: "carol@example.com", owner: "ada@example.com", team: team).payload)
        _ = try await store.saveState(
            teamID: team, kind: .visit, objectID: "visit_owned", state: try StateCoding.encode(owned), expectedVersion: nil)
        try await RetentionSeed.link(store, team: team, "link_1", visitors: ["bob@example.com", "ADA@example.com"])
        try await RetentionSeed.link(store, team: team, "link_2", visitors: ["bob@example.com"], pending: ["ada@example.com"])
        try await RetentionSeed.link(store, team: team, "link_3", visitors: ["adam@example.com"])
        for visit in ["visit_ada1", "visit_ada2", "visit_bob"] { try await RetentionSeed.ledger(store, team: team, .visit, visit) }
        try await RetentionSeed.ledger(store, team: team, .lead, "ada@example.com")
        try await RetentionSeed.ledger(store, team: team, .lead, "bob@example.com")
        _ = try await store.claim(key: "lead:\(team):ada@example.com", owner: "dead-worker", ttl: .seconds(600))
        try await RetentionSeed.visit(store, team: "team_other", "visit_ada_other", email: "ada@example.com")
    }

    static func link(_ store: any SyncStore, _ id: String) async throws -> (StoredLink, Int64) {
        let record = try #require(try await store.loadState(teamID: team, kind: .link, objectID: id))
        return (try StateCoding.decode(StoredLink.self, from: record.state), record.version)
    }

    @Test("removes the person's visit states, list entries, ledger entries and lease; keeps everyone else's")
    func forget() async throws {
        let world = try await TeamCommandTests.World()
        var store = try await world.store()
        try await Self.seed(store)
        try await store.close()

        let result = try await world.run(["team", "forget", "--team", Self.team, "--email", "ADA@example.COM"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("visit states removed:              2"), "\(result.output)")
        #expect(result.output.contains("link states rewritten without them: 2 (2 visitor entries)"), "\(result.output)")
        #expect(result.output.contains("ledger entries removed:            3"), "\(result.output)")
        #expect(result.output.contains("leases removed:                    1"), "\(result.output)")
        #expect(result.output.contains("within 5m"), "\(result.output)")

        store = try await world.store()
        for gone in ["visit_ada1", "visit_ada2"] {
            #expect(try await store.loadState(teamID: Self.team, kind: .visit, objectID: gone) == nil)
            #expect(try await store.ledgerEntry(teamID: Self.team, kind: .visit, objectID: gone) == nil)
        }
        #expect(try await store.ledgerEntry(teamID: Self.team, kind: .lead, objectID: "ada@example.com") == nil)
        #expect(try await store.claim(key: "lead:\(Self.team):ada@example.com", owner: "someone", ttl: .seconds(1)), "the lease is gone")
        let (link1, version1) = try await Self.link(store, "link_1")
        #expect(link1.visitors.visitors.map(\.email) == ["bob@example.com"])
        #expect(version1 == 2, "rewritten at a new version, so that a worker holding the old one reloads")
        let (link2, _) = try await Self.link(store, "link_2")
        #expect(link2.pending.isEmpty && link2.visitors.visitors.map(\.email) == ["bob@example.com"])
        // Everyone else's stays, and Ada's data in another team too (an erasure request is per customer team).
        #expect(try await store.loadState(teamID: Self.team, kind: .visit, objectID: "visit_bob") != nil)
        #expect(try await store.loadState(teamID: Self.team, kind: .visit, objectID: "visit_owned") != nil)
        #expect(try await Self.link(store, "link_3").1 == 1, "adam@ is not ada@")
        #expect(try await store.ledgerEntry(teamID: Self.team, kind: .visit, objectID: "visit_bob") != nil)
        #expect(try await store.ledgerEntry(teamID: Self.team, kind: .lead, objectID: "bob@example.com") != nil)
        #expect(try await store.loadState(teamID: "team_other", kind: .visit, objectID: "visit_ada_other") != nil)
        // Audited, with counts and without the email.
        let audit = try #require(try await store.auditEntries(teamID: Self.team, limit: 1).first)
        #expect(audit.action == "person.forget")
        #expect(audit.actor.hasPrefix("cli:"))
        let details = String(decoding: audit.details, as: UTF8.self)
        #expect(details.contains(#""visit_states":2"#), "\(details)")
        #expect(!details.lowercased().contains("ada@"), "\(details)")
        try await store.close()

        // Again: nothing left to remove; --json for scripts.
        let again = try await world.run(["team", "forget", "--team", Self.team, "--email", "ada@example.com", "--json"])
        #expect(again.status == 0, "\(again.output)")
        let line = try #require(again.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["visit_states"] as? Int == 0 && object["ledger_entries"] as? Int == 0 && object["link_states"] as? Int == 0)
        #expect(object["team"] as? String == Self.team)
        #expect(object["in_memory_lookups_expire_within_seconds"] as? Int == 300)

        #expect(try await world.run(["team", "forget", "--team", Self.team, "--email", "not-an-email"]).status != 0)
        await world.close()
    }
}

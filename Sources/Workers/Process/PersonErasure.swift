import Foundation
import Logging
import Store
import SyncCore

/// Erases what the store keeps about one person of one team (`docsend-sync team forget --email`), for an erasure
/// request. Salesforce records are the customer's and stay as they are.
///
/// - the states of the visits whose visitor is the person: removed;
/// - the person in the visitors list (and the visitors waiting to be listed) of every document link state: removed
///   from it; the link's Task loses them at its next visitor refresh;
/// - the ledger entries of those visits, and the Lead the workers created for the email: removed;
/// - the lease on the email (`lead:<team>:<email>`), if one is left: removed.
///
/// Emails compare as the workers compare them: exactly, ignoring case and surrounding whitespace. The person's
/// email as a link owner or creator (a DocSend user of the team) is not touched.
///
/// Safe with workers running: a state is removed or rewritten only at the version it was read at (a worker that
/// saves first makes the erasure read it again and decide again), and a worker that held a removed state starts the
/// object afresh. A visit event of the person that arrives afterwards (a redelivery) brings their data back: run it
/// once DocSend has stopped sending their events.
public struct PersonErasure: Sendable {
    let store: any SyncStore
    let logger: Logger
    /// States read per store call.
    static let pageSize = 200
    /// How many times a state that keeps changing under the workers is read again.
    static let attempts = 12

    /// What an erasure removed.
    public struct Outcome: Sendable, Equatable, Codable {
        /// Visit states removed (the person visited).
        public var visitStates = 0
        /// Link states rewritten without the person.
        public var linkStates = 0
        /// Entries of the person removed from those states' visitors lists and pending visitors.
        public var linkVisitorEntries = 0
        /// Ledger entries removed (their visits' Tasks, the Lead made for the email).
        public var ledgerEntries = 0
        /// Leases removed.
        public var leases = 0
        /// States that mention the email but could not be read (left as they are; the workers could not read them
        /// either).
        public var unreadableStates = 0

        enum CodingKeys: String, CodingKey {
            case visitStates = "visit_states"
            case linkStates = "link_states"
            case linkVisitorEntries = "link_visitor_entries"
            case ledgerEntries = "ledger_entries"
            case leases
            case unreadableStates = "unreadable_states"
        }

        /// Creates a value.
        public init() {}
    }

    /// How long running workers may still hold what Salesforce answered for an email, in memory only: the Users
    /// found by email (``OrgMetadataCache``, for ``TeamOrgs/defaultMetadataLifetime``, which worker processes use)
    /// and the Contacts and Leads (`salesforce.lookupLifetime`). Nothing of it is persisted.
    public static func inMemoryBound(lookupLifetime: Duration) -> Duration {
        max(lookupLifetime, TeamOrgs.defaultMetadataLifetime)
    }

    /// Erasure over `store`.
    public init(store: any SyncStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Erases `email` from `teamID`'s rows. Throws on a store error (what was removed until then stays removed; run
    /// it again: it is idempotent).
    public func forget(teamID: String, email: String) async throws -> Outcome {
        guard let email = Matching.normalizedEmail(email)?.lowercased(), email.contains("@") else {
            throw PersonErasureError(message: "\(email) is not an email address")
        }
        var outcome = Outcome()
        var cursor: StateKey?
        while true {
            let page = try await store.statesContaining(teamID: teamID, text: email, after: cursor, limit: Self.pageSize)
            for found in page {
                switch found.key.kind {
                case .visit:
                    switch try await eraseVisit(teamID: teamID, found, email: email) {
                    case .removed:
                        outcome.visitStates += 1
                        // At once, so that a run cut short leaves at most one visit's entry behind.
                        if try await store.deleteLedgerEntry(teamID: teamID, kind: .visit, objectID: found.key.objectID) {
                            outcome.ledgerEntries += 1
                        }
                    case .unreadable: outcome.unreadableStates += 1
                    case .untouched: break
                    }
                case .link, .spaceLink:
                    switch try await eraseLinkVisitor(teamID: teamID, found, email: email) {
                    case .rewritten(let entries):
                        outcome.linkStates += 1
                        outcome.linkVisitorEntries += entries
                    case .unreadable: outcome.unreadableStates += 1
                    case .untouched: break
                    }
                default:
                    break
                }
            }
            guard let last = page.last, page.count == Self.pageSize else { break }
            cursor = last.key
        }
        if try await store.deleteLedgerEntry(teamID: teamID, kind: .lead, objectID: email) { outcome.ledgerEntries += 1 }
        if try await store.deleteClaim(key: "lead:\(teamID):\(email)") { outcome.leases += 1 }
        return outcome
    }

    private enum VisitErasure { case removed, untouched, unreadable }
    private enum LinkErasure { case rewritten(Int), untouched, unreadable }

    /// Removes the visit's state when the person is its visitor, at the version read (read again on a race).
    private func eraseVisit(teamID: String, _ found: ObjectState, email: String) async throws -> VisitErasure {
        var record: StateRecord? = found.record
        for _ in 0..<Self.attempts {
            guard let current = record else { return .untouched }
            guard let visit = try? StateCoding.decode(StoredVisit.self, from: current.state) else { return .unreadable }
            guard Matching.emailsMatch(visit.sync.started?.visitor.email, email) else { return .untouched }
            if try await store.deleteState(
                teamID: teamID, kind: .visit, objectID: found.key.objectID, expectedVersion: current.version)
            {
                return .removed
            }
            record = try await store.loadState(teamID: teamID, kind: .visit, objectID: found.key.objectID)
        }
        throw PersonErasureError(message: "the state of visit \(found.key.objectID) kept changing under the workers; run it again")
    }

    /// Rewrites the link's state without the person, at the version read (read again on a race): the save bumps
    /// the version, so a worker holding the old state reloads it.
    private func eraseLinkVisitor(teamID: String, _ found: ObjectState, email: String) async throws -> LinkErasure {
        var record: StateRecord? = found.record
        for _ in 0..<Self.attempts {
            guard let current = record else { return .untouched }
            guard var link = try? StateCoding.decode(StoredLink.self, from: current.state) else { return .unreadable }
            let before = link.visitors.visitors.count + link.pending.count
            link.visitors.visitors.removeAll { Matching.emailsMatch($0.email, email) }
            link.pending.removeAll { Matching.emailsMatch($0.email, email) }
            let removed = before - link.visitors.visitors.count - link.pending.count
            guard removed > 0 else { return .untouched }
            do {
                _ = try await store.saveState(
                    teamID: teamID, kind: found.key.kind, objectID: found.key.objectID, state: try StateCoding.encode(link),
                    expectedVersion: current.version)
                return .rewritten(removed)
            } catch let error as StoreError where error.code == .versionConflict {
                record = try await store.loadState(teamID: teamID, kind: found.key.kind, objectID: found.key.objectID)
            }
        }
        throw PersonErasureError(message: "the state of link \(found.key.objectID) kept changing under the workers; run it again")
    }
}

/// An erasure that could not be done, in words.
public struct PersonErasureError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

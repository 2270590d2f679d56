import Foundation
import Logging
import Store
import Timing

/// Bounds how many messages a team whose Salesforce connection needs a new login keeps in the parking lot.
///
/// Such messages are parked with `salesforce_reauthentication_required`, so that once an admin connects the team
/// again, `docsend-sync parking replay --code salesforce_reauthentication_required` brings them back. A team that
/// never logs in again must not fill the broker, though: the fleet keeps at most ``limit`` of them per team and
/// per lapse of the connection (the count starts over each time the connection changes: a new login, a new
/// flag), and acknowledges the rest without parking them, counted as `dropped` and logged at warning level.
///
/// The count lives in the store (one small record per team, updated with the store's optimistic versions), so
/// the bound holds across the fleet. When the count cannot be updated (store trouble), the message is parked:
/// the bound errs on the side of keeping.
public struct LoginHolds: Sendable {
    /// At most this many messages are kept per team and lapse.
    public let limit: Int
    let store: any SyncStore

    static let kind = SyncObjectKind(rawValue: "login_hold")

    /// Holds counted in `store`, at most `limit` per team.
    public init(store: any SyncStore, limit: Int) {
        self.store = store
        self.limit = max(0, limit)
    }

    struct Count: Codable, Equatable {
        /// The connection's `updatedAt` the count belongs to.
        var since: Date?
        var kept: Int
    }

    /// Whether one more message of `teamID` may be parked (and counts it when so).
    func admit(teamID: String, logger: Logger) async -> Bool {
        do {
            guard let connection = try await store.connection(teamID: teamID), connection.needsReauthentication else {
                return true  // reconnected meanwhile: park, a replay brings it back
            }
            let backoff = Backoff(initial: .milliseconds(5), maximum: .milliseconds(40), jitter: .full)
            for attempt in 1...20 {
                let record = try await store.loadState(teamID: teamID, kind: Self.kind, objectID: teamID)
                var count = try record.map { try JSONDecoder().decode(Count.self, from: $0.state) } ?? Count(kept: 0)
                if count.since != connection.updatedAt { count = Count(since: connection.updatedAt, kept: 0) }
                guard count.kept < limit else { return false }
                count.kept += 1
                do {
                    _ = try await store.saveState(
                        teamID: teamID, kind: Self.kind, objectID: teamID, state: try JSONEncoder().encode(count),
                        expectedVersion: record?.version)
                    return true
                } catch let error as StoreError where error.code == .versionConflict {
                    try await Task.sleep(for: backoff.delay(attempt: attempt))
                }
            }
        } catch {
            logger.warning("could not count the team's held messages; parking anyway", metadata: ["docsend-error": "\(error)"])
        }
        return true
    }
}

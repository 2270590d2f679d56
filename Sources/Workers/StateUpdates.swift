import Foundation
import Logging
import Store

extension TeamOrgs {
    /// Loads an object's state (or starts from `initial`), lets `body` change it, writing to Salesforce and the
    /// broker on the way, and saves it only if no other worker saved it meanwhile; otherwise starts over on the
    /// newer state. Every write `body` makes is idempotent (upserts on external ids, ticks numbered), so doing
    /// it again after a lost race or a crash is harmless.
    ///
    /// A Salesforce failure on the way is noted for the team's connection (``noteFailure(_:teamID:)``).
    func updateState<State: Codable & Equatable & Sendable>(
        teamID: String, kind: SyncObjectKind, objectID: String, initial: State, logger: Logger,
        _ body: (inout State, Logger) async throws -> Void
    ) async throws {
        do {
            for _ in 0..<8 {
                let record = try await store.loadState(teamID: teamID, kind: kind, objectID: objectID)
                var state = try record.map { try StateCoding.decode(State.self, from: $0.state) } ?? initial
                let before = state
                try await body(&state, logger)
                guard state != before else { return }
                do {
                    _ = try await store.saveState(
                        teamID: teamID, kind: kind, objectID: objectID, state: try StateCoding.encode(state),
                        expectedVersion: record?.version)
                    return
                } catch let error as StoreError where error.code == .versionConflict {
                    logger.debug("state changed meanwhile; applying again")
                }
            }
        } catch {
            await noteFailure(error, teamID: teamID)
            throw error
        }
        throw WorkFailure.retryable(code: "state_contention", "the \(kind)'s state kept changing under other workers")
    }
}

/// The JSON form of the workers' per-object state in the store.
enum StateCoding {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw WorkFailure.permanent(code: "state_unreadable", "the stored state does not decode: \(error)")
        }
    }
}

import Foundation
import HTTP
import Jobs
import Logging
import Salesforce
import Store
import SyncCore
import Synchronization

/// Every team's org as the handlers of one process reach it: the pieces, each with one job, and the one call that
/// puts them together for a job (``context(teamID:logger:)``).
///
/// - ``clients``: each team's signed-in Salesforce client, its session shared by the fleet (``SalesforceClients``);
/// - ``metadata``: Task statuses, the Task's fields and Users, cached (``OrgMetadataCache``);
/// - each org's lookups and Task writes, gathered into few calls (``OrgBatches``);
/// - ``states``: the per-object sync state in the store, updated with optimistic versions (``SyncStateRepository``);
/// - the team's settings, read from the store on every job (an admin's change applies at once).
public final class TeamOrgs: Sendable {
    let store: any SyncStore
    let clients: SalesforceClients
    let metadata: OrgMetadataCache
    let states: SyncStateRepository
    let app: SalesforceAppSettings
    let logger: Logger
    private let batches = Mutex<[String: OrgBatches]>([:])
    private let gates = Mutex<[String: OrgGate]>([:])
    /// The gates' pauses and resumes, written to the store in order (``OrgPause``, for `docsend-sync status`).
    private let pauses: AsyncStream<(teamID: String, pause: OrgGate.Pause?, until: Date)>.Continuation

    /// How long a process keeps an org's metadata (Task fields and statuses, Users, Lead Source) unless told otherwise.
    public static let defaultMetadataLifetime: Duration = .seconds(300)

    /// Orgs over `store`'s connections, through `http`; metadata kept for `metadataLifetime`.
    public init(
        store: any SyncStore, app: SalesforceAppSettings, http: HTTPClient, logger: Logger,
        metadataLifetime: Duration = TeamOrgs.defaultMetadataLifetime
    ) {
        self.store = store
        self.clients = SalesforceClients(store: store, app: app, http: http, logger: logger)
        self.metadata = OrgMetadataCache(lifetime: metadataLifetime)
        self.states = SyncStateRepository(store: store)
        self.app = app
        self.logger = logger
        let (changes, pauses) = AsyncStream<(teamID: String, pause: OrgGate.Pause?, until: Date)>.makeStream()
        self.pauses = pauses
        let process = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        Task { [store] in
            for await change in changes {
                do {
                    if let pause = change.pause {
                        try await store.saveOrgPause(
                            OrgPause(teamID: change.teamID, process: process, reason: pause.rawValue, until: change.until))
                    } else {
                        try await store.deleteOrgPause(teamID: change.teamID, process: process)
                    }
                } catch {
                    logger.warning(
                        "could not record an org's pause for status", metadata: ["docsend-team": "\(change.teamID)", "docsend-error": "\(error)"])
                }
            }
        }
    }

    deinit { pauses.finish() }

    /// The team's batches through `client` (made again when the team's client was made again).
    func batches(teamID: String, client: SalesforceClient) -> OrgBatches {
        batches.withLock { batches in
            if let kept = batches[teamID], kept.client === client { return kept }
            var logger = logger
            logger[metadataKey: "docsend-team"] = .string(teamID)
            let made = OrgBatches(
                client: client, window: app.batchWindow, maxWait: app.batchMaxWait, lookupLifetime: app.lookupLifetime,
                logger: logger)
            batches[teamID] = made
            return made
        }
    }

    /// The team's gate (its org's API budget and circuit), kept for the process's life.
    func gate(teamID: String) -> OrgGate {
        gates.withLock { gates in
            if let kept = gates[teamID] { return kept }
            let made = OrgGate(policy: app.gatePolicy) { [pauses] pause, length in
                pauses.yield((teamID, pause, Date().addingTimeInterval(length / .seconds(1))))
            }
            gates[teamID] = made
            return made
        }
    }

    /// The team's settings as stored, or the defaults of a newly connected team.
    func settings(teamID: String) async throws -> TeamSettings {
        guard let stored = try await store.teamSettings(teamID: teamID) else { return TeamSettings() }
        do {
            return try JSONDecoder().decode(TeamSettings.self, from: stored.json)
        } catch {
            throw WorkFailure.permanent(code: "team_settings_invalid", "the settings of team \(teamID) do not decode: \(error)")
        }
    }

    /// The team's client (``SalesforceClients/client(teamID:)``).
    func client(teamID: String) async throws -> SalesforceClient { try await clients.client(teamID: teamID) }

    /// The team's org for one job: signed in, its settings, its metadata. Throws ``WorkFailure/Disposition/wait``
    /// while the org is paused (``OrgGate``): the job waits without counting an attempt.
    func context(teamID: String, logger: Logger) async throws -> OrgContext {
        let settings = try await settings(teamID: teamID)
        let (client, connection) = try await clients.connected(teamID: teamID)
        try await gate(teamID: teamID).admit(client, teamID: teamID, logger: logger)
        let metadata = try await metadata.metadata(teamID: teamID, client: client, settings: settings, logger: logger)
        return OrgContext(
            teamID: teamID, client: client, settings: settings, metadata: metadata, store: store, cache: self.metadata,
            batches: batches(teamID: teamID, client: client), connectedUserID: connection.connectedUserID)
    }

    /// Throws ``WorkFailure/Disposition/skip`` when the team has no Salesforce connection: on DocSend's bus most
    /// teams never connect, and their events are completed (and counted) before anything is stored for them.
    func requireConnection(teamID: String) async throws {
        guard try await store.connection(teamID: teamID) == nil else { return }
        throw WorkFailure.teamNotConnected(teamID)
    }

    /// Records what a failure says about the team's org: a refused refresh flags the connection for a new login,
    /// a missing field or a changed picklist makes the metadata be read again.
    func noteFailure(_ error: any Error, teamID: String) async {
        guard let error = error as? SalesforceError else { return }
        if error.classification == .needsReauthentication {
            await clients.refused(error, teamID: teamID)
            metadata.forget(teamID: teamID)
        } else if error.code == .invalidField || error.code == .invalidOrNullForRestrictedPicklist {
            metadata.forget(teamID: teamID)
        }
    }

    /// ``SyncStateRepository/update(teamID:kind:objectID:initial:writes:_:)``, noting a Salesforce failure on the way
    /// (``noteFailure(_:teamID:)``) and classifying what it throws.
    func updateState<State: Codable & Equatable & Sendable>(
        teamID: String, kind: SyncObjectKind, objectID: String, initial: State, writes: RepeatableWrites,
        _ body: (inout State, RepeatableWrites) async throws -> Void
    ) async throws {
        do {
            try await states.update(teamID: teamID, kind: kind, objectID: objectID, initial: initial, writes: writes, body)
        } catch {
            await noteFailure(error, teamID: teamID)
            throw WorkFailure.classify(error, teamID: teamID)
        }
    }
}

import AMQP
import Fleet
import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Store

/// One worker process: the roles it runs, over two broker connections (one consuming and acknowledging, one
/// publishing: a broker resource alarm blocks publishers, and acknowledgements must keep flowing meanwhile), one
/// store and one HTTP client.
///
/// SIGTERM and SIGINT stop it gracefully: every role stops taking deliveries, finishes and settles the
/// messages in work (for at most ``WorkerConfiguration/drainTimeout``), and the process exits 0. Deliveries
/// received but not started go back to the broker.
public enum WorkerProcess {
    /// Runs `roles` until a signal (or the task's cancellation) stops them.
    public static func run(
        roles: [SyncTopology.Role], amqp: AMQPConfiguration, topology: SyncTopology, configuration: WorkerConfiguration,
        logger: Logger
    ) async throws {
        unblockStopSignals()
        let store = try await openStore(
            url: configuration.storeURL, encryptionKey: configuration.encryptionKey, timeout: configuration.storeTimeout,
            logger: logger)
        do {
            let http = HTTPClient.Configuration(
                defaultTimeout: configuration.salesforce.requestTimeout, caFile: configuration.salesforceCAFile)
            try await withHTTPClient(configuration: http, logger: logger) { http in
                let connection = try await AMQPConnection.connect(amqp, logger: logger)
                let publisher: AMQPConnection
                do {
                    publisher = try await AMQPConnection.connect(amqp, logger: logger)
                } catch {
                    await connection.close()
                    throw error
                }
                do {
                    try await connection.declare(topology.topology)
                    let orgs = TeamOrgs(store: store, app: configuration.salesforce, http: http, logger: logger)
                    let services: [any Service] = workers(
                        roles: roles, connection: connection, publisher: publisher, topology: topology, orgs: orgs,
                        concurrency: configuration.concurrency, prefetch: configuration.prefetch,
                        holds: LoginHolds(store: store, limit: configuration.loginHoldLimit), logger: logger)
                    var group = ServiceGroupConfiguration(
                        services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
                    group.maximumGracefulShutdownDuration = configuration.drainTimeout
                    logger.info("workers started", metadata: ["roles": "\(roles.map(\.rawValue).joined(separator: ","))"])
                    try await ServiceGroup(configuration: group).run()
                    await connection.close()
                    await publisher.close()
                } catch {
                    await connection.close()
                    await publisher.close()
                    throw error
                }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        logger.info("workers stopped")
    }

    /// One queue worker per role, each with its role's handler, consuming on `connection` and publishing on
    /// `publisher` (the same connection when `nil`).
    public static func workers(
        roles: [SyncTopology.Role], connection: AMQPConnection, publisher: AMQPConnection? = nil,
        topology: SyncTopology, orgs: TeamOrgs, concurrency: Int, prefetch: Int, holds: LoginHolds? = nil,
        logger: Logger
    ) -> [QueueWorker] {
        let publisher = publisher ?? connection
        return roles.map { role in
            QueueWorker(
                role: role, connection: connection, publisher: publisher, topology: topology,
                handler: handler(for: role, orgs: orgs, connection: publisher, topology: topology),
                concurrency: concurrency, prefetch: prefetch, holds: holds, logger: logger)
        }
    }

    static func handler(
        for role: SyncTopology.Role, orgs: TeamOrgs, connection: AMQPConnection, topology: SyncTopology
    ) -> any MessageHandler {
        switch role {
        case .visits: VisitWorker(orgs: orgs, connection: connection, topology: topology)
        case .leads: LeadWorker(orgs: orgs, connection: connection, topology: topology)
        case .links: LinkWorker(orgs: orgs, connection: connection, topology: topology)
        }
    }
}

/// A parent may start the process with SIGTERM and SIGINT blocked (the mask is inherited through exec); the
/// graceful stop depends on them, so they are unblocked first.
private func unblockStopSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}

import AMQP
import Fleet
import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Workers

/// The `docsend-sync admin` process: the store, the HTTP client to Salesforce and a broker connection (for the
/// parking lot) opened as ``FleetResources``, and the ``AdminServer`` after them in one `ServiceGroup`; SIGTERM or
/// SIGINT stops the server first, then closes the rest.
public enum AdminProcess {
    /// Runs until a stop signal.
    public static func run(
        configuration: AdminConfiguration, worker: WorkerConfiguration, amqp: AMQPConfiguration, topology: SyncTopology,
        logger: Logger
    ) async throws {
        unblockStopSignals()
        let resources = try await FleetResources.open(
            .init(
                store: (worker.storeURL, worker.encryptionKey, worker.storeTimeout),
                http: HTTPClient.Configuration(
                    defaultTimeout: worker.salesforce.requestTimeout, caFile: worker.salesforceCAFile),
                broker: amqp, topology: topology.topology),
            logger: logger)
        let server: AdminServer
        do {
            let service = try AdminService(
                store: try resources.requiredStore, app: worker.salesforce, http: try resources.requiredHTTPClient,
                configuration: configuration,
                parking: BrokerParking(connection: try resources.requiredConnection, topology: topology),
                baseURL: AdminBaseURL(configuration.publicURL ?? "http://127.0.0.1:\(configuration.port)"), logger: logger)
            server = AdminServer(service: service, logger: logger)
        } catch {
            await resources.close()
            throw error
        }
        try await FleetProcess.group(resources: resources, services: [server], logger: logger).run()
        logger.info("admin service stopped")
    }
}

/// A parent may start the process with SIGTERM and SIGINT blocked (the mask is inherited through exec); the
/// graceful stop depends on them, so they are unblocked first (as the worker process does).
private func unblockStopSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}

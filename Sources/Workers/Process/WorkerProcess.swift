import AMQP
import Fleet
import Foundation
import HTTP
import Jobs
import Logging
import Salesforce
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
    /// Runs `roles` until a signal (or the task's cancellation) stops them, serving `metrics` (the process's
    /// metrics in Prometheus' text format) and its health checks (``MonitoringServer``).
    public static func run(
        roles: [SyncTopology.Role], amqp: AMQPConfiguration, topology: SyncTopology, configuration: WorkerConfiguration,
        metrics: @escaping MonitoringServer.Metrics, logger: Logger
    ) async throws {
        unblockStopSignals()
        let resources = try await FleetResources.open(
            .init(
                store: (configuration.storeURL, configuration.encryptionKey, configuration.storeTimeout),
                http: HTTPClient.Configuration(
                    defaultTimeout: configuration.salesforce.requestTimeout, caFile: configuration.salesforceCAFile),
                broker: amqp, separatePublisher: true, topology: topology.topology),
            logger: logger)
        let services: [any Service]
        do {
            // `open` opened all three; a missing one is reported, not crashed on.
            let store = try resources.requiredStore
            let connection = try resources.requiredConnection
            let orgs = TeamOrgs(
                store: store, app: configuration.salesforce, http: try resources.requiredHTTPClient, logger: logger)
            let workers = processors(
                roles: roles,
                queue: AMQPJobQueue(connection: connection, publisher: resources.publisher, topology: topology),
                topology: topology, orgs: orgs, concurrency: configuration.concurrency,
                teamConcurrency: configuration.teamConcurrency, prefetch: configuration.prefetch, holds: LoginHolds(store: store, limit: configuration.loginHoldLimit), logger: logger)
            let watch = StoreWatch(store: store, logger: logger)
            prepareMetrics(roles: roles)
            // First in the list, so that it stops last: `/readyz` says "draining" while the workers drain.
            let monitoring = MonitoringServer(
                configuration: configuration.monitoring, metrics: metrics,
                readiness: readiness(connections: [connection, resources.publisher].compactMap { $0 }, workers, watch),
                logger: logger)
            // Before the workers: graceful shutdown stops them first, then the pruning (which stops at once).
            let retention = RetentionService(store: store, configuration: configuration.retention, logger: logger)
            services = [monitoring, watch, retention] + workers
        } catch {
            await resources.close()
            throw error
        }
        logger.info("workers started", metadata: ["docsend-roles": "\(roles.map(\.rawValue).joined(separator: ","))"])
        try await FleetProcess.group(
            resources: resources, services: services, drainTimeout: configuration.drainTimeout, logger: logger
        ).run()
        logger.info("workers stopped")
    }

    /// The readiness checks of a worker process, failing ones in words: its broker connections up, every role's
    /// processor consuming, the store answering (``StoreWatch``).
    static func readiness(
        connections: [AMQPConnection], _ workers: [JobProcessor], _ watch: StoreWatch
    ) -> MonitoringServer.Readiness {
        return {
            var failing: [String] = []
            if connections.contains(where: { !$0.isConnected }) {
                failing.append("a broker connection is down (reconnecting)")
            }
            for worker in workers where worker.status.current != .consuming {
                failing.append("the \(worker.role.rawValue) consumer is \(worker.status.current.rawValue)")
            }
            if let problem = watch.problem() { failing.append(problem) }
            return failing
        }
    }

    /// Makes the series that only some events would make exist from the start, at zero.
    static func prepareMetrics(roles: [WorkerRole]) {
        AMQPMetrics.prepare()
        SalesforceMetrics.prepare()
        JobMetrics.prepare(roles: roles)
        RetentionService.prepareMetrics()
    }

    /// One job processor per role, each with its role's handler, on `queue`. `topology` gives the delays the
    /// handlers reason about (re-sync interval, visitor-refresh delay) and the retry strategy.
    public static func processors(
        roles: [WorkerRole], queue: any JobQueueDriver, topology: SyncTopology, orgs: TeamOrgs, concurrency: Int,
        teamConcurrency: Int? = nil, prefetch: Int, holds: LoginHolds? = nil, logger: Logger
    ) -> [JobProcessor] {
        let configuration = JobProcessor.Configuration(
            concurrency: concurrency, teamConcurrency: teamConcurrency, prefetch: prefetch, retry: topology.retryStrategy)
        return roles.map { role in
            JobProcessor(
                role: role, queue: queue, handler: handler(for: role, orgs: orgs, topology: topology),
                configuration: configuration, classify: { error, teamID in
                    teamID.map { WorkFailure.classify(error, teamID: $0) } ?? WorkFailure.classify(error)
                },
                admitParking: { failure, logger in
                    guard let holds, let teamID = failure.teamID, failure.code == WorkFailure.reauthenticationCode else {
                        return true
                    }
                    return await holds.admit(teamID: teamID, logger: logger)
                }, logger: logger)
        }
    }

    static func handler(for role: WorkerRole, orgs: TeamOrgs, topology: SyncTopology) -> any JobHandler {
        switch role {
        case .visits: VisitHandler(orgs: orgs, resyncInterval: topology.resyncInterval, retry: topology.retryStrategy)
        case .leads: LeadHandler(orgs: orgs)
        case .links:
            LinkHandler(orgs: orgs, visitorRefreshDelay: topology.visitorRefreshDelay, retry: topology.retryStrategy)
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

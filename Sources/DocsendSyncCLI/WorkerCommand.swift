import AMQP
import ArgumentParser
import Configuration
import Fleet
import Foundation
import Workers

/// Store and Salesforce flags shared by `worker` and `team`; each overrides its environment variable. Secrets
/// (`store.encryptionKey`, `salesforce.clientSecret`) come from the environment only, never from flags that
/// other users of the host can read in the process list.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store-url"), help: "sqlite:///PATH or postgres://… (DOCSEND_SYNC_STORE_URL).")
    var storeURL: String?

    @Option(name: .customLong("data-dir"), help: "Directory of the embedded SQLite store, default ./data (DOCSEND_SYNC_DATA_DIRECTORY).")
    var dataDirectory: String?

    @Option(name: .customLong("salesforce-login-url"), help: "OAuth host (DOCSEND_SYNC_SALESFORCE_LOGIN_URL).")
    var loginURL: String?

    @Option(name: .customLong("salesforce-client-id"), help: "Connected app consumer key (DOCSEND_SYNC_SALESFORCE_CLIENT_ID).")
    var clientID: String?

    var overrides: [String: String] {
        var overrides: [String: String] = [:]
        overrides["store.url"] = storeURL
        overrides["data.directory"] = dataDirectory
        overrides["salesforce.loginURL"] = loginURL
        overrides["salesforce.clientID"] = clientID
        return overrides
    }
}

extension DocsendSync {
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run workers: visits, links, leads, or all of them in one process.",
            discussion: """
                Any number of processes of each role can run side by side against one broker and one store \
                (PostgreSQL for several hosts). SIGTERM or SIGINT drains the messages in work and exits 0.
                """)

        @Argument(help: "visits, links, leads or all.")
        var role: WorkerRoles

        @OptionGroup var broker: BrokerOptions
        @OptionGroup var store: StoreOptions

        @Option(help: "Messages in work at once per role (DOCSEND_SYNC_WORKER_CONCURRENCY).")
        var concurrency: Int?

        @Option(
            name: .customLong("team-concurrency"),
            help: "Messages of one team in work at once per role, default half the concurrency; beyond it and as many waiting, a team's messages go to the role's overflow queue (DOCSEND_SYNC_WORKER_TEAM_CONCURRENCY).")
        var teamConcurrency: Int?

        @Option(help: "Unacknowledged deliveries per role (DOCSEND_SYNC_WORKER_PREFETCH).")
        var prefetch: Int?

        @Option(
            name: .customLong("metrics-port"),
            help: "Port of /metrics, /healthz and /readyz, default 9400; 0 picks a free one (DOCSEND_SYNC_METRICS_PORT).")
        var metricsPort: Int?

        @Option(
            name: .customLong("visit-state-age"),
            help: "Remove visit states unchanged this long, e.g. 30d; 0 or off keeps them (DOCSEND_SYNC_RETENTION_VISIT_STATE_AGE).")
        var visitStateAge: String?

        @Option(
            name: .customLong("link-state-age"),
            help: "Remove link and space link states unchanged this long, e.g. 180d; 0 or off keeps them (DOCSEND_SYNC_RETENTION_LINK_STATE_AGE).")
        var linkStateAge: String?

        @Option(
            name: .customLong("ledger-age"),
            help: "Remove ledger entries this old, e.g. 90d; 0 or off keeps them (DOCSEND_SYNC_RETENTION_LEDGER_AGE).")
        var ledgerAge: String?

        @Option(
            name: .customLong("retention-batch"), help: "Rows one pruning pass removes at most per table (DOCSEND_SYNC_RETENTION_BATCH).")
        var retentionBatch: Int?

        @Option(
            name: .customLong("retention-interval"), help: "Between two pruning passes, e.g. 5m (DOCSEND_SYNC_RETENTION_INTERVAL).")
        var retentionInterval: String?

        func run() async throws {
            var overrides = store.overrides
            overrides["worker.concurrency"] = concurrency.map(String.init)
            overrides["worker.teamConcurrency"] = teamConcurrency.map(String.init)
            overrides["worker.prefetch"] = prefetch.map(String.init)
            overrides["metrics.port"] = metricsPort.map(String.init)
            overrides["retention.visitStateAge"] = visitStateAge
            overrides["retention.linkStateAge"] = linkStateAge
            overrides["retention.ledgerAge"] = ledgerAge
            overrides["retention.batch"] = retentionBatch.map(String.init)
            overrides["retention.interval"] = retentionInterval
            let config = broker.config(adding: overrides)
            let name = "docsend-sync worker \(role.argument) (pid \(ProcessInfo.processInfo.processIdentifier))"
            try await WorkerProcess.run(
                roles: role.roles, amqp: AMQPConfiguration(config: config, connectionName: name),
                topology: try SyncTopology(config: config), configuration: try WorkerConfiguration(config: config),
                metrics: CommandMetrics.render, logger: CommandLogging.logger("worker"))
        }
    }
}

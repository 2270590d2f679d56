import AMQP
import ArgumentParser
import Configuration
import Fleet
import Workers

/// Broker and topology flags shared by the commands; each overrides its environment variable.
struct BrokerOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "Broker URL, amqp:// or amqps:// (DOCSEND_SYNC_AMQP_URL).")
    var amqpURL: String?

    @Option(name: .customLong("amqp-ca-file"), help: "PEM CA file for amqps:// (DOCSEND_SYNC_AMQP_CA_FILE).")
    var caFile: String?

    @Option(name: .customLong("topology-prefix"), help: "Prefix of queues and internal exchanges (DOCSEND_SYNC_TOPOLOGY_PREFIX).")
    var prefix: String?

    @Option(name: .customLong("exchange"), help: "The public topic exchange (DOCSEND_SYNC_TOPOLOGY_EXCHANGE).")
    var exchange: String?

    @Option(name: .customLong("retry-intervals"), help: "Retry tiers, e.g. 5s,1m,10m (DOCSEND_SYNC_TOPOLOGY_RETRY_INTERVALS).")
    var retryIntervals: String?

    @Option(name: .customLong("resync-interval"), help: "Visit re-sync period, e.g. 10m (DOCSEND_SYNC_TOPOLOGY_RESYNC_INTERVAL).")
    var resyncInterval: String?

    var config: ConfigReader { config(adding: [:]) }

    /// The configuration with these flags and `more` (other commands' flags) over the environment.
    func config(adding more: [String: String]) -> ConfigReader {
        var overrides = more
        overrides["amqp.url"] = amqpURL
        overrides["amqp.caFile"] = caFile
        overrides["topology.prefix"] = prefix
        overrides["topology.exchange"] = exchange
        overrides["topology.retryIntervals"] = retryIntervals
        overrides["topology.resyncInterval"] = resyncInterval
        return FleetConfiguration.reader(overrides: overrides)
    }

    func topology() throws -> SyncTopology { try SyncTopology(config: config) }

    /// Runs `body` with a broker connection named `docsend-sync NAME`, closed when `body` returns or throws
    /// (``FleetProcess/withResources(_:logger:_:)``).
    func withConnection<Result>(as name: String, _ body: (AMQPConnection) async throws -> Result) async throws -> Result {
        let needs = FleetResources.Needs(broker: try AMQPConfiguration(config: config, connectionName: "docsend-sync \(name)"))
        let logger = CommandLogging.logger(name.replacingOccurrences(of: " ", with: "."))
        return try await FleetProcess.withResources(needs, logger: logger) { try await body(try $0.requiredConnection) }
    }
}

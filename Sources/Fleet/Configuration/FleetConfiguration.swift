import AMQP
import Configuration
import Foundation

/// Where configuration comes from, in order of precedence: command-line flags, then environment
/// variables. Every key lives under `docsend_sync`, so `amqp.url` is read from
/// `DOCSEND_SYNC_AMQP_URL`. The README lists every key.
public enum FleetConfiguration {
    /// A reader over `overrides` (from command-line flags, keyed like `amqp.url`), then `environment`.
    public static func reader(
        overrides: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            values[AbsoluteConfigKey(stringLiteral: "docsend_sync.\(key)")] = ConfigValue(.string(value), isSecret: key.contains("url"))
        }
        return ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .dynamic { key, _ in key.hasSuffix("_URL") || key.contains("SECRET") || key.contains("KEY") }),
        ]).scoped(to: "docsend_sync")
    }

    /// The environment variable that holds `key` (for error messages and documentation).
    public static func environmentName(_ key: String) -> String {
        var name = ""
        var previous: Character = " "
        for character in "docsend_sync.\(key)" {
            if previous.isLowercase, character.isUppercase { name.append("_") }
            name.append(character.isLetter || character.isNumber ? Character(character.uppercased()) : "_")
            previous = character
        }
        return name
    }
}

/// A configuration value that is present but unusable.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String {
        "configuration \(key) (\(FleetConfiguration.environmentName(key))): \(problem)"
    }
}

extension AMQPConfiguration {
    /// ## Configuration keys
    /// - `amqp.url` (string, optional, default `amqp://guest:guest@127.0.0.1:5672/`): the broker; `amqps://` for TLS.
    /// - `amqp.caFile` (string, optional): PEM CA bundle to trust for `amqps://`.
    /// - `amqp.heartbeat` (seconds, optional, default 30).
    public init(config: ConfigReader, connectionName: String) throws {
        let url = config.string(forKey: "amqp.url", isSecret: true, default: "amqp://guest:guest@127.0.0.1:5672/")
        do {
            try self.init(url: url)
        } catch let error as AMQPError {
            throw ConfigurationError(key: "amqp.url", problem: error.message)
        }
        if let caFile = config.string(forKey: "amqp.caFile") { self.caFile = caFile }
        if let heartbeat = config.string(forKey: "amqp.heartbeat") {
            guard let seconds = Int(heartbeat), seconds >= 0 else {
                throw ConfigurationError(key: "amqp.heartbeat", problem: "expected whole seconds, got \(heartbeat)")
            }
            self.heartbeat = seconds
        }
        self.connectionName = connectionName
    }
}

extension SyncTopology {
    /// ## Configuration keys
    /// - `topology.prefix` (string, optional, default `docsend-sync`): prefix of every queue and internal exchange.
    /// - `topology.exchange` (string, optional, default `docsend.activity`): the public topic exchange.
    /// - `topology.retryIntervals` (list, optional, default `5s,1m,10m`): one retry tier per interval.
    /// - `topology.resyncInterval` (interval, optional, default `10m`): the visit re-sync period.
    /// - `topology.visitorRefreshDelay` (interval, optional, default `10s`): how long a link's new visitors are
    ///   gathered before its Task is updated once for all of them.
    /// - `topology.deliveryLimit` (integer, optional, default 20): deliveries without a settlement before a
    ///   message is parked by the broker.
    public init(config: ConfigReader) throws {
        self.init()
        if let prefix = config.string(forKey: "topology.prefix") {
            guard Self.isValidName(prefix) else {
                throw ConfigurationError(key: "topology.prefix", problem: "use letters, digits, '.', '-' and '_' only")
            }
            self.prefix = prefix
        }
        if let exchange = config.string(forKey: "topology.exchange") {
            guard Self.isValidName(exchange) else {
                throw ConfigurationError(key: "topology.exchange", problem: "use letters, digits, '.', '-' and '_' only")
            }
            activityExchange = exchange
        }
        if let list = config.string(forKey: "topology.retryIntervals") {
            let parts = list.split(separator: ",").map { String($0) }
            let intervals = parts.compactMap(IntervalFormat.parse)
            guard !parts.isEmpty, intervals.count == parts.count, Set(intervals).count == intervals.count else {
                throw ConfigurationError(
                    key: "topology.retryIntervals", problem: "expected distinct intervals such as 5s,1m,10m, got \(list)")
            }
            retryIntervals = intervals
        }
        if let text = config.string(forKey: "topology.resyncInterval") {
            guard let interval = IntervalFormat.parse(text) else {
                throw ConfigurationError(key: "topology.resyncInterval", problem: "expected an interval such as 10m or 30s, got \(text)")
            }
            resyncInterval = interval
        }
        if let text = config.string(forKey: "topology.visitorRefreshDelay") {
            guard let interval = IntervalFormat.parse(text) else {
                throw ConfigurationError(key: "topology.visitorRefreshDelay", problem: "expected an interval such as 10s, got \(text)")
            }
            visitorRefreshDelay = interval
        }
        if let text = config.string(forKey: "topology.deliveryLimit") {
            guard let limit = Int(text), limit > 0 else {
                throw ConfigurationError(key: "topology.deliveryLimit", problem: "expected a positive whole number, got \(text)")
            }
            deliveryLimit = limit
        }
    }

    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 200
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0)) }
    }
}

import Foundation

/// How to reach a broker and how to behave on the connection.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var vhost: String
    public var user: String
    public var password: String
    /// `amqps://`: TLS with peer and host name verification.
    public var tls: Bool
    /// A PEM file of CAs to trust for TLS (the system's are used when `nil`).
    public var caFile: String?
    /// Heartbeat interval asked of the broker (seconds, 0 disables). The connection thread services
    /// heartbeats whatever the application is doing.
    public var heartbeat: Int
    public var frameMax: Int
    public var connectTimeout: Duration
    /// A publish not confirmed within this delay fails with ``AMQPError/Code/timeout``. Unconfirmed
    /// publishes are re-sent after a reconnect while this time lasts.
    public var publishTimeout: Duration
    /// First and largest wait between reconnection attempts: the ceiling doubles from `initial` up to
    /// `maximum`, and each wait is drawn between half the ceiling and the ceiling (`Backoff` with equal jitter).
    public var reconnectDelay: (initial: Duration, maximum: Duration)
    /// Shown in the broker's management UI for this connection.
    public var connectionName: String

    public init(
        host: String = "127.0.0.1", port: Int = 5672, vhost: String = "/", user: String = "guest",
        password: String = "guest", tls: Bool = false, caFile: String? = nil,
        heartbeat: Int = 30, frameMax: Int = 131_072,
        connectTimeout: Duration = .seconds(10), publishTimeout: Duration = .seconds(60),
        reconnectDelay: (initial: Duration, maximum: Duration) = (.milliseconds(100), .seconds(10)),
        connectionName: String = "docsend-sync"
    ) {
        self.host = host
        self.port = port
        self.vhost = vhost
        self.user = user
        self.password = password
        self.tls = tls
        self.caFile = caFile
        self.heartbeat = heartbeat
        self.frameMax = frameMax
        self.connectTimeout = connectTimeout
        self.publishTimeout = publishTimeout
        self.reconnectDelay = reconnectDelay
        self.connectionName = connectionName
    }

    /// Reads an `amqp://user:pass@host:port/vhost` or `amqps://…` URL (RabbitMQ's URI spec: the vhost
    /// is the percent-decoded path without its leading slash; an empty path is `/`; `%2f` is `/`).
    /// Query parameters `heartbeat`, `connection_timeout` (ms) and `cacertfile` are understood.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "amqp" || scheme == "amqps"
        else {
            throw AMQPError(code: .invalidURL, message: "expected amqp:// or amqps://, got \(Self.redacted(url))")
        }
        self.init()
        tls = scheme == "amqps"
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? (tls ? 5671 : 5672)
        user = components.user?.removingPercentEncoding ?? "guest"
        password = components.password?.removingPercentEncoding ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            vhost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "heartbeat":
                guard let value = item.value.flatMap(Int.init), value >= 0 else {
                    throw AMQPError(code: .invalidURL, message: "heartbeat must be a whole number of seconds")
                }
                heartbeat = value
            case "connection_timeout":
                guard let value = item.value.flatMap(Int.init), value > 0 else {
                    throw AMQPError(code: .invalidURL, message: "connection_timeout must be milliseconds")
                }
                connectTimeout = .milliseconds(value)
            case "cacertfile":
                caFile = item.value
            default:
                continue
            }
        }
    }

    /// The URL with its password hidden, for logs.
    public var redactedURL: String {
        let vhostPart = vhost == "/" ? "" : "/" + (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        return "\(tls ? "amqps" : "amqp")://\(user):***@\(host):\(port)\(vhostPart)"
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "<url>"
    }
}

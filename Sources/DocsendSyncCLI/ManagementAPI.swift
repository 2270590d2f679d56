import Foundation
import HTTP

/// RabbitMQ's management HTTP API, read only: the per-queue numbers AMQP does not tell (unacknowledged messages,
/// rates), through the project's HTTP client.
///
/// The API samples its statistics every few seconds (`collect_statistics_interval`), so a queue it has not sampled
/// yet has no numbers: they come back `nil` (unknown). An answer that is not a JSON object is an error; a field
/// that is missing or of the wrong type is unknown, never a crash.
struct ManagementAPI: Sendable {
    /// A failure of the API itself: unreachable, refused, or an answer that is not the API's.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The numbers of one queue.
    struct QueueNumbers: Equatable, Sendable {
        var unacknowledged: Int?
        var publishRate: Double?
        var deliverRate: Double?
        var ackRate: Double?
    }

    /// Where the API is and how to sign in.
    struct Endpoint: Equatable, Sendable {
        /// The API's root (scheme, host, port, path prefix), without user info: safe to print.
        var root: String
        /// The `Authorization` header (basic).
        var authorization: String

        /// The API at `url` (`http://HOST:15672`, `https://…`, optionally with a path prefix and
        /// `USER:PASSWORD@`); without user info in `url`, it signs in as `user`/`password` (the broker URL's).
        init(url: String, user: String, password: String) throws {
            guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", components.host?.isEmpty == false
            else {
                throw Failure(description: "the management URL must be http:// or https:// with a host")
            }
            let (user, password) = components.user.map { ($0, components.password ?? "") } ?? (user, password)
            components.user = nil
            components.password = nil
            components.query = nil
            components.fragment = nil
            var root = components.string ?? ""
            while root.hasSuffix("/") { root.removeLast() }
            self.root = root
            self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
    }

    let endpoint: Endpoint
    private let vhost: String
    private let http: HTTPClient
    private let timeout: Duration

    var root: String { endpoint.root }

    /// The API at `endpoint`, for the queues of `vhost`.
    init(endpoint: Endpoint, vhost: String, http: HTTPClient, timeout: Duration = .seconds(10)) {
        self.endpoint = endpoint
        self.vhost = vhost
        self.http = http
        self.timeout = timeout
    }

    /// The numbers of `queue`, in the API's vhost.
    func queue(_ name: String) async throws -> QueueNumbers {
        let url = "\(root)/api/queues/\(Self.pathSegment(vhost))/\(Self.pathSegment(name))"
            + "?columns=messages_ready,messages_unacknowledged,consumers,message_stats"
        let response: HTTPResponse
        do {
            response = try await http.execute(
                HTTPRequest(url: url, headers: ["Authorization": endpoint.authorization, "Accept": "application/json"], timeout: timeout))
        } catch let error as HTTPClientError {
            let what = error.code == .connectFailed ? "could not be reached" : "failed"
            throw Failure(description: "\(root) \(what): \(error.code) (\(error.message.prefix(200)))")
        }
        switch response.status {
        case 200: break
        case 401, 403:
            throw Failure(description: "\(root) refused the credentials (HTTP \(response.status))")
        default:
            throw Failure(description: "\(root) answered HTTP \(response.status) for queue \(name)")
        }
        return try Self.numbers(from: response.body, queue: name, root: root)
    }

    /// The numbers in a `GET /api/queues/VHOST/NAME?columns=…` answer.
    static func numbers(from body: Data, queue: String, root: String) throws -> QueueNumbers {
        // A queue the API has not sampled yet has none of the columns asked for, and RabbitMQ writes that empty
        // object as an empty array.
        if let empty = try? JSONDecoder().decode([Nothing].self, from: body), empty.isEmpty { return QueueNumbers() }
        let answer: QueueAnswer
        do {
            answer = try JSONDecoder().decode(QueueAnswer.self, from: body)
        } catch {
            throw Failure(description: "\(root) answered something that is not a queue's JSON object for \(queue)")
        }
        // Never sampled yet (a new queue): nothing is known. Sampled: a counter the API leaves out never moved.
        let sampled = answer.sampled || answer.messageStats != .absent
        func rate(_ field: Field<RateDetail>) -> Double? {
            switch field {
            case .absent: sampled ? 0 : nil
            case .malformed: nil
            case .present(let detail): detail.rate
            }
        }
        switch answer.messageStats {
        case .malformed:
            return QueueNumbers(unacknowledged: answer.unacknowledged)
        case .absent:
            return QueueNumbers(
                unacknowledged: answer.unacknowledged, publishRate: rate(.absent), deliverRate: rate(.absent),
                ackRate: rate(.absent))
        case .present(let stats):
            return QueueNumbers(
                unacknowledged: answer.unacknowledged, publishRate: rate(stats.publish),
                deliverRate: rate(stats.deliverGet), ackRate: rate(stats.ack))
        }
    }

    /// A path segment with everything but unreserved characters percent-encoded (`/` is the vhost `%2F`).
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A field of an answer: left out, there but not what was expected, or there.
private enum Field<Value: Decodable & Equatable>: Equatable {
    case absent, malformed
    case present(Value)

    init<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) {
        guard container.contains(key) else {
            self = .absent
            return
        }
        if let value = try? container.decode(Value.self, forKey: key) {
            self = .present(value)
        } else {
            self = .malformed
        }
    }

    var value: Value? {
        if case .present(let value) = self { return value }
        return nil
    }
}

/// Any JSON value, ignored.
private struct Nothing: Decodable {}

/// The fields of a queue answer that status reads; each decoded on its own, so that a field of the wrong type is
/// unknown rather than a failure of the whole answer. The answer must be a JSON object.
private struct QueueAnswer: Decodable {
    var sampled: Bool
    var unacknowledged: Int?
    var messageStats: Field<MessageStats>

    enum CodingKeys: String, CodingKey {
        case messagesReady = "messages_ready"
        case messagesUnacknowledged = "messages_unacknowledged"
        case messageStats = "message_stats"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sampled = container.contains(.messagesReady) || container.contains(.messagesUnacknowledged)
        unacknowledged = Field<Int>(container, .messagesUnacknowledged).value.flatMap { $0 >= 0 ? $0 : nil }
        messageStats = Field(container, .messageStats)
    }
}

private struct MessageStats: Decodable, Equatable {
    var publish: Field<RateDetail>
    var deliverGet: Field<RateDetail>
    var ack: Field<RateDetail>

    enum CodingKeys: String, CodingKey {
        case publish = "publish_details"
        case deliverGet = "deliver_get_details"
        case ack = "ack_details"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        publish = Field(container, .publish)
        deliverGet = Field(container, .deliverGet)
        ack = Field(container, .ack)
    }
}

/// `{"rate": 1.5}`; a rate that is missing, not a number, negative or not finite is unknown.
private struct RateDetail: Decodable, Equatable {
    var rate: Double?

    enum CodingKeys: String, CodingKey { case rate }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rate = Field<Double>(container, .rate).value.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
    }
}

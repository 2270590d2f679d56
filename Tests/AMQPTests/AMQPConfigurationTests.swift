import AMQP
import Testing

@Suite("Broker URLs")
struct AMQPConfigurationTests {
    @Test("amqp:// with credentials, port and an encoded vhost")
    func fullURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://sync%40docsend:p%3Ass@broker.internal:5673/prod%2Feu?heartbeat=7")
        #expect(configuration.host == "broker.internal")
        #expect(configuration.port == 5673)
        #expect(configuration.user == "sync@docsend")
        #expect(configuration.password == "p:ss")
        #expect(configuration.vhost == "prod/eu")
        #expect(configuration.heartbeat == 7)
        #expect(!configuration.tls)
        #expect(!configuration.redactedURL.contains("p:ss"))
    }

    @Test("Defaults: guest, port by scheme, vhost /")
    func defaults() throws {
        let plain = try AMQPConfiguration(url: "amqp://localhost")
        #expect(plain.port == 5672 && plain.vhost == "/" && plain.user == "guest")
        let tls = try AMQPConfiguration(url: "amqps://localhost/?cacertfile=/etc/ca.pem")
        #expect(tls.port == 5671 && tls.tls && tls.caFile == "/etc/ca.pem")
        #expect(try AMQPConfiguration(url: "amqp://h/%2f").vhost == "/")
    }

    @Test("Other schemes and bad parameters are refused with the password hidden")
    func invalid() {
        let error = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "http://user:hunter2@host/") }
        #expect(error?.code == .invalidURL)
        #expect(error?.description.contains("hunter2") == false)
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://h/?heartbeat=soon") }
    }

    @Test("Topology exports as RabbitMQ definitions with stable ordering")
    func definitions() throws {
        let topology = Topology(
            exchanges: [.init(name: "ex", type: "topic")],
            queues: [.init(name: "q", arguments: ["x-queue-type": "quorum", "x-message-ttl": 5000])],
            bindings: [.init(exchange: "ex", queue: "q", routingKey: "a.*")])
        let json = String(decoding: try topology.definitionsJSON(), as: UTF8.self)
        #expect(json.contains(#""x-message-ttl" : 5000"#))
        #expect(json.contains(#""destination_type" : "queue""#))
        #expect(try topology.definitionsJSON() == topology.definitionsJSON())
    }
}

import HTTP

/// What the client sends requests through: the `HTTP` module's client in production; tests may inject a
/// scripted one to pin down token handling without a server.
protocol SalesforceTransport: Sendable {
    func execute(_ request: HTTPRequest) async throws -> HTTPResponse
}

extension HTTPClient: SalesforceTransport {}

import Foundation
import HTTP
import SalesforceSandbox
import Testing

/// Regressions found by scripts/check-third-party-client (simple-salesforce through a TLS front).
@Suite("What an established third-party client needs")
struct ThirdPartyClientTests {
    typealias Demo = SandboxSeed.Demo

    /// Salesforce always advertises its https address as `instance_url`; a client that takes its instance from the
    /// token response (simple-salesforce's client-credentials login) must be sent to the TLS front, not to the
    /// plain listener. `PUT /_sandbox/info` sets the advertised URL.
    @Test func advertisedInstanceURLCanBeTheTLSFront() async throws {
        try await withSandbox { h in
            let set = try await h.call(.put, "/_sandbox/info", json: #"{"baseURL":"https://127.0.0.1:4443/"}"#, anonymous: true)
            #expect(set.status == 200)
            #expect(try json(set)["baseURL"] == "https://127.0.0.1:4443")
            #expect(try json(try await h.call(.get, "/_sandbox/info", anonymous: true))["baseURL"] == "https://127.0.0.1:4443")

            let basic = Data("\(Demo.clientId):\(Demo.clientSecret)".utf8).base64EncodedString()
            let token = try await h.form("/services/oauth2/token", [("grant_type", "client_credentials")], headers: [("Authorization", "Basic \(basic)")])
            #expect(token.status == 200)
            let body = try json(token)
            #expect(body["instance_url"] == "https://127.0.0.1:4443")
            #expect(body["id"]?.stringValue?.hasPrefix("https://127.0.0.1:4443/id/") == true)
            let issued = try json(try await h.call(.post, "/_sandbox/tokens", anonymous: true))
            #expect(issued["instance_url"] == "https://127.0.0.1:4443")

            for bad in [#"{}"#, #"{"baseURL":"ftp://x"}"#, #"{"baseURL":"https://"}"#, #"{"baseURL":"https://h/x"}"#, "nope"] {
                #expect(try await h.call(.put, "/_sandbox/info", json: bad, anonymous: true).status == 400, "\(bad)")
            }
        }
    }
}

import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("Remaining routes and errors")
struct MiscRouteTests {
    typealias Demo = SandboxSeed.Demo

    @Test func versionsBasicInfoAndDeleteByExternalId() async throws {
        try await withSandbox { h in
            let versions = try await h.call(.get, "/services/data/", anonymous: true)
            #expect(versions.status == 200)
            #expect(try json(versions).arrayValue?.contains { $0["version"] == "62.0" } == true)
            let info = try json(try await h.call(.get, "sobjects/Lead"))
            #expect(info["objectDescribe"]?["keyPrefix"] == "00Q" && info["recentItems"] == [])
            #expect(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/v-9", json: #"{"Subject":"s"}"#).status == 201)
            #expect(try await h.call(.delete, "sobjects/Task/DocSend_Visit_Id__c/v-9").status == 204)
            try expectError(try await h.call(.get, "sobjects/Task/DocSend_Visit_Id__c/v-9"), status: 404, code: "NOT_FOUND")
            try expectError(try await h.call(.get, "sobjects/Lead/00Q5g00000Nope1"), status: 404, code: "NOT_FOUND")
        }
    }

    @Test func referenceTargetsMustExistAndBeLive() async throws {
        try await withSandbox { h in
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"003000000000001"}"#), status: 400, code: "INVALID_CROSS_REFERENCE_KEY", fields: ["WhoId"])
            #expect(try await h.call(.delete, "sobjects/Contact/\(Demo.aliceContactId)").status == 204)
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"\#(Demo.aliceContactId)"}"#), status: 400, code: "ENTITY_IS_DELETED", fields: ["WhoId"])
            // 15-character ids are accepted and stored as 18.
            let id = try #require(try json(try await h.call(.post, "sobjects/Task", json: #"{"WhatId":"0015g00000AcmeA"}"#))["id"]?.stringValue)
            #expect(await h.org.record(id: id)?["WhatId"]?.stringValue == Demo.acmeAccountId)
            #expect(try await h.call(.get, "sobjects/Task/\(id.prefix(15))").status == 200)
        }
    }

    @Test func oauthDenyRevokeAndRedirectMismatch() async throws {
        try await withSandbox { h in
            let deny = try await h.form(
                "/services/oauth2/authorize",
                [("response_type", "code"), ("client_id", Demo.clientId), ("redirect_uri", Demo.redirectURI), ("state", "s"), ("action", "deny")])
            #expect(deny.status == 302 && deny.headers["Location"]?.contains("error=access_denied") == true)

            let ok = try await h.call(
                .get, "/services/oauth2/authorize?response_type=code&client_id=\(Demo.clientId)&redirect_uri=\(enc(Demo.redirectURI))&sandbox_auto_approve=true",
                anonymous: true)
            let code = try #require(URLComponents(string: ok.headers["Location"] ?? "")?.queryItems?.first { $0.name == "code" }?.value)
            let mismatch = try await h.form(
                "/services/oauth2/token",
                [("grant_type", "authorization_code"), ("code", code), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret), ("redirect_uri", "http://other/cb")])
            #expect(mismatch.status == 400)
            #expect(try json(mismatch)["error"] == "redirect_uri_mismatch")

            let token = try #require(try json(try await h.form(
                "/services/oauth2/token", [("grant_type", "client_credentials"), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret)]))["access_token"]?.stringValue)
            #expect(try await h.call(.get, "limits", token: token).status == 200)
            #expect(try await h.form("/services/oauth2/revoke", [("token", token)]).status == 200)
            #expect(try await h.call(.get, "limits", token: token).status == 401)
        }
    }

    @Test func controlInfoAndValidatedCreate() async throws {
        try await withSandbox { h in
            let info = try json(try await h.call(.get, "/_sandbox/info", anonymous: true))
            #expect(info["baseURL"]?.stringValue == h.base && info["orgId"]?.stringValue == Demo.orgId)
            let created = try await h.call(.post, "/_sandbox/records/Lead", json: #"{"LastName":"Via","Company":"Control"}"#, anonymous: true)
            #expect(created.status == 201)
            let bad = try await h.call(.post, "/_sandbox/records/Lead", json: #"{"LastName":"Via"}"#, anonymous: true)
            try expectError(bad, status: 400, code: "REQUIRED_FIELD_MISSING")
            #expect(await h.org.records("Lead").count == 3)
        }
    }
}

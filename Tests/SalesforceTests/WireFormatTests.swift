import Foundation
import HTTP
import Testing

@testable import Salesforce

@Suite("Sforce-Limit-Info parsing")
struct APIUsageTests {
    @Test func parsesTheDocumentedForms() {
        #expect(APIUsage.parse(limitInfo: "api-usage=10018/100000") == APIUsage(used: 10018, max: 100000))
        #expect(
            APIUsage.parse(limitInfo: "per-app-api-usage=17/250(appName=x); api-usage=25/5000")
                == APIUsage(used: 25, max: 5000))
        #expect(APIUsage.parse(limitInfo: "api-usage=18/5000; api-bursts=1/750") == APIUsage(used: 18, max: 5000))
        #expect(APIUsage(used: 10, max: 15).remaining == 5)
        #expect(APIUsage(used: 20, max: 15).remaining == 0)
    }

    @Test(arguments: ["", "api-usage=", "api-usage=12", "api-usage=a/b", "api-usage=-1/5", "per-app-api-usage=1/2"])
    func rejectsMalformedHeaders(header: String) {
        #expect(APIUsage.parse(limitInfo: header) == nil)
    }
}

@Suite("Error decoding and classification")
struct ErrorTests {
    func decode(_ status: Int, _ json: String) -> SalesforceError {
        SalesforceError.first(status: status, data: Data(json.utf8))
    }

    @Test func decodesTheRestEnvelope() {
        let error = decode(
            400, #"[{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}]"#)
        #expect(error.code == .requiredFieldMissing)
        #expect(error.message == "Required fields are missing: [LastName, Company]")
        #expect(error.fields == ["LastName", "Company"])
        #expect(error.httpStatus == 400)
        #expect(error.classification == .permanent)
        #expect(SalesforceError.decode(status: 400, data: Data(#"[{"message":"a","errorCode":"X"},{"message":"b","errorCode":"Y"}]"#.utf8)).map(\.code.rawValue) == ["X", "Y"])
    }

    @Test func decodesPerItemAndOAuthShapes() {
        let item = decode(400, #"{"statusCode":"STRING_TOO_LONG","message":"Subject: data value too large","fields":["Subject"]}"#)
        #expect(item.code == .stringTooLong)
        #expect(item.fields == ["Subject"])
        let oauth = decode(400, #"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#)
        #expect(oauth.code == .invalidGrant)
        #expect(oauth.message == "expired access/refresh token")
        #expect(oauth.classification == .needsReauthentication)
        let html = decode(503, "<html>down</html>")
        #expect(html.code == .unknown)
        #expect(html.classification == .retryable)
    }

    @Test(arguments: [
        (500, "UNKNOWN_EXCEPTION", SalesforceError.Classification.retryable),
        (502, "X", .retryable),
        (503, "SERVER_UNAVAILABLE", .retryable),
        (400, "UNABLE_TO_LOCK_ROW", .retryable),
        (403, "REQUEST_LIMIT_EXCEEDED", .retryable),
        (403, "INSUFFICIENT_ACCESS", .permanent),
        (401, "INVALID_SESSION_ID", .needsReauthentication),
        (400, "invalid_grant", .needsReauthentication),
        (400, "REQUIRED_FIELD_MISSING", .permanent),
        (400, "STRING_TOO_LONG", .permanent),
        (400, "INVALID_FIELD", .permanent),
        (400, "MALFORMED_ID", .permanent),
        (404, "ENTITY_IS_DELETED", .permanent),
        (400, "CANNOT_UPDATE_CONVERTED_LEAD", .permanent),
        (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", .permanent),
        (400, "DUPLICATES_DETECTED", .permanent),
        (400, "MALFORMED_QUERY", .permanent),
        (404, "NOT_FOUND", .permanent),
    ])
    func classifies(status: Int, code: String, expected: SalesforceError.Classification) {
        let error = decode(status, #"[{"message":"m","errorCode":"\#(code)"}]"#)
        #expect(error.classification == expected)
        #expect(error.code.rawValue == code)
    }

    @Test func perItemErrorsAreClassifiedByCodeAlone() {
        #expect(SalesforceError(code: .unableToLockRow, message: "").classification == .retryable)
        #expect(SalesforceError(code: .requestLimitExceeded, message: "").classification == .retryable)
        #expect(SalesforceError(code: .duplicatesDetected, message: "").classification == .permanent)
        #expect(SalesforceError(code: .init("UNKNOWN_EXCEPTION"), message: "").classification == .permanent)
    }

    @Test func classifiesTransportFailures() {
        func mapped(_ code: HTTPClientError.Code) -> SalesforceError {
            SalesforceError(transport: HTTPClientError(code: code, message: "m", url: "http://x"))
        }
        #expect(mapped(.timeout).code == .timeout)
        #expect(mapped(.timeout).classification == .retryable)
        #expect(mapped(.connectFailed).classification == .retryable)
        #expect(mapped(.connectionLost).code == .connectionLost)
        #expect(mapped(.connectionLost).classification == .retryable)
        #expect(mapped(.shutdown).classification == .retryable)
        #expect(mapped(.tls).classification == .retryable, "a handshake can fail for a moment")
        #expect(mapped(.invalidRequest).classification == .permanent)
    }

    @Test func saveResultsMapStatusCode() throws {
        let json = #"[{"id":"00T1","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access","fields":[]}]}]"#
        let results = try JSONDecoder().decode([SaveResult].self, from: Data(json.utf8))
        #expect(results[0] == SaveResult(id: "00T1", success: true, errors: []))
        #expect(results[1].errors.first?.code == .unableToLockRow)
        #expect(results[1].errors.first?.classification == .retryable)
    }

    @Test func compositeSubresponseErrors() throws {
        let json = #"{"compositeResponse":[{"body":{"id":"001A","success":true,"errors":[]},"httpHeaders":{"Location":"/x"},"httpStatusCode":201,"referenceId":"acc"},{"body":[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back"}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"con"}]}"#
        struct Reply: Decodable { var compositeResponse: [CompositeSubresponse] }
        let replies = try JSONDecoder().decode(Reply.self, from: Data(json.utf8)).compositeResponse
        #expect(replies[0].isSuccess && replies[0].id == "001A" && replies[0].errors.isEmpty)
        #expect(replies[1].errors.first?.code.rawValue == "PROCESSING_HALTED")
        #expect(replies[1].errors.first?.httpStatus == 400)
    }
}

@Suite("OAuth helpers")
struct OAuthTests {
    @Test func pkceChallengeMatchesRFC7636AppendixB() {
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func generatedVerifiersAreUnreservedAndUnique() {
        let a = PKCE.generate()
        let b = PKCE.generate()
        #expect(a.verifier != b.verifier)
        #expect(a.verifier.count == 43)
        #expect(a.verifier.allSatisfy { $0.isLetter || $0.isNumber || "-_".contains($0) })
        #expect(!a.challenge.contains("=") && !a.challenge.contains("+") && !a.challenge.contains("/"))
    }

    @Test func authorizeURLCarriesTheChallenge() throws {
        let configuration = SalesforceConfiguration(loginURL: "https://login.example.com/", clientID: "key+1", clientSecret: "s")
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        let url = SalesforceWebServerFlow.authorizeURL(
            configuration: configuration, redirectURI: "http://127.0.0.1:9/cb?x=1", pkce: pkce, state: "st&ate")
        let components = try #require(URLComponents(string: url))
        #expect(components.host == "login.example.com")
        #expect(components.path == "/services/oauth2/authorize")
        let items = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["response_type"] == "code")
        #expect(items["client_id"] == "key+1")
        #expect(items["redirect_uri"] == "http://127.0.0.1:9/cb?x=1")
        #expect(items["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(items["code_challenge_method"] == "S256")
        #expect(items["scope"] == "api refresh_token")
        #expect(items["state"] == "st&ate")
        #expect(!url.contains("key+1"))  // `+` would read as a space
    }

    @Test func tokensAndCredentialsNeverPrintSecrets() {
        let token = SalesforceToken(accessToken: "00Dsecret!AR", refreshToken: "5Aepsecret", instanceURL: "https://x")
        #expect(!"\(token)".contains("secret"))
        #expect(!"\(SalesforceCredentials.refreshToken("5Aepsecret"))".contains("secret"))
        let withID = SalesforceToken(accessToken: "a", instanceURL: "https://x", id: "https://login.salesforce.com/id/00Dorg/005user")
        #expect(withID.organizationID == "00Dorg")
    }
}

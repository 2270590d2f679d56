import Foundation
import Testing

@testable import SyncCore

/// A valid `visit.started` body as a mutable JSON tree, so each test breaks exactly one thing.
func validVisitStarted() -> [String: Any] {
    [
        "id": "evt_1",
        "type": "visit.started",
        "version": 1,
        "occurred_at": "2026-11-24T10:00:00Z",
        "team_id": "team_demo",
        "data": [
            "visit_id": "vis_1",
            "link_id": "lnk_1",
            "link_owner_email": "owner@docsend-demo.example",
            "document": ["id": "doc_1", "name": "Deck.pdf", "url": "https://docsend.com/documents/doc_1"],
            "account": ["id": "acc_1", "name": "Acme", "salesforce_account_id": "001Dm0000AcmeCoIQI"],
            "visitor": ["email": "ada@acme.example", "name": "Ada"],
            "analytics_url": "https://docsend.com/view/analytics/visits/vis_1",
            "started_at": "2026-11-24T09:59:58Z",
        ] as [String: Any],
    ]
}

func validVisitUpdated(percent: Any = 50, duration: Any = 120) -> [String: Any] {
    [
        "id": "evt_2",
        "type": "visit.updated",
        "version": 1,
        "occurred_at": "2026-11-24T10:02:00Z",
        "team_id": "team_demo",
        "data": [
            "visit_id": "vis_1",
            "duration_seconds": duration,
            "percent_viewed": percent,
            "last_activity_at": "2026-11-24T10:01:58Z",
            "ended": false,
        ] as [String: Any],
    ]
}

func body(_ object: [String: Any]) throws -> Data {
    try JSONSerialization.data(withJSONObject: object)
}

/// The violation decoding `data` throws, or `nil` if it decodes.
func violation(_ data: Data) -> ContractViolation? {
    do {
        _ = try Event.decode(from: data)
        return nil
    } catch {
        return error
    }
}

func violation(_ object: [String: Any]) throws -> ContractViolation? {
    violation(try body(object))
}

/// Sets `value` at a dotted `path` (`nil` removes the key).
func setting(_ object: [String: Any], _ path: String, to value: Any?) -> [String: Any] {
    var object = object
    let keys = path.split(separator: ".").map(String.init)
    if keys.count == 1 {
        object[keys[0]] = value
    } else {
        let child = object[keys[0]] as? [String: Any] ?? [:]
        object[keys[0]] = setting(child, keys.dropFirst().joined(separator: "."), to: value)
    }
    return object
}

@Suite("Decoding events")
struct EventDecodingTests {
    @Test func decodesAVisitStartedWithEveryField() throws {
        let event = try Event.decode(from: body(validVisitStarted()))
        #expect(event.id == "evt_1")
        #expect(event.type == .visitStarted)
        #expect(event.teamID == "team_demo")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_795_514_400))
        guard case .visitStarted(let visit) = event.payload else {
            Issue.record("wrong payload \(event.payload)")
            return
        }
        #expect(visit.visitID == "vis_1")
        #expect(
            visit.document == DocumentInfo(id: "doc_1", name: "Deck.pdf", url: "https://docsend.com/documents/doc_1"))
        #expect(visit.account?.salesforceAccountID == "001Dm0000AcmeCoIQI")
        #expect(visit.visitor == VisitorInfo(email: "ada@acme.example", name: "Ada"))
        #expect(visit.startedAt == Date(timeIntervalSince1970: 1_795_514_398))
    }

    @Test func ignoresUnknownKeysAtEveryLevel() throws {
        var object = setting(validVisitStarted(), "trace_id", to: "abc")
        object = setting(object, "data.utm", to: ["source": "mail"])
        object = setting(object, "data.visitor.ip", to: 42)
        object = setting(object, "data.document.pages", to: [1, 2, 3])
        let event = try Event.decode(from: body(object))
        #expect(event == (try Event.decode(from: body(validVisitStarted()))))
    }

    @Test func optionalKeysMayBeAbsentOrNull() throws {
        for value: Any? in [nil, NSNull()] {
            var object = setting(validVisitStarted(), "data.account", to: value)
            object = setting(object, "data.visitor", to: [:] as [String: Any])
            let event = try Event.decode(from: body(object))
            guard case .visitStarted(let visit) = event.payload else { throw Unexpected.payload }
            #expect(visit.account == nil)
            #expect(visit.visitor == VisitorInfo())
        }
    }

    @Test func anEmptyVisitorEmailMeansNoEmail() throws {
        let event = try Event.decode(from: body(setting(validVisitStarted(), "data.visitor.email", to: "")))
        guard case .visitStarted(let visit) = event.payload else { throw Unexpected.payload }
        #expect(visit.visitor.email == nil)
    }

    @Test func visitorEmailsAreKeptAsGivenNotValidated() throws {
        for email in [
            "not an email", "Robert'); DROP TABLE--@x", "\"quoted\"@x.example", "Ünïcødé@例え.jp", "ADA@ACME.EXAMPLE",
        ] {
            let event = try Event.decode(from: body(setting(validVisitStarted(), "data.visitor.email", to: email)))
            guard case .visitStarted(let visit) = event.payload else { throw Unexpected.payload }
            #expect(visit.visitor.email == email)
        }
    }

    /// Each case: a dotted path, the JSON text to put there (`nil` removes the key), the expected violation.
    @Test(
        arguments: [
            ("data.visitor.email", "42", "data.visitor.email: expected a string, found a number"),
            ("data.visit_id", "null", "data.visit_id: expected a string, found null"),
            ("data.visit_id", nil, "data.visit_id: required key is missing"),
            ("data.document", #""doc""#, "data.document: expected an object, found a string"),
            ("data.document.url", nil, "data.document.url: required key is missing"),
            ("data.account.name", "[1]", "data.account.name: expected a string, found an array"),
            ("data.account", "true", "data.account: expected an object, found a boolean"),
            ("type", #""visit.exploded""#, #"type: unknown event type "visit.exploded""#),
            ("version", "2", "version: unsupported version 2 (this consumer understands 1)"),
            ("version", #""1""#, "version: expected an integer, found a string"),
            ("occurred_at", #""yesterday""#, #"occurred_at: not an RFC 3339 timestamp: "yesterday""#),
            (
                "occurred_at", #""2026-02-30T10:00:00Z""#,
                #"occurred_at: not an RFC 3339 timestamp: "2026-02-30T10:00:00Z""#
            ),
            ("data.started_at", "1795514400", "data.started_at: expected an RFC 3339 timestamp string, found a number"),
            ("id", #""""#, "id: must not be empty"),
            ("team_id", #""team\n42""#, "team_id: contains control characters"),
            ("data.link_owner_email", #""""#, "data.link_owner_email: must not be empty"),
            (
                "data.analytics_url", #""javascript:alert(1)""#,
                #"data.analytics_url: not an absolute http(s) URL: "javascript:alert(1)""#
            ),
            ("data", "[1, 2]", "data: expected an object, found an array"),
        ] as [(String, String?, String)])
    func namesTheOffendingFieldByPath(path: String, json: String?, expected: String) throws {
        let value = try json.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
        let found = try violation(setting(validVisitStarted(), path, to: value))
        #expect(found?.description == expected)
    }

    @Test func rangesAreChecked() throws {
        #expect(
            try violation(validVisitUpdated(percent: 130))?.description == "data.percent_viewed: 130 is outside 0…100")
        #expect(try violation(validVisitUpdated(percent: -0.5))?.kind == .outOfRange)
        #expect(try violation(validVisitUpdated(duration: -5))?.description == "data.duration_seconds: -5 is negative")
        #expect(
            try violation(validVisitUpdated(duration: 12.5))?.description
                == "data.duration_seconds: expected an integer, found 12.5")
        #expect(try violation(validVisitUpdated(percent: 100, duration: 0)) == nil)
        #expect(try violation(validVisitUpdated(percent: 0, duration: 86_400)) == nil)
        #expect(
            try violation(setting(validVisitUpdated(), "data.ended", to: "yes"))?.description
                == "data.ended: expected a boolean, found a string")
        #expect(
            try violation(setting(validVisitUpdated(), "data.ended", to: 1))?.description
                == "data.ended: expected a boolean, found a number")
    }

    @Test func theTypeDecidesWhichDataIsRequired() throws {
        // A visit.updated body labelled visit.started lacks visit.started's keys.
        let found = try violation(setting(validVisitUpdated(), "type", to: "visit.started"))
        #expect(found?.description == "data.link_id: required key is missing")
    }

    @Test func rejectsBodiesThatAreNotAJSONObject() {
        #expect(violation(Data()).map(\.description) == "body: not valid JSON")
        #expect(violation(Data("{\"id\": ".utf8)).map(\.description) == "body: not valid JSON")
        #expect(violation(Data([0xFF, 0xFE, 0x00])).map(\.description) == "body: not valid JSON")
        #expect(violation(Data("[1,2]".utf8)).map(\.description) == "body: expected a JSON object, found an array")
        #expect(violation(Data("\"visit\"".utf8)).map(\.description) == "body: expected a JSON object, found a string")
        #expect(violation(Data("null".utf8))?.kind == .invalidJSON)
    }

    @Test func checksTheSizeBeforeParsing() {
        let huge = Data(repeating: UInt8(ascii: "x"), count: 2_200_000)  // not even JSON: never parsed
        #expect(violation(huge).map(\.description) == "body: 2.1 MiB exceeds the 256 KiB limit")
        #expect(violation(huge)?.kind == .bodyTooLarge)
        let justOver = Data(repeating: UInt8(ascii: " "), count: EventContract.maximumBodySize + 1)
        #expect(violation(justOver).map(\.description) == "body: 256 KiB exceeds the 256 KiB limit")
    }

    @Test func acceptsTimestampsWithFractionsAndOffsets() throws {
        let cases: [(String, Double)] = [
            ("2026-11-24T10:00:00Z", 1_795_514_400),
            ("2026-11-24T10:00:00.5Z", 1_795_514_400.5),
            ("2026-11-24T10:00:00.123456789Z", 1_795_514_400.123456789),
            ("2026-11-24T12:00:00+02:00", 1_795_514_400),
            ("2026-11-24T05:30:00-04:30", 1_795_514_400),
            ("2026-11-24t10:00:00z", 1_795_514_400),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
            ("1970-01-01T00:00:00Z", 0),
        ]
        for (text, seconds) in cases {
            let event = try Event.decode(from: body(setting(validVisitStarted(), "occurred_at", to: text)))
            #expect(abs(event.occurredAt.timeIntervalSince1970 - seconds) < 1e-6, "\(text)")
        }
        for text in [
            "2026-11-24 10:00:00Z", "2026-11-24T10:00:00", "2026-11-24T24:00:00Z", "2025-02-29T00:00:00Z",
            "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00+0200", "2026-13-01T00:00:00Z", "１２３",
        ] {
            #expect(
                try violation(setting(validVisitStarted(), "occurred_at", to: text))?.path == "occurred_at", "\(text)")
        }
    }

    @Test func boundsStringLengths() throws {
        let longEmail = String(repeating: "a", count: 321)
        #expect(
            try violation(setting(validVisitStarted(), "data.visitor.email", to: longEmail))?.description
                == "data.visitor.email: 321 characters exceeds the 320-character limit")
        #expect(
            try violation(setting(validVisitStarted(), "data.visitor.email", to: String(repeating: "a", count: 320)))
                == nil)
        #expect(
            try violation(setting(validVisitStarted(), "id", to: String(repeating: "é", count: 128)))?.description
                == "id: 256 bytes exceeds the 255-byte limit")
        #expect(
            try violation(setting(validVisitStarted(), "data.visitor.email", to: "ada@acme.example\r\nBcc: x"))?
                .description
                == "data.visitor.email: contains control characters")
        // Names are free text: newlines pass, length is bounded.
        #expect(try violation(setting(validVisitStarted(), "data.visitor.name", to: "Ada\nLovelace")) == nil)
        #expect(
            try violation(setting(validVisitStarted(), "data.document.name", to: String(repeating: "n", count: 1025)))?
                .path
                == "data.document.name")
    }

    @Test func hostileBodiesNeverCrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(violation(Data(deep.utf8))?.path == "body")
        let deepInData =
            "{\"id\":\"e\",\"type\":\"visit.updated\",\"version\":1,\"occurred_at\":\"2026-11-24T10:00:00Z\",\"team_id\":\"t\",\"data\":{\"x\":"
            + String(repeating: "{\"a\":", count: 5_000) + "1" + String(repeating: "}", count: 5_000) + "}}"
        #expect(violation(Data(deepInData.utf8)) != nil)
        // A long hostile type is quoted truncated and escaped in the reason.
        let hostileType = "\"\n" + String(repeating: "💣", count: 10_000)
        let found = try violation(setting(validVisitStarted(), "type", to: hostileType))
        #expect(found?.kind == .unknownEventType)
        #expect((found?.reason.count ?? .max) < 120)
        #expect(found?.reason.contains("\n") == false)
        for value: Any in [1e308, -0.0, Int.max, "\u{0}", "\u{202E}evil", ["nested": ["deep": [1]]]] {
            for path in ["id", "version", "data.percent_viewed", "data.visitor", "data.document.name"] {
                _ = violation(try body(setting(validVisitUpdated(), path, to: value)))
                _ = violation(try body(setting(validVisitStarted(), path, to: value)))
            }
        }
    }

    @Test func codableConformanceUsesTheSameChecks() throws {
        let event = try Event.decode(from: body(validVisitStarted()))
        let wrapped = try JSONEncoder().encode(["event": event])
        let decoded = try JSONDecoder().decode([String: Event].self, from: wrapped)
        #expect(decoded["event"] == event)

        let broken = try body(["event": setting(validVisitUpdated(), "data.percent_viewed", to: 130)])
        do {
            _ = try JSONDecoder().decode([String: Event].self, from: broken)
            Issue.record("decoded an invalid event")
        } catch let DecodingError.dataCorrupted(context) {
            #expect((context.underlyingError as? ContractViolation)?.path == "data.percent_viewed")
        }
    }
}

enum Unexpected: Error { case payload }

@Suite("Salesforce datetimes")
struct SalesforceDateTimeTests {
    @Test("Salesforce's +0000 offsets, Z and fractions parse; garbage does not")
    func parse() {
        let expected = Date(timeIntervalSince1970: 1_795_514_400)
        #expect(SalesforceDateTime.parse("2026-11-24T10:00:00.000+0000") == expected)
        #expect(SalesforceDateTime.parse("2026-11-24T11:00:00.000+0100") == expected)
        #expect(SalesforceDateTime.parse("2026-11-24T10:00:00Z") == expected)
        #expect(SalesforceDateTime.parse("2026-11-24") == nil)
        #expect(SalesforceDateTime.parse("yesterday+0000") == nil)
        #expect(SalesforceDateTime.parse(nil) == nil)
    }
}

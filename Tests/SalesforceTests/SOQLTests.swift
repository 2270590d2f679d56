import Foundation
import Testing

@testable import Salesforce

@Suite("SOQL builder")
struct SOQLTests {
    @Test func rendersTheMatchingQuery() throws {
        let query = SOQL.select(["Id", "Email", "LastModifiedDate"], from: "Contact")
            .where(.equals("Email", .string("a@b.com")) && .equals("IsConverted", .bool(false)))
            .orderBy("LastModifiedDate", .descending)
            .limit(1)
        #expect(
            try query.render()
                == "SELECT Id, Email, LastModifiedDate FROM Contact WHERE (Email = 'a@b.com' AND IsConverted = false) ORDER BY LastModifiedDate DESC LIMIT 1"
        )
    }

    @Test func escapesEverySpecialCharacter() {
        #expect(SOQL.escape(#"o'brien"#) == #"o\'brien"#)
        #expect(SOQL.escape(#"a\b"#) == #"a\\b"#)
        #expect(SOQL.escape(#"\'"#) == #"\\\'"#)
        #expect(SOQL.escape("say \"hi\"") == #"say \"hi\""#)
        #expect(SOQL.escape("a\nb\rc\td") == #"a\nb\rc\td"#)
        #expect(SOQL.escape("\u{08}\u{0C}") == #"\b\f"#)
        #expect(SOQL.escape("\u{00}\u{1B}\u{7F}") == #"\u0000\u001B\u007F"#)
        #expect(SOQL.escape("é€😀_%") == "é€😀_%")
    }

    /// Reads the string literal that starts at `index` (just after the opening quote) the way SOQL does,
    /// returning its value and the index after the closing quote.
    static func readLiteral(_ text: [Character], from start: Int) -> (String, Int)? {
        var value = ""
        var index = start
        while index < text.count {
            let character = text[index]
            if character == "'" { return (value, index + 1) }
            if character == "\\" {
                guard index + 1 < text.count else { return nil }
                let escaped = text[index + 1]
                switch escaped {
                case "n": value.append("\n")
                case "r": value.append("\r")
                case "t": value.append("\t")
                case "b": value.append("\u{08}")
                case "f": value.append("\u{0C}")
                case "'", "\"", "\\": value.append(escaped)
                case "u":
                    guard index + 5 < text.count, let code = UInt32(String(text[(index + 2)...(index + 5)]), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { return nil }
                    value.unicodeScalars.append(scalar)
                    index += 4
                default: return nil  // any other escape is a SOQL error
                }
                index += 2
                continue
            }
            value.append(character)
            index += 1
        }
        return nil
    }

    static let hostile: [String] = [
        "o'brien@example.com",
        #"back\slash@example.com"#,
        #"trailing\"#,
        #"\'"#,
        "' OR Name != '",
        "x' OR Email != 'y",
        "100%_real@example.com",
        "line\nbreak@example.com",
        "tab\t\r\u{0}@example.com",
        "\"quoted\"@example.com",
        "ünïcødé+tag@exämple.com",
        "😀@example.com",
        String(repeating: "a'\\", count: 100),
    ]

    @Test(arguments: hostile)
    func hostileLiteralsCannotChangeTheQuery(email: String) throws {
        let rendered = try SOQL.select(["Id"], from: "Lead")
            .where(.equals("Email", .string(email)) && .equals("IsConverted", .bool(false)))
            .render()
        let prefix = "SELECT Id FROM Lead WHERE (Email = '"
        let suffix = " AND IsConverted = false)"
        #expect(rendered.hasPrefix(prefix))
        let characters = Array(rendered)
        let literal = try #require(Self.readLiteral(characters, from: prefix.count))
        #expect(literal.0 == email)
        #expect(String(characters[literal.1...]) == suffix)
    }

    @Test func inListsAndOtherLiterals() throws {
        let date = Date(timeIntervalSince1970: 1_764_028_800 + 3_723)  // 2025-11-25T01:02:03Z
        let query = SOQL.select(["Id"], from: "Task")
            .where(
                .in("Status", [.string("Open"), .string("It's done")])
                    && .greaterThanOrEqual("ActivityDate", .date(date))
                    && .lessThan("CreatedDate", .dateTime(date))
                    && (.equals("WhoId", .null) || .notEquals("Priority", .int(3)))
                    && !.equals("Amount__c", .decimal(Decimal(string: "12.50") ?? 0))
                    && .notIn("Type", [.string("Call")]))
        #expect(
            try query.render()
                == "SELECT Id FROM Task WHERE (((((Status IN ('Open', 'It\\'s done') AND ActivityDate >= 2025-11-25) AND CreatedDate < 2025-11-25T01:02:03Z) AND (WhoId = null OR Priority != 3)) AND (NOT Amount__c = 12.5)) AND Type NOT IN ('Call'))"
        )
    }

    @Test func likeEscapesWildcardsInTheLiteralPart() throws {
        let query = SOQL.select(["Id"], from: "Account").where(.like("Name", .startsWith("50%_o'k")))
        #expect(try query.render() == #"SELECT Id FROM Account WHERE Name LIKE '50\%\_o\'k%'"#)
    }

    @Test func secondWhereIsAnded() throws {
        let query = SOQL.select(["Id"], from: "Lead").where(.equals("A__c", .bool(true))).where(
            .equals("B__c", .bool(false)))
        #expect(try query.render() == "SELECT Id FROM Lead WHERE (A__c = true AND B__c = false)")
    }

    @Test(arguments: [
        "", "1Id", "Id Email", "Id,Email", "Email'", "Id--", "Name) OR (Id", "Émail", "Id;", "SELECT", "or", "a..b",
        ".Id", "Id.",
    ])
    func rejectsAnythingButIdentifiers(name: String) {
        #expect(throws: SalesforceError.self) { try SOQL.select([name], from: "Lead").render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Lead").where(.equals(name, .null)).render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: name).render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Lead").orderBy(name).render() }
    }

    @Test func acceptsRelationshipAndCustomNames() throws {
        #expect(
            try SOQL.select(["Account.Name", "ns__Visit__c"], from: "ns__Thing__c").render()
                == "SELECT Account.Name, ns__Visit__c FROM ns__Thing__c")
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Account.Name").render() }
    }

    @Test func refusesDegenerateQueries() {
        #expect(throws: SalesforceError.self) { try SOQL.select([], from: "Lead").render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Lead").where(.in("Email", [])).render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Lead").limit(-1).render() }
        #expect(throws: SalesforceError.self) { try SOQL.select(["Id"], from: "Lead").offset(2001).render() }
        #expect(throws: SalesforceError.self) {
            try SOQL.select(["Id"], from: "Lead").where(.equals("Amount__c", .decimal(Decimal.nan))).render()
        }
        do {
            _ = try SOQL.select(["Id"], from: "Lead").where(.equals("x' OR", .null)).render()
            Issue.record("rendered an invalid identifier")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.classification == .permanent)
            #expect(!error.message.contains("x'"))
        }
    }

    @Test func limitAndOffset() throws {
        #expect(
            try SOQL.select(["Id"], from: "Lead").orderBy("Email", nulls: .last).limit(10).offset(20).render()
                == "SELECT Id FROM Lead ORDER BY Email ASC NULLS LAST LIMIT 10 OFFSET 20")
    }
}

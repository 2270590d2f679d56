import Foundation
import JSON
import Testing

/// The one `JSONValue` (the contract's and the Salesforce client's): how it decodes, encodes and prints.
@Suite("JSONValue")
struct JSONValueTests {
    static let document = #"{"s":"a/b","i":3,"f":1.5,"n":null,"t":true,"a":[1,"x",false],"o":{"z":1,"y":[]}}"#

    @Test func decodesEveryKind() throws {
        let value = try #require(JSONValue.parse(Data(Self.document.utf8)))
        #expect(value["s"]?.stringValue == "a/b")
        #expect(value["i"] == .number(3))
        #expect(value["i"]?.numberValue == 3)
        #expect(value["f"]?.numberValue == 1.5)
        #expect(value["n"]?.isNull == true)
        #expect(value["t"]?.boolValue == true)
        #expect(value["a"]?.arrayValue?.count == 3)
        #expect(value["a"]?[1]?.stringValue == "x")
        #expect(value["a"]?[2] == .bool(false))
        #expect(value["a"]?[3] == nil)
        #expect(value["o"]?.objectValue?.keys.sorted() == ["y", "z"])
        #expect(value["missing"] == nil)
        #expect(value["s"]?["s"] == nil, "a member of a non-object is nil")
        #expect(value["s"]?.boolValue == nil)
        #expect(JSONValue.parse(Data("{not json".utf8)) == nil)
        #expect(JSONValue.parse(Data("null".utf8)) == .null, "fragments are JSON too")
    }

    @Test func literalsBuildTheMatchingCases() {
        let value: JSONValue = ["s": "x", "i": 2, "f": 0.5, "t": true, "n": nil, "a": [1, "y"]]
        #expect(
            value == .object([
                "s": .string("x"), "i": .number(2), "f": .number(0.5), "t": .bool(true), "n": .null,
                "a": .array([.number(1), .string("y")]),
            ]))
    }

    @Test func serializesCompactWithSortedKeys() throws {
        let value = try #require(JSONValue.parse(Data(Self.document.utf8)))
        let expected = #"{"a":[1,"x",false],"f":1.5,"i":3,"n":null,"o":{"y":[],"z":1},"s":"a/b","t":true}"#
        #expect(value.serialized == expected)
        #expect(value.description == expected)
        #expect(JSONValue.number(.infinity).serialized == "null")
        #expect(JSONValue.string("line\nquote\"\u{01}").serialized == #""line\nquote\"\u0001""#)
        #expect(JSONValue.format(number: 1e20) == "1e+20")
        #expect(JSONValue.format(number: -4) == "-4")
    }

    @Test func encodesThroughJSONEncoderAndRoundTrips() throws {
        let value = try #require(JSONValue.parse(Data(Self.document.utf8)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        // Nulls are written, not dropped; whole numbers stay whole.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""n":null"#))
        #expect(text.contains(#""i":3"#))
    }
}

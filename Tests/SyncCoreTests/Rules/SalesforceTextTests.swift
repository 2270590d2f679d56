import Testing

@testable import SyncCore

@Suite("Salesforce text cutting")
struct SalesforceTextTests {
    @Test("Length is counted in UTF-16 units, as Salesforce does")
    func length() {
        #expect(SalesforceText.length("abc") == 3)
        #expect(SalesforceText.length("😀") == 2)
        #expect(SalesforceText.length("é") == 1)
    }

    @Test("A cut never splits a surrogate pair, a ZWJ sequence, a flag or a combining mark")
    func graphemeSafe() {
        #expect(SalesforceText.cut("a😀", to: 2) == "a")
        #expect(SalesforceText.cut("👩‍👩‍👧x", to: 7) == "")
        #expect(SalesforceText.cut("🇫🇷🇫🇷", to: 7) == "🇫🇷")
        #expect(SalesforceText.cut("e\u{301}e\u{301}", to: 3) == "e\u{301}")
        #expect(SalesforceText.cut("abcdef", to: 4, ellipsis: true) == "abc…")
        #expect(SalesforceText.cut("abc", to: 3, ellipsis: true) == "abc")
        #expect(SalesforceText.cut("abc", to: 0) == "")
        #expect(SalesforceText.cut("abc", to: -5, ellipsis: true) == "")
    }

    @Test(
        "Every hostile string is cut to the limit and stays valid text",
        arguments: [
            String(repeating: "😀", count: 300),
            String(repeating: "\u{202E}مرحبا ", count: 100),
            String(repeating: "\"'\\", count: 200),
            "z" + String(repeating: "\u{301}", count: 400),
            String(repeating: "a", count: 300) + "@" + String(repeating: "b", count: 20),
            String(repeating: "👨🏽‍💻", count: 80),
        ])
    func hostile(_ text: String) {
        for limit in [1, 2, 40, 80, 255] {
            let cut = SalesforceText.cut(text, to: limit, ellipsis: true)
            #expect(SalesforceText.length(cut) <= limit)
            #expect(text.hasPrefix(String(cut.dropLast())) || cut.isEmpty)
            #expect(String(decoding: Array(cut.utf8), as: UTF8.self) == cut)
        }
    }

    @Test("singleLine turns control characters and line breaks into single spaces")
    func singleLine() {
        #expect(SalesforceText.singleLine("  a\n\nb\tc\u{2028}d\u{0}e  ") == "a b c d e")
        #expect(SalesforceText.singleLine("\u{202E}abc") == "\u{202E}abc")  // format characters stay
        #expect(SalesforceText.singleLine("\n\r\t") == "")
    }
}

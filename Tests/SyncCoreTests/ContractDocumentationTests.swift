import Foundation
import JSON
import Testing

@testable import SyncCore

/// Keeps docs/events (JSON Schemas, examples) and the Swift decoder in step: each test fails on drift.
@Suite("Contract documentation matches the code")
struct ContractDocumentationTests {
    static let eventsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/events")

    static func load(_ relativePath: String) throws -> JSONValue {
        let data = try Data(contentsOf: eventsDirectory.appendingPathComponent(relativePath))
        return try #require(JSONValue.parse(data), "\(relativePath) is not JSON")
    }

    static func example(_ type: EventType) throws -> JSONValue { try load("examples/\(type.rawValue).json") }

    @Test(arguments: EventType.allCases)
    func everyExampleDecodesAndReencodesToTheSameJSON(type: EventType) throws {
        let data = try Data(contentsOf: Self.eventsDirectory.appendingPathComponent("examples/\(type.rawValue).json"))
        let event = try Event.decode(from: data)
        #expect(event.type == type)
        #expect(JSONValue.parse(event.encoded()) == JSONValue.parse(data))
    }

    @Test func theEnvelopeSchemaListsExactlyTheSwiftEventTypes() throws {
        let schema = SchemaFile(name: "envelope.json", root: try Self.load("schemas/envelope.json"))
        let typeEnum = schema.root["properties"]?["type"]?["enum"]
        #expect(typeEnum == .array(EventType.allCases.map { .string($0.rawValue) }))
        #expect(schema.root["properties"]?["version"]?["const"] == .number(Double(EventContract.version)))
    }

    @Test(arguments: EventType.allCases)
    func aBodyWithOnlyTheSchemasRequiredKeysDecodes(type: EventType) throws {
        let schemas = try SchemaSet(type: type)
        let minimal = try schemas.minimal(of: Self.example(type))
        #expect(throws: Never.self) { try Event.decode(from: Data(minimal.serialized.utf8)) }
        // And the minimal body drops something whenever the schema marks keys optional.
        let full = try Self.example(type)
        let hasOptionalKeys = !schemas.optionalPaths(in: full).isEmpty
        #expect(hasOptionalKeys == (minimal != full))
    }

    @Test(arguments: EventType.allCases)
    func removingEachRequiredKeyNamesExactlyThatKey(type: EventType) throws {
        let schemas = try SchemaSet(type: type)
        let minimal = try schemas.minimal(of: Self.example(type))
        let requiredPaths = schemas.requiredPaths(in: minimal)
        #expect(requiredPaths.contains("data.visit_id") || type != .visitStarted)
        #expect(requiredPaths.count >= 6)
        for path in requiredPaths {
            let broken = minimal.removing(path)
            let found = violation(Data(broken.serialized.utf8))
            #expect(found?.path == path, "removing \(path)")
            #expect(found?.kind == .missingKey, "removing \(path)")
        }
    }

    @Test(arguments: EventType.allCases)
    func removingEachOptionalKeyStillDecodes(type: EventType) throws {
        let schemas = try SchemaSet(type: type)
        let full = try Self.example(type)
        for path in schemas.optionalPaths(in: full) {
            #expect(violation(Data(full.removing(path).serialized.utf8)) == nil, "removing \(path)")
            #expect(violation(Data(full.setting(path, to: .null).serialized.utf8)) == nil, "\(path) = null")
        }
    }

    @Test(arguments: EventType.allCases)
    func everySchemaPropertyIsReadWithTheSchemasType(type: EventType) throws {
        // A property the decoder ignored, or read with another JSON type, would not be rejected here.
        let schemas = try SchemaSet(type: type)
        let full = try Self.example(type)
        let typed = schemas.typedPaths(in: full)
        #expect(typed.count >= 8)
        for (path, jsonType) in typed {
            let wrong: JSONValue = jsonType == "string" ? .number(42) : .string("x")
            let found = violation(Data(full.setting(path, to: wrong).serialized.utf8))
            #expect(found?.path == path, "\(path) as a \(jsonType)")
            #expect(found?.kind == .wrongType || (path == "type" && found?.kind == .unknownEventType), "\(path)")
        }
    }

    @Test func numericRangesMatchTheSchema() throws {
        let schemas = try SchemaSet(type: .visitUpdated)
        let full = try Self.example(.visitUpdated)
        for (key, bound) in [
            ("percent_viewed", "minimum"), ("percent_viewed", "maximum"), ("duration_seconds", "minimum"),
        ] {
            let node = try #require(
                schemas.resolve(schemas.typeFile.root["$defs"]?["data"]?["properties"]?[key], in: schemas.typeFile))
            guard case .number(let limit)? = node.value[bound] else {
                Issue.record("\(key) has no \(bound)")
                continue
            }
            let outside = bound == "minimum" ? limit - 1 : limit + 1
            #expect(violation(Data(full.setting("data.\(key)", to: .number(limit)).serialized.utf8)) == nil)
            #expect(
                violation(Data(full.setting("data.\(key)", to: .number(outside)).serialized.utf8))?.kind == .outOfRange)
        }
    }
}

// MARK: - A small JSON Schema walker: enough for $ref (file and pointer), anyOf with null, required, properties.

struct SchemaFile {
    let name: String
    let root: JSONValue
}

struct ResolvedSchema {
    let value: JSONValue
    let file: SchemaFile
}

struct SchemaSet {
    let files: [String: SchemaFile]
    let typeFile: SchemaFile
    let envelope: SchemaFile

    init(type: EventType) throws {
        var files: [String: SchemaFile] = [:]
        for name in ["defs.json", "envelope.json", "\(type.rawValue).json"] {
            files[name] = SchemaFile(name: name, root: try ContractDocumentationTests.load("schemas/\(name)"))
        }
        self.files = files
        self.typeFile = try #require(files["\(type.rawValue).json"])
        self.envelope = try #require(files["envelope.json"])
        #expect(typeFile.root["properties"]?["type"]?["const"] == .string(type.rawValue))
        #expect(typeFile.root["allOf"]?[0]?["$ref"] == .string("envelope.json"))
    }

    /// Follows `$ref`s and picks the non-null branch of an `anyOf`.
    func resolve(_ node: JSONValue?, in file: SchemaFile) -> ResolvedSchema? {
        guard let node else { return nil }
        if case .string(let reference)? = node["$ref"] {
            let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let target = parts[0].isEmpty ? file : files[parts[0]] else { return nil }
            var value = target.root
            for component in (parts.count > 1 ? parts[1] : "").split(separator: "/") {
                guard let next = value[String(component)] else { return nil }
                value = next
            }
            return resolve(value, in: target)
        }
        if case .array(let branches)? = node["anyOf"] {
            return branches.lazy.compactMap { branch -> ResolvedSchema? in
                if branch["type"] == .string("null") { return nil }
                return resolve(branch, in: file)
            }.first
        }
        return ResolvedSchema(value: node, file: file)
    }

    /// Each object level of a whole event: (path prefix, schema).
    private func levels(of event: JSONValue) -> [(String, ResolvedSchema)] {
        var result: [(String, ResolvedSchema)] = []
        func walk(_ prefix: String, _ schema: ResolvedSchema, _ value: JSONValue?) {
            result.append((prefix, schema))
            guard case .object(let properties)? = schema.value["properties"] else { return }
            for (key, child) in properties.sorted(by: { $0.key < $1.key }) {
                guard let resolved = resolve(child, in: schema.file), resolved.value["type"] == .string("object"),
                    case .object? = value?[key]
                else { continue }
                walk(prefix.isEmpty ? key : prefix + "." + key, resolved, value?[key])
            }
        }
        walk("", ResolvedSchema(value: envelope.root, file: envelope), event)
        if let data = resolve(typeFile.root["properties"]?["data"], in: typeFile) {
            result.removeAll { $0.0 == "data" }
            walk("data", data, event["data"])
        }
        return result
    }

    /// The event with only the keys the schemas require, at every level.
    func minimal(of event: JSONValue) throws -> JSONValue {
        var result = event
        for (prefix, schema) in levels(of: event) {
            let required = Set(schema.value["required"]?.strings ?? [])
            guard case .object(let fields)? = (prefix.isEmpty ? result : result.at(prefix)) else { continue }
            for key in fields.keys where !required.contains(key) {
                result = result.removing(prefix.isEmpty ? key : prefix + "." + key)
            }
        }
        return result
    }

    func requiredPaths(in event: JSONValue) -> [String] {
        levels(of: event).flatMap { prefix, schema in
            (schema.value["required"]?.strings ?? []).map { prefix.isEmpty ? $0 : prefix + "." + $0 }
        }
    }

    /// Optional keys present in `event`.
    func optionalPaths(in event: JSONValue) -> [String] {
        levels(of: event).flatMap { prefix, schema -> [String] in
            let required = Set(schema.value["required"]?.strings ?? [])
            guard case .object(let properties)? = schema.value["properties"] else { return [] }
            return properties.keys.sorted().filter { !required.contains($0) }
                .map { prefix.isEmpty ? $0 : prefix + "." + $0 }
                .filter { event.at($0) != nil }
        }
    }

    /// Every property present in `event` with its schema's JSON type.
    func typedPaths(in event: JSONValue) -> [(String, String)] {
        levels(of: event).flatMap { prefix, schema -> [(String, String)] in
            guard case .object(let properties)? = schema.value["properties"] else { return [] }
            return properties.sorted(by: { $0.key < $1.key }).compactMap { key, child in
                let path = prefix.isEmpty ? key : prefix + "." + key
                let override = prefix.isEmpty ? resolve(typeFile.root["properties"]?[key], in: typeFile) : nil
                guard event.at(path) != nil,
                    case .string(let type)? = override?.value["type"] ?? resolve(child, in: schema.file)?.value["type"]
                else { return nil }
                return (path, type)
            }
        }
    }
}

extension JSONValue {
    var strings: [String] {
        guard case .array(let values) = self else { return [] }
        return values.compactMap { if case .string(let string) = $0 { string } else { nil } }
    }

    func at(_ path: String) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(self)) { $0?[String($1)] }
    }

    func setting(_ path: String, to value: JSONValue?) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        let keys = path.split(separator: ".", maxSplits: 1).map(String.init)
        if keys.count == 1 {
            fields[keys[0]] = value
        } else {
            fields[keys[0]] = (fields[keys[0]] ?? .object([:])).setting(keys[1], to: value)
        }
        return .object(fields)
    }

    func removing(_ path: String) -> JSONValue { setting(path, to: nil) }
}

@Suite("AsyncAPI document matches the code")
struct AsyncAPIDocumentTests {
    static func text() throws -> String {
        try String(
            contentsOf: ContractDocumentationTests.eventsDirectory.appendingPathComponent("asyncapi.yaml"),
            encoding: .utf8)
    }

    @Test func declaresTheExchangeAndOneChannelPerEventType() throws {
        let text = try Self.text()
        #expect(text.contains("asyncapi: 3.0.0"))
        #expect(text.components(separatedBy: "name: \(EventContract.exchange)\n").count - 1 == EventType.allCases.count)
        #expect(
            text.components(separatedBy: "type: \(EventContract.exchangeType)\n").count - 1 == EventType.allCases.count)
        #expect(
            text.components(separatedBy: "deliveryMode: \(EventContract.persistentDeliveryMode)\n").count - 1
                == EventType.allCases.count)
        let addresses = text.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("address: ") ? String(trimmed.dropFirst("address: ".count)) : nil
        }
        #expect(addresses == EventType.allCases.map(\.rawValue))
        for type in EventType.allCases {
            #expect(text.contains("$ref: './schemas/\(type.rawValue).json'"), "\(type) schema")
            #expect(text.contains("messageType: \(type.rawValue)\n"), "\(type) message type")
        }
    }

    @Test func embedsTheExampleFilesUnchanged() throws {
        let payloads = try Self.text().split(separator: "\n").compactMap { line -> JSONValue? in
            guard let range = line.range(of: "payload: {") else { return nil }
            return JSONValue.parse(Data(line[line.index(before: range.upperBound)...].utf8))
        }
        #expect(payloads.count == EventType.allCases.count)
        for (payload, type) in zip(payloads, EventType.allCases) {
            #expect(payload == (try ContractDocumentationTests.example(type)), "\(type)")
        }
    }
}

import Foundation

extension SandboxOrg {
    // MARK: sObjects

    private func schemaOrNotFound(_ name: String) throws(SalesforceError) -> ObjectSchema {
        guard let s = store.schema(name) else { throw SalesforceError.notFound() }
        return s
    }

    func parseObjectBody(_ body: Data) throws(SalesforceError) -> JSONObject {
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch { throw SalesforceError.jsonParser(error.description) }
        guard let o = value.objectValue else {
            throw SalesforceError.jsonParser("Cannot deserialize instance of SObject out of \(value.arrayValue != nil ? "START_ARRAY" : "VALUE_STRING") token")
        }
        return o
    }

    func sobjects(
        method: String, s: [String], query: [String: String], body: Data, headers: [(name: String, value: String)], version: String, userId: String
    ) throws(SalesforceError) -> RESTResult {
        let base = "/services/data/v\(version)/sobjects"
        if s.isEmpty {
            try allow(method, ["GET"])
            let list = store.schemas.values.sorted { $0.name < $1.name }.map { describeSummary($0, version: version) }
            return RESTResult(status: 200, body: ["encoding": "UTF-8", "maxBatchSize": 200, "sobjects": .array(list)])
        }
        let schema = try schemaOrNotFound(s[0])
        switch s.count {
        case 1:
            try allow(method, ["GET", "POST"])
            if method == "GET" {
                return RESTResult(status: 200, body: ["objectDescribe": describeSummary(schema, version: version), "recentItems": []])
            }
            let id = try apiCreate(type: schema.name, body: try parseObjectBody(body), userId: userId, headers: headers)
            return RESTResult(status: 201, body: ["id": .string(id), "success": true, "errors": []], headers: [("Location", "\(base)/\(schema.name)/\(id)")])
        case 2 where s[1] == "describe":
            try allow(method, ["GET"])
            var d = describeSummary(schema, version: version).objectValue ?? JSONObject()
            d["fields"] = .array(schema.fields.map(\.describeJSON))
            return RESTResult(status: 200, body: .object(d))
        case 2:
            try allow(method, ["GET", "PATCH", "DELETE"])
            let id = s[1]
            switch method {
            case "GET":
                let r = try store.existingRecord(schema: schema, id: id)
                return RESTResult(status: 200, body: recordJSON(r, fields: try fieldsParam(query, schema: schema), version: version))
            case "PATCH":
                try apiUpdate(type: schema.name, id: id, body: try parseObjectBody(body), userId: userId)
                return RESTResult(status: 204)
            default:
                try apiDelete(type: schema.name, id: id)
                return RESTResult(status: 204)
            }
        case 3:
            try allow(method, ["GET", "PATCH", "DELETE"])
            return try externalId(
                method: method, schema: schema, fieldName: s[1], value: s[2], query: query, body: body, headers: headers, version: version,
                userId: userId)
        default:
            throw SalesforceError.notFound()
        }
    }

    private func fieldsParam(_ query: [String: String], schema: ObjectSchema) throws(SalesforceError) -> [String]? {
        guard let list = query["fields"] else { return nil }
        var out: [String] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let f = schema.field(name) else {
                throw SalesforceError(
                    "INVALID_FIELD",
                    "No such column '\(name)' on entity '\(schema.name)'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.")
            }
            if !out.contains(f.name) { out.append(f.name) }
        }
        if !out.contains("Id") { out.append("Id") }
        return out
    }

    private func externalId(
        method: String, schema: ObjectSchema, fieldName: String, value: String, query: [String: String], body: Data,
        headers: [(name: String, value: String)], version: String, userId: String
    ) throws(SalesforceError) -> RESTResult {
        guard let field = schema.field(fieldName), field.externalId || field.name == "Id" else {
            throw SalesforceError(status: 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: \(fieldName)")
        }
        let matches: [SandboxRecord]
        if field.name == "Id" {
            matches = (try? store.existingRecord(schema: schema, id: value)).map { [$0] } ?? []
        } else {
            matches = store.matching(schema: schema, field: field, value: value)
        }
        if matches.count > 1 {
            return RESTResult(status: 300, body: .array(matches.map { .string("/services/data/v\(version)/sobjects/\(schema.name)/\($0.id)") }))
        }
        switch method {
        case "GET":
            guard let r = matches.first else { throw SalesforceError.notFound() }
            return RESTResult(status: 200, body: recordJSON(r, fields: try fieldsParam(query, schema: schema), version: version))
        case "DELETE":
            guard let r = matches.first else { throw SalesforceError.notFound() }
            try apiDelete(type: schema.name, id: r.id)
            return RESTResult(status: 204)
        default:
            var fields = try parseObjectBody(body)
            if let key = fields.keys.first(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame }) { fields[key] = nil }
            if let r = matches.first {
                try apiUpdate(type: schema.name, id: r.id, body: fields, userId: userId, operation: .upsertUpdate)
                return RESTResult(status: 200, body: ["id": .string(r.id), "success": true, "errors": [], "created": false])
            }
            if field.name != "Id" { fields[field.name] = .string(value) }
            let id = try apiCreate(type: schema.name, body: fields, userId: userId, headers: headers, operation: .upsertCreate)
            return RESTResult(status: 201, body: ["id": .string(id), "success": true, "errors": [], "created": true])
        }
    }

    private func describeSummary(_ schema: ObjectSchema, version: String) -> JSONValue {
        let base = "/services/data/v\(version)/sobjects/\(schema.name)"
        return .object(JSONObject([
            ("name", .string(schema.name)), ("label", .string(schema.name)), ("keyPrefix", .string(schema.keyPrefix)),
            ("custom", false), ("createable", .bool(schema.createable)), ("updateable", .bool(schema.updateable)),
            ("deletable", .bool(schema.deletable)), ("queryable", true), ("retrieveable", true),
            ("urls", ["sobject": .string(base), "describe": .string("\(base)/describe"), "rowTemplate": .string("\(base)/{ID}")]),
        ]))
    }
}

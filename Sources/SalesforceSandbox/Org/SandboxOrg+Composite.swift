import Foundation

extension SandboxOrg {
    static let processingHalted = SalesforceError(
        "PROCESSING_HALTED", "The transaction was rolled back since another operation in the same transaction failed.")

    // MARK: composite

    /// `POST composite`: up to 25 subrequests with `@{ref.path}` references, optional `allOrNone`
    /// rollback; always HTTP 200 with a `compositeResponse` entry per subrequest. One API call.
    func composite(
        body: Data, headers requestHeaders: [(name: String, value: String)], version: String, userId: String
    ) throws(SalesforceError) -> RESTResult {
        let request = try parseObjectBody(body)
        guard let subs = request["compositeRequest"]?.arrayValue else {
            throw SalesforceError("INVALID_INPUT", "compositeRequest: required field is missing")
        }
        guard !subs.isEmpty else { throw SalesforceError("INVALID_INPUT", "compositeRequest: must contain at least one subrequest") }
        guard subs.count <= 25 else {
            throw SalesforceError("LIMIT_EXCEEDED", "Composite request can't contain more than 25 subrequests; it contains \(subs.count).")
        }
        let heavy = subs.filter { sub in
            let url = sub["url"]?.stringValue ?? ""
            return url.contains("/query") || url.contains("/composite/sobjects")
        }
        guard heavy.count <= 5 else {
            throw SalesforceError("LIMIT_EXCEEDED", "Composite request can't contain more than 5 query or sObject Collections subrequests; it contains \(heavy.count).")
        }
        let allOrNone = request["allOrNone"]?.boolValue ?? false
        var referenceIds = Set<String>()
        for sub in subs {
            guard let o = sub.objectValue, let method = o["method"]?.stringValue, !method.isEmpty,
                let url = o["url"]?.stringValue, url.hasPrefix("/services/data/"), let ref = o["referenceId"]?.stringValue, !ref.isEmpty
            else {
                throw SalesforceError("INVALID_INPUT", "Each subrequest needs method, url (/services/data/…) and referenceId")
            }
            guard ref.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), referenceIds.insert(ref).inserted else {
                throw SalesforceError("INVALID_INPUT", "Invalid or duplicate referenceId: \(ref)")
            }
            for (name, _) in o["httpHeaders"]?.objectValue ?? JSONObject() {
                if ["authorization", "content-type", "accept"].contains(name.lowercased()) {
                    throw SalesforceError("INVALID_INPUT", "The \(name) header isn't allowed in a composite subrequest.")
                }
            }
        }
        let snapshot = store
        let mark = changeMark
        var results: [(ref: String, status: Int, body: JSONValue?, headers: JSONObject)] = []
        var values: [String: JSONValue] = [:]
        var failed = false
        for sub in subs {
            let o = sub.objectValue ?? JSONObject()
            let ref = o["referenceId"]?.stringValue ?? ""
            if allOrNone && failed {
                results.append((ref, 400, .array([Self.processingHalted.restJSON]), JSONObject()))
                continue
            }
            let method = (o["method"]?.stringValue ?? "GET").uppercased()
            let resolvedURL: String
            let resolvedBody: JSONValue?
            do throws(SalesforceError) {
                resolvedURL = try resolveReferences(in: .string(o["url"]?.stringValue ?? ""), values: values).stringValue ?? ""
                resolvedBody = try o["body"].map { v throws(SalesforceError) in try resolveReferences(in: v, values: values) }
            } catch {
                failed = true
                results.append((ref, 400, .array([error.restJSON]), JSONObject()))
                continue
            }
            let (path, rawQuery) = splitURL(resolvedURL)
            let segments = Self.pathSegments(path)
            let result: RESTResult
            if segments.count >= 3, segments[0] == "services", segments[1] == "data", let v = Self.version(segments[2]) {
                result = rest(
                    method: method, segments: Array(segments.dropFirst(3)), query: SandboxHTTPRequest.parseForm(rawQuery),
                    body: resolvedBody?.data ?? Data(), headers: subrequestHeaders(o, inheriting: requestHeaders), version: v, userId: userId,
                    topLevel: false)
            } else {
                result = .error(.notFound())
            }
            var headers = JSONObject()
            for h in result.headers where h.name == "Location" { headers[h.name] = .string(h.value) }
            results.append((ref, result.status, result.body, headers))
            if result.status < 300 {
                values[ref] = result.body ?? .null
            } else {
                failed = true
            }
        }
        if allOrNone && failed {
            store = snapshot
            rollBackChanges(to: mark)
            for i in results.indices where results[i].status < 300 {
                results[i] = (results[i].ref, 400, .array([Self.processingHalted.restJSON]), JSONObject())
            }
        }
        let response = results.map { r -> JSONValue in
            .object(JSONObject([
                ("body", r.body ?? .null), ("httpHeaders", .object(r.headers)), ("httpStatusCode", .number(Double(r.status))),
                ("referenceId", .string(r.ref)),
            ]))
        }
        return RESTResult(status: 200, body: ["compositeResponse": .array(response)])
    }

    /// A subrequest's `httpHeaders`, plus the composite request's `Sforce-Duplicate-Rule-Header` when the
    /// subrequest sets none (the header of the composite request applies to each of its saves).
    private func subrequestHeaders(_ sub: JSONObject, inheriting outer: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for (name, value) in sub["httpHeaders"]?.objectValue ?? JSONObject() {
            if let text = value.stringValue { out.append((name, text)) }
        }
        let duplicateHeader = "Sforce-Duplicate-Rule-Header"
        if !out.contains(where: { $0.name.caseInsensitiveCompare(duplicateHeader) == .orderedSame }) {
            out += outer.filter { $0.name.caseInsensitiveCompare(duplicateHeader) == .orderedSame }
        }
        return out
    }

    private func splitURL(_ url: String) -> (String, String) {
        guard let q = url.firstIndex(of: "?") else { return (url, "") }
        return (String(url[..<q]), String(url[url.index(after: q)...]))
    }

    /// Replaces `@{ref.path}` in strings (recursively). A string that is exactly one reference takes the
    /// referenced JSON value; otherwise the text is substituted.
    func resolveReferences(in value: JSONValue, values: [String: JSONValue]) throws(SalesforceError) -> JSONValue {
        switch value {
        case .string(let s):
            guard s.contains("@{") else { return value }
            var out = ""
            var rest = Substring(s)
            var single: JSONValue?
            while let start = rest.range(of: "@{") {
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
                let expr = String(rest[start.upperBound..<end])
                let resolved = try lookup(expr, values: values)
                if rest.startIndex == start.lowerBound, rest.index(after: end) == rest.endIndex, out.isEmpty {
                    single = resolved
                }
                out += rest[..<start.lowerBound]
                out += resolved.stringValue ?? resolved.description
                rest = rest[rest.index(after: end)...]
            }
            out += rest
            if let single, out == (single.stringValue ?? single.description) { return single }
            return .string(out)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items { out.append(try resolveReferences(in: item, values: values)) }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for (k, v) in o { out[k] = try resolveReferences(in: v, values: values) }
            return .object(out)
        default:
            return value
        }
    }

    private func lookup(_ expr: String, values: [String: JSONValue]) throws(SalesforceError) -> JSONValue {
        let refEnd = expr.firstIndex { $0 == "." || $0 == "[" } ?? expr.endIndex
        let ref = String(expr[..<refEnd])
        func invalid() -> SalesforceError {
            SalesforceError(
                "PROCESSING_HALTED",
                "Invalid reference specified. No value for \(expr) found in \(ref). Provided referenceId ('\(ref)') must match a previous subrequest that succeeded.")
        }
        guard var current = values[ref] else { throw invalid() }
        var rest = expr[refEnd...]
        while !rest.isEmpty {
            if rest.first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let name = String(rest[..<end])
                guard let next = current[name] else { throw invalid() }
                current = next
                rest = rest[end...]
            } else if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let n = Int(rest[rest.index(after: rest.startIndex)..<close]),
                    let items = current.arrayValue, n >= 0, n < items.count
                else { throw invalid() }
                current = items[n]
                rest = rest[rest.index(after: close)...]
            } else {
                throw invalid()
            }
        }
        return current
    }

    // MARK: sObject Collections

    /// `POST|PATCH|DELETE composite/sobjects`: up to 200 records, results in input order. One API call.
    func collections(
        method: String, query: [String: String], body: Data, headers: [(name: String, value: String)], version: String, userId: String
    ) throws(SalesforceError) -> RESTResult {
        let items: [JSONValue]
        let allOrNone: Bool
        if method == "DELETE" {
            let ids = (query["ids"] ?? "").split(separator: ",").map { JSONValue.string(String($0)) }
            guard !ids.isEmpty else { throw SalesforceError("MISSING_ARGUMENT", "ids: required parameter is missing") }
            items = ids
            allOrNone = query["allOrNone"] == "true"
        } else {
            let request = try parseObjectBody(body)
            guard let records = request["records"]?.arrayValue else {
                throw SalesforceError("INVALID_INPUT", "records: required field is missing")
            }
            items = records
            allOrNone = request["allOrNone"]?.boolValue ?? false
        }
        guard items.count <= 200 else {
            throw SalesforceError("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
        }
        let snapshot = store
        let mark = changeMark
        var results: [(id: String?, error: SalesforceError?)] = []
        for item in items {
            do throws(SalesforceError) {
                results.append((try collectionItem(method: method, item, headers: headers, userId: userId), nil))
            } catch {
                let id = method == "POST" ? nil : (item.stringValue ?? item["Id"]?.stringValue)
                results.append((id, error))
            }
        }
        let anyFailed = results.contains { $0.error != nil }
        if allOrNone && anyFailed {
            store = snapshot
            rollBackChanges(to: mark)
            let rolledBack = SalesforceError(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header")
            results = results.map { r in r.error == nil ? ((method == "POST" ? nil : r.id), rolledBack) : r }
        }
        let out = results.map { r -> JSONValue in
            var o = JSONObject()
            if let id = r.id { o["id"] = .string(id) }
            o["success"] = .bool(r.error == nil)
            o["errors"] = .array(r.error.map { [$0.saveResultJSON] } ?? [])
            return .object(o)
        }
        return RESTResult(status: 200, body: .array(out))
    }

    private func collectionItem(
        method: String, _ item: JSONValue, headers: [(name: String, value: String)], userId: String
    ) throws(SalesforceError) -> String {
        if method == "DELETE" {
            let id = item.stringValue ?? ""
            guard let full = SalesforceID.normalize(id) else { throw SalesforceError("MALFORMED_ID", "malformed id \(id)") }
            guard let type = store.objectName(forId: full) else { throw SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id") }
            try apiDelete(type: type, id: full)
            return full
        }
        guard var fields = item.objectValue else { throw SalesforceError("INVALID_INPUT", "Each record must be a JSON object") }
        guard let type = fields["attributes"]?["type"]?.stringValue, !type.isEmpty else {
            throw SalesforceError("INVALID_TYPE", "Must specify a type in attributes")
        }
        guard store.schema(type) != nil else { throw SalesforceError("INVALID_TYPE", "sObject type '\(type)' is not supported.") }
        fields["attributes"] = nil
        if method == "POST" {
            return try apiCreate(type: type, body: fields, userId: userId, headers: headers)
        }
        guard let idKey = fields.keys.first(where: { $0.caseInsensitiveCompare("Id") == .orderedSame }), let id = fields[idKey]?.stringValue else {
            throw SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call")
        }
        fields[idKey] = nil
        try apiUpdate(type: type, id: id, body: fields, userId: userId)
        return SalesforceID.normalize(id) ?? id
    }
}

extension SandboxOrg {
    // MARK: sObject Collections upsert

    /// `PATCH composite/sobjects/{type}/{externalIdField}`: creates or updates up to 200 records of one type, each
    /// matched on its own value of the external-id field; results in input order, with `created`. One API call.
    /// Records sharing one external-id value in a request all fail (`DUPLICATE_EXTERNAL_ID`), as in Salesforce.
    func collectionsUpsert(
        type: String, externalIDField: String, body: Data, headers: [(name: String, value: String)], userId: String
    ) throws(SalesforceError) -> RESTResult {
        guard let schema = store.schema(type) else {
            throw SalesforceError(status: 404, "NOT_FOUND", "The requested resource does not exist")
        }
        guard let field = schema.field(externalIDField), field.externalId || field.name == "Id" else {
            throw SalesforceError(
                status: 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: \(externalIDField)")
        }
        let request = try parseObjectBody(body)
        guard let items = request["records"]?.arrayValue else {
            throw SalesforceError("INVALID_INPUT", "records: required field is missing")
        }
        guard items.count <= 200 else {
            throw SalesforceError("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
        }
        let allOrNone = request["allOrNone"]?.boolValue ?? false
        let values = items.map { item in
            item.objectValue?.first { $0.key.caseInsensitiveCompare(field.name) == .orderedSame }?.value.stringValue
                .map(field.comparable)
        }
        var seen: [String: Int] = [:]
        for case let value? in values { seen[value, default: 0] += 1 }
        let snapshot = store
        let mark = changeMark
        var results: [(id: String?, created: Bool, error: SalesforceError?)] = []
        for (item, value) in zip(items, values) {
            do throws(SalesforceError) {
                if let value, seen[value, default: 0] > 1 {
                    throw SalesforceError("DUPLICATE_EXTERNAL_ID", "Duplicate external id specified: \(value)", fields: [field.name])
                }
                let (id, created) = try upsertItem(item, schema: schema, field: field, headers: headers, userId: userId)
                results.append((id, created, nil))
            } catch {
                results.append((nil, false, error))
            }
        }
        if allOrNone && results.contains(where: { $0.error != nil }) {
            store = snapshot
            rollBackChanges(to: mark)
            let rolledBack = SalesforceError(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header")
            results = results.map { $0.error == nil ? (nil, false, rolledBack) : $0 }
        }
        let out = results.map { r -> JSONValue in
            var o = JSONObject()
            if let id = r.id { o["id"] = .string(id) }
            o["success"] = .bool(r.error == nil)
            o["errors"] = .array(r.error.map { [$0.saveResultJSON] } ?? [])
            if r.error == nil { o["created"] = .bool(r.created) }
            return .object(o)
        }
        return RESTResult(status: 200, body: .array(out))
    }

    private func upsertItem(
        _ item: JSONValue, schema: ObjectSchema, field: FieldDescription, headers: [(name: String, value: String)], userId: String
    ) throws(SalesforceError) -> (id: String, created: Bool) {
        guard var fields = item.objectValue else { throw SalesforceError("INVALID_INPUT", "Each record must be a JSON object") }
        guard let type = fields["attributes"]?["type"]?.stringValue, type.caseInsensitiveCompare(schema.name) == .orderedSame else {
            throw SalesforceError("INVALID_TYPE", "Each record's attributes.type must be \(schema.name)")
        }
        fields["attributes"] = nil
        guard let key = fields.keys.first(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame }),
            let value = fields[key]?.stringValue, !value.isEmpty
        else {
            throw SalesforceError("MISSING_ARGUMENT", "\(field.name) not specified", fields: [field.name])
        }
        fields[key] = nil
        let matches: [SandboxRecord]
        if field.name == "Id" {
            matches = [try store.existingRecord(schema: schema, id: value)]
        } else {
            matches = store.matching(schema: schema, field: field, value: value)
        }
        if matches.count > 1 {
            throw SalesforceError(
                "DUPLICATE_EXTERNAL_ID", "\(field.name): more than one record found for external id field: \(matches.map(\.id))",
                fields: [field.name])
        }
        if let record = matches.first {
            try apiUpdate(type: schema.name, id: record.id, body: fields, userId: userId, operation: .upsertUpdate)
            return (record.id, false)
        }
        fields[field.name] = .string(value)
        return (try apiCreate(type: schema.name, body: fields, userId: userId, headers: headers, operation: .upsertCreate), true)
    }
}

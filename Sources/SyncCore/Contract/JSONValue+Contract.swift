import JSON

extension JSONValue {
    /// `a string`, `a number`, … for "expected …, found …" reasons.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

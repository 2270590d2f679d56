import ArgumentParser
import Fleet

/// The roles a `worker` process runs: one `SyncTopology.Role`, or `all` of them in one process (a choice
/// of the command line only; the topology knows no such role).
///
/// Parses `visits`, `links`, `leads` and `all`, and lists them in help, errors and completions in that order.
enum WorkerRoles: Equatable, ExpressibleByArgument {
    case one(SyncTopology.Role)
    case all

    init?(argument: String) {
        if argument == "all" {
            self = .all
        } else if let role = SyncTopology.Role(rawValue: argument) {
            self = .one(role)
        } else {
            return nil
        }
    }

    /// The roles to run, in the topology's order.
    var roles: [SyncTopology.Role] {
        switch self {
        case .one(let role): return [role]
        case .all: return SyncTopology.Role.allCases
        }
    }

    /// The word given on the command line.
    var argument: String {
        switch self {
        case .one(let role): return role.rawValue
        case .all: return "all"
        }
    }

    static var allValueStrings: [String] { SyncTopology.Role.allCases.map(\.rawValue) + ["all"] }

    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

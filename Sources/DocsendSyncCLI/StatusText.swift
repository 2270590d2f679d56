import Foundation

/// `docsend-sync status` for people: the report as aligned text. Strings that come from messages or the store
/// (failure codes, reasons, team ids) go through ``printable(_:limit:)``: bounded, without control characters, so
/// a hostile header cannot flood the terminal or drive it with escape sequences.
enum StatusText {
    static func render(_ report: StatusReport, managementURL: String?) -> [String] {
        var lines: [String] = []
        lines.append(
            "queue".padded(48) + "ready".leftPadded(7) + "unacked".leftPadded(9) + "consumers".leftPadded(11)
                + "in/s".leftPadded(9) + "deliver/s".leftPadded(11) + "ack/s".leftPadded(9))
        for queue in report.queues {
            let name = queue.name.padded(47) + " "
            guard queue.exists else {
                lines.append(name + " missing (run `docsend-sync topology declare`)")
                continue
            }
            lines.append(
                name + count(queue.ready).leftPadded(7) + count(queue.unacknowledged).leftPadded(9)
                    + count(queue.consumers).leftPadded(11) + rate(queue.publishRate).leftPadded(9)
                    + rate(queue.deliverRate).leftPadded(11) + rate(queue.ackRate).leftPadded(9))
        }
        if report.managementAPI, let managementURL {
            lines.append("(ready and consumers from AMQP; unacked and rates from the management API at \(managementURL))")
        } else {
            lines.append("(ready and consumers from AMQP; unacked and rates unknown (-): give --management-url for them)")
        }

        lines.append("")
        lines.append("retry tiers and delay queues")
        for tier in report.retryTiers {
            lines.append(
                "  " + tier.queue.padded(46) + " " + "\(tier.label) \(tier.interval)".padded(28) + " ready "
                    + count(tier.ready))
        }

        lines.append("")
        if let parking = report.parking {
            let total = parking.total.map(String.init) ?? "-"
            lines.append("parking lot \(parking.queue): \(total) message(s), \(parking.recent) within the last \(parking.window)")
            for (code, count) in parking.byCode.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                lines.append("  " + String(count).leftPadded(7) + "  " + printable(code, limit: 100))
            }
            if parking.partial {
                lines.append("  (partial: counted the oldest \(parking.read) of \(total))")
            }
        } else {
            lines.append("parking lot: not read")
        }

        lines.append("")
        switch report.teamsNeedingLogin {
        case .some(let teams):
            lines.append("teams needing a new Salesforce login: \(teams.count) (store: \(report.store.detail))")
            for team in teams {
                lines.append(
                    "  " + printable(team.teamID, limit: 100) + "  since " + team.since + "  "
                        + printable(team.reason ?? "-", limit: 200))
            }
        case .none:
            lines.append("teams needing a new Salesforce login: not checked (\(report.store.detail))")
        }
        if let pauses = report.orgPauses {
            lines.append("orgs paused by worker processes: \(Set(pauses.map(\.teamID)).count)")
            for pause in pauses {
                lines.append(
                    "  " + printable(pause.teamID, limit: 100) + "  " + pause.reason + "  until " + pause.until + "  in "
                        + printable(pause.process, limit: 100))
            }
        }

        lines.append("")
        if report.attention.isEmpty && report.errors.isEmpty {
            lines.append("all clear")
        }
        for finding in report.errors {
            lines.append("check failed: \(finding.code): \(finding.message)")
        }
        for finding in report.attention {
            lines.append("attention: \(finding.code): \(finding.message)")
        }
        return lines
    }

    static func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }

    static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.1f", value)
    }

    /// `text` for a terminal: control and formatting characters (escape sequences, new lines, bidirectional
    /// overrides) shown as `?`, and at most `limit` characters (then `…`).
    static func printable(_ text: String, limit: Int) -> String {
        var result = ""
        var characters = 0
        for scalar in text.unicodeScalars {
            if characters == limit {
                result.append("…")
                break
            }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                result.append("?")
            default:
                result.unicodeScalars.append(scalar)
            }
            characters += 1
        }
        return result
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func padded(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

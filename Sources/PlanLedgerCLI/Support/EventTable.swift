import Ledger

/// A compact table of events for people.
enum EventTable {
    static func render(_ events: [RecordedEvent]) -> String {
        var rows = [["POS", "STREAM@V", "TYPE", "RECORDED", "EFFECTIVE", "ACTOR", "REASON"]]
        for event in events {
            rows.append([String(event.position), "\(event.stream)@\(event.version)", event.type,
                         event.recordedAt.rfc3339, event.effectiveAt.rfc3339,
                         "\(event.actor.id) (\(event.actor.role))", event.reason ?? ""])
        }
        return TextTable.render(rows)
    }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

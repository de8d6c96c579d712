import Storage
import Synchronization

/// SQLite: a new ticket's row as `INSERT … RETURNING *` answers it, put together without asking
/// SQLite for it (issue 7).
///
/// With `RETURNING`, SQLite keeps the answer in a temporary table and hands back all sixty
/// columns: measured with the sqlite3 shell on workflow's schema, ≈ 134 k instructions per
/// ticket insert instead of ≈ 69 k, before the sixty values are copied into a ``Row``. An
/// opening writes the same columns every time, and the others always get their defaults (all
/// constants in `tickets`), so the row is the opening's values plus those defaults. The
/// defaults are learnt from `RETURNING` rows of real openings: only when two of them agree on
/// every default, and every written value came back exactly as it was bound (no type
/// conversion), is the template used; until then, and whenever it is not, the opening asks with
/// `RETURNING` as before. One per ``TicketLifecycle`` (one per database).
final class OpenedTicketRows: Sendable {
    /// A new ticket's row: ``columns`` (RETURNING's, then `holder_group_name`) and the values of
    /// the columns an opening does not write.
    struct Template: Sendable {
        let columns: [String]
        let values: [SQLValue]
        /// Where each written column (in the order of its values) sits in ``columns``.
        let positions: [Int]
    }

    private enum State {
        case learning(seen: Template?)
        case ready(Template)
        /// A written value came back changed: always ask with `RETURNING`.
        case unusable
    }

    private let state = Mutex<State>(.learning(seen: nil))

    /// The template, once learnt.
    var template: Template? {
        state.withLock { if case .ready(let template) = $0 { template } else { nil } }
    }

    /// Learns from `row`, the `RETURNING *` answer of an opening that wrote `written` columns
    /// with `values`.
    func learn(from row: Row, written: [String], values: [SQLValue]) {
        let columns = row.columns + ["holder_group_name"]
        var positions: [Int] = []
        positions.reserveCapacity(written.count)
        for (name, value) in zip(written, values) {
            guard let position = row.columns.firstIndex(of: name), row.values[position] == value else {
                state.withLock { $0 = .unusable }
                return
            }
            positions.append(position)
        }
        var defaults = row.values + [.null]
        for position in positions { defaults[position] = .null }
        let learnt = Template(columns: columns, values: defaults, positions: positions)
        state.withLock { state in
            guard case .learning(let seen) = state else { return }
            if let seen, seen.columns == learnt.columns, seen.values == learnt.values, seen.positions == learnt.positions {
                state = .ready(seen)
            } else {
                state = .learning(seen: learnt)
            }
        }
    }

    /// The new ticket's row: `values` of the written columns, the defaults, and `groupName`.
    func row(_ template: Template, values: [SQLValue], groupName: SQLValue) -> Row {
        var row = template.values
        for (position, value) in zip(template.positions, values) { row[position] = value }
        row[row.count - 1] = groupName
        return Row(columns: template.columns, values: row)
    }
}

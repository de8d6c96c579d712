import Foundation
import Storage
import Testing
import TestSupport

@Suite("Values and CRUD")
struct ValueRoundTripTests {
    static let schema = [
        Migration.table(version: 1, name: "create_samples", """
            CREATE TABLE samples (id {INT} PRIMARY KEY, i {INT}, r {REAL}, t TEXT, b {BLOB}, flag INTEGER)
            """)
    ]

    @Test("PostgreSQL: a text value holding NUL is refused before it is sent, after values of every kind; the next statement binds as before")
    func postgresTextWithNUL() throws {
        guard PostgresTestServer.isEnabled else { return }
        let db = try ScratchDatabase(.postgres).open(migrations: Self.schema)
        defer { db.close() }
        #expect {
            try db.write { tx in
                _ = try tx.execute("INSERT INTO samples (id, i, r, t, b, flag) VALUES (?, ?, ?, ?, ?, ?)",
                                   [1, .integer(.min), .real(-0.0), .blob([1, 2]), .text("a\u{0}b"), nil])
            }
        } throws: { error in
            (error as? StorageError)?.kind == .misuse && "\(error)".contains("parameter 5")
        }
        // Many values in one statement (one buffer for all of them), empty and long ones side by side.
        let long = String(repeating: "ç", count: 5000)
        var values: [SQLValue] = []
        for id in 0..<200 { values += [.integer(Int64(id)), .integer(Int64(id) * -7), .real(Double(id) / 3), .text(id % 2 == 0 ? "" : long), .blob(id % 3 == 0 ? [] : [UInt8(id % 256), 0]), nil] }
        let marks = Array(repeating: "(?, ?, ?, ?, ?, ?)", count: 200).joined(separator: ", ")
        try db.write { tx in _ = try tx.execute("INSERT INTO samples (id, i, r, t, b, flag) VALUES \(marks)", values) }
        let rows = try db.read { try $0.query("SELECT id, i, r, t, b, flag FROM samples ORDER BY id") }
        #expect(rows.map(\.values) == (0..<200).map { Array(values[($0 * 6)..<($0 * 6 + 6)]) })
    }

    @Test("every value type round-trips, including unicode, binary and NULL", arguments: TestEngines.all)
    func roundTrip(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        let allBytes = (0...255).map(UInt8.init) + [0, 0, 255]
        let unicode = "Ocorrência nº 42 — «impressora» 日本語 🎫🚨 \u{1F1E7}\u{1F1F7}"
        let samples: [[SQLValue]] = [
            [1, .integer(.max), .real(.pi), .text(unicode), .blob(allBytes), SQLValue(true)],
            [2, .integer(.min), .real(-1.5e-300), "", .blob([]), SQLValue(false)],
            [3, nil, nil, nil, nil, nil],
            [4, 0, .real(1e308), "it's \"quoted\" ? not a placeholder", .blob([0]), 1],
        ]
        try db.write { tx throws in
            for sample in samples {
                let inserted = try tx.execute("INSERT INTO samples (id, i, r, t, b, flag) VALUES (?, ?, ?, ?, ?, ?)", sample)
                #expect(inserted == 1)
            }
        }
        let rows = try db.read { try $0.query("SELECT id, i, r, t, b, flag FROM samples ORDER BY id") }
        #expect(rows.map(\.values) == samples)

        let first = try #require(rows.first)
        #expect(try first.int("i") == .max)
        #expect(try first.double("r") == .pi)
        #expect(try first.text("t") == unicode)
        #expect(try first.blob("b") == allBytes)
        #expect(try first.bool("flag"))
        #expect(first["T"] == .text(unicode), "lookup by column name ignores case")
        let empty = rows[2]
        #expect(empty.optionalText("t") == nil)
        #expect(try empty.optionalInt("i") == nil)
        #expect(try empty.optionalBlob("b") == nil)
        expectStorageError(.typeMismatch) { try empty.int("i") }
        expectStorageError(.typeMismatch) { try first.text("missing") }
    }

    @Test("update and delete report affected rows; aggregates read as integers", arguments: TestEngines.all)
    func affectedRowsAndAggregates(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { tx throws in
            for id in 1...5 {
                try tx.execute("INSERT INTO samples (id, i, t) VALUES (?, ?, ?)", [SQLValue(id), SQLValue(id * 10), "x"])
            }
            #expect(try tx.execute("UPDATE samples SET t = ? WHERE i > ?", ["y", 20]) == 3)
            #expect(try tx.execute("DELETE FROM samples WHERE id = ?", [1]) == 1)
            #expect(try tx.execute("DELETE FROM samples WHERE id = ?", [99]) == 0)
        }
        try db.read { tx throws in
            #expect(try tx.scalar("SELECT COUNT(*) FROM samples") == 4)
            let sums = try #require(try tx.queryOne("SELECT SUM(i) AS total, AVG(i) AS mean FROM samples"))
            #expect(try sums.int("total") == 140)
            #expect(try sums.double("mean") == 35)
            let truth = try #require(try tx.queryOne("SELECT (1 = 1) AS yes, (1 = 2) AS no"))
            #expect(try truth.int("yes") == 1, "booleans read as integers on both engines")
            #expect(try truth.int("no") == 0)
            #expect(try tx.queryOne("SELECT id FROM samples WHERE id = ?", [42]) == nil)
            #expect(try tx.scalar("SELECT t FROM samples WHERE id = ?", [42]) == .null)
        }
    }

    @Test("the wrong number of parameters is a misuse error", arguments: TestEngines.all)
    func parameterCountMismatch(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        expectStorageError(.misuse) {
            try db.write { try $0.execute("INSERT INTO samples (id, t) VALUES (?, ?)", [1]) }
        }
        expectStorageError(.misuse) {
            try db.read { try $0.query("SELECT * FROM samples WHERE id = ?", [1, 2]) }
        }
    }

    @Test("special floating-point values round-trip", arguments: TestEngines.all)
    func specialDoubles(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        let values: [Double] = [0, -0.0, 0.1, -123.456, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity]
        try db.write { tx throws in
            for (index, value) in values.enumerated() {
                try tx.execute("INSERT INTO samples (id, r) VALUES (?, ?)", [SQLValue(index), .real(value)])
            }
        }
        let read = try db.read { try $0.query("SELECT r FROM samples ORDER BY id").map { try $0.double("r") } }
        #expect(read == values)
    }
}

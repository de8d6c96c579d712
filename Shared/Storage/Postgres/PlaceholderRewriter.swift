/// Rewrites the portable `?` placeholders to PostgreSQL's `$1…$n`.
///
/// A `?` is left alone inside `'string'` and `E'escaped\' string'` literals, `"quoted"`
/// identifiers, `$tag$ dollar-quoted $tag$` strings, `-- line` and `/* nested block */` comments.
/// A pure function over bytes, so it is unit-tested directly.
enum PlaceholderRewriter {
    /// The rewritten SQL and the number of placeholders found.
    static func rewrite(_ sql: String) -> (sql: String, count: Int) {
        let input = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 16)
        var count = 0
        var index = 0

        /// Copies input up to and including the first `terminator` sequence after `from`
        /// (or to the end) and returns the index after it.
        func copy(through terminator: [UInt8], from start: Int) -> Int {
            var cursor = start
            while cursor < input.count {
                if input[cursor] == terminator[0], cursor + terminator.count <= input.count,
                   Array(input[cursor..<cursor + terminator.count]) == terminator {
                    cursor += terminator.count
                    output.append(contentsOf: input[start..<cursor])
                    return cursor
                }
                cursor += 1
            }
            output.append(contentsOf: input[start...])
            return input.count
        }

        while index < input.count {
            let byte = input[index]
            let previous: UInt8? = index > 0 ? input[index - 1] : nil
            switch byte {
            case UInt8(ascii: "?"):
                count += 1
                output.append(UInt8(ascii: "$"))
                output.append(contentsOf: String(count).utf8)
                index += 1
            case UInt8(ascii: "'"):
                let escapes = previous.map { ($0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e")) && !isIdentifier(input, before: index - 1) } ?? false
                index = copyQuoted(input, from: index, quote: byte, backslashEscapes: escapes, into: &output)
            case UInt8(ascii: "\""):
                index = copyQuoted(input, from: index, quote: byte, backslashEscapes: false, into: &output)
            case UInt8(ascii: "-") where index + 1 < input.count && input[index + 1] == UInt8(ascii: "-"):
                index = copy(through: [UInt8(ascii: "\n")], from: index)
            case UInt8(ascii: "/") where index + 1 < input.count && input[index + 1] == UInt8(ascii: "*"):
                index = copyBlockComment(input, from: index, into: &output)
            case UInt8(ascii: "$") where !(previous.map(isIdentifierByte) ?? false):
                if let tagEnd = dollarTagEnd(input, from: index) {
                    let tag = Array(input[index...tagEnd])
                    output.append(contentsOf: tag)
                    index = copy(through: tag, from: tagEnd + 1)
                } else {
                    output.append(byte)
                    index += 1
                }
            default:
                output.append(byte)
                index += 1
            }
        }
        return (String(decoding: output, as: UTF8.self), count)
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$") || byte >= 0x80
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// Whether the byte before `index` continues an identifier (so `index` is not a word start).
    private static func isIdentifier(_ input: [UInt8], before index: Int) -> Bool {
        index > 0 && isIdentifierByte(input[index - 1])
    }

    /// Copies a quoted literal starting at the opening quote; a doubled quote is an escaped quote.
    private static func copyQuoted(_ input: [UInt8], from start: Int, quote: UInt8, backslashEscapes: Bool,
                                   into output: inout [UInt8]) -> Int {
        var cursor = start + 1
        while cursor < input.count {
            let byte = input[cursor]
            if backslashEscapes && byte == UInt8(ascii: "\\") {
                cursor += 2
                continue
            }
            if byte == quote {
                if cursor + 1 < input.count && input[cursor + 1] == quote {
                    cursor += 2
                    continue
                }
                cursor += 1
                break
            }
            cursor += 1
        }
        let end = min(cursor, input.count)
        output.append(contentsOf: input[start..<end])
        return end
    }

    /// Copies a `/* ... */` comment, which nests in PostgreSQL.
    private static func copyBlockComment(_ input: [UInt8], from start: Int, into output: inout [UInt8]) -> Int {
        var depth = 0
        var cursor = start
        while cursor < input.count {
            if input[cursor] == UInt8(ascii: "/"), cursor + 1 < input.count, input[cursor + 1] == UInt8(ascii: "*") {
                depth += 1
                cursor += 2
            } else if input[cursor] == UInt8(ascii: "*"), cursor + 1 < input.count, input[cursor + 1] == UInt8(ascii: "/") {
                depth -= 1
                cursor += 2
                if depth == 0 { break }
            } else {
                cursor += 1
            }
        }
        output.append(contentsOf: input[start..<cursor])
        return cursor
    }

    /// The index of the closing `$` of a dollar-quote tag (`$$` or `$tag$`) starting at `start`,
    /// or `nil` when this `$` does not open one (e.g. a positional `$1`).
    private static func dollarTagEnd(_ input: [UInt8], from start: Int) -> Int? {
        var cursor = start + 1
        while cursor < input.count {
            let byte = input[cursor]
            if byte == UInt8(ascii: "$") { return cursor }
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isIdentifierByte(byte), !(isDigit && cursor == start + 1) else { return nil }
            cursor += 1
        }
        return nil
    }
}

/// How many terminal columns text takes, so `ocorre`'s tables line up with accents, emoji and
/// East Asian characters: a character (grapheme cluster) is 2 columns when it shows as an emoji
/// or is wide (CJK, Hangul, fullwidth forms), 0 when it is only a control or format character,
/// else 1. (Counting characters put "☕" and "日本" one column short; padding by UTF-16 units,
/// as `padding(toLength:)` does, cut the last letter of a subject holding "🧾".)
extension Character {
    var displayWidth: Int {
        let scalars = unicodeScalars
        guard let first = scalars.first else { return 0 }
        // An emoji shown as one: by default (☕, 🧾), or asked for with VS16 (❤️), or a flag / keycap sequence.
        if first.properties.isEmojiPresentation || (first.properties.isEmoji && scalars.contains("\u{FE0F}"))
            || (scalars.count > 1 && scalars.contains("\u{20E3}")) || (0x1F1E6...0x1F1FF).contains(first.value) {
            return 2
        }
        switch first.properties.generalCategory {
        case .control, .format, .nonspacingMark, .enclosingMark: return 0
        default: break
        }
        return Self.isWide(first.value) ? 2 : 1
    }

    /// East Asian Wide and Fullwidth ranges (Unicode's EastAsianWidth.txt, the main blocks).
    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

extension String {
    /// Terminal columns the text takes (see ``Character/displayWidth``).
    var displayWidth: Int { reduce(0) { $0 + $1.displayWidth } }

    /// The text cut to at most `columns` columns, "…" as its last column when cut.
    func truncated(toWidth columns: Int) -> String {
        guard displayWidth > columns else { return self }
        var out = "", used = 0
        for character in self {
            let width = character.displayWidth
            if used + width > columns - 1 { break }
            out.append(character)
            used += width
        }
        return out + "…"
    }

    /// The text followed by spaces up to `columns` columns (never cut).
    func padded(toWidth columns: Int) -> String {
        self + String(repeating: " ", count: max(0, columns - displayWidth))
    }
}

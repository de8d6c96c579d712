/// Brazilian tax ids: CPF (people) and CNPJ (companies), including the alphanumeric CNPJ that
/// the Receita Federal issues from July 2026 (IN RFB 2.229/2024).
///
/// Both are checked by their two check digits (mod 11). For the CNPJ each of the first 12
/// characters counts as its ASCII code minus 48, so digits keep their value and `A` counts 17;
/// the last two characters are always digits.
///
/// ```swift
/// TaxID.parse("12.ABC.345/01DE-35")   // .cnpj("12ABC34501DE35")
/// TaxID.parse("529.982.247-25")       // .cpf("52998224725")
/// ```
public enum TaxID: Equatable, Sendable {
    case cpf(String)
    case cnpj(String)

    /// The id without punctuation, letters upper-cased.
    public var normalized: String {
        switch self {
        case .cpf(let value), .cnpj(let value): return value
        }
    }

    /// Strips `.`, `/`, `-` and white space (tabs, line breaks and the no-break space of a value
    /// pasted from a spreadsheet included) and upper-cases letters.
    public static func strip(_ text: String) -> String {
        String(text.uppercased().filter { !".-/".contains($0) && !$0.isWhitespace })
    }

    /// A valid CPF or CNPJ, or `nil`.
    public static func parse(_ text: String) -> TaxID? {
        let value = strip(text)
        if value.count == 11, isValidCPF(value) { return .cpf(value) }
        if value.count == 14, isValidCNPJ(value) { return .cnpj(value) }
        return nil
    }

    static func isValidCPF(_ value: String) -> Bool {
        let digits = value.compactMap { $0.wholeNumberValue }
        guard digits.count == 11, value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        // 000.000.000-00, 111.111.111-11 ... pass the arithmetic but are not issued.
        guard Set(digits).count > 1 else { return false }
        func check(_ count: Int) -> Int {
            var sum = 0
            for i in 0..<count { sum += digits[i] * (count + 1 - i) }
            let rest = (sum * 10) % 11
            return rest == 10 ? 0 : rest
        }
        return check(9) == digits[9] && check(10) == digits[10]
    }

    static func isValidCNPJ(_ value: String) -> Bool {
        let characters = Array(value.utf8)
        guard characters.count == 14 else { return false }
        var values: [Int] = []
        for (index, byte) in characters.enumerated() {
            let isDigit = byte >= 48 && byte <= 57
            let isLetter = byte >= 65 && byte <= 90
            guard isDigit || (index < 12 && isLetter) else { return false }
            values.append(Int(byte) - 48)
        }
        guard Set(values).count > 1 else { return false }
        func check(_ count: Int) -> Int {
            var sum = 0
            var weight = 2
            for i in stride(from: count - 1, through: 0, by: -1) {
                sum += values[i] * weight
                weight = weight == 9 ? 2 : weight + 1
            }
            let rest = sum % 11
            return rest < 2 ? 0 : 11 - rest
        }
        return check(12) == values[12] && check(13) == values[13]
    }
}

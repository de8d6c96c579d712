import Foundation
import Messages

/// Checks custom field values against the fields that apply to a ticket's product and category,
/// like the built-in fields: every problem becomes a violation on `custom_fields.<key>`.
enum CustomFieldValidation {
    /// - Parameter requireFields: whether a missing required field is a violation; false for a
    ///   ticket opened by e-mail, which has no way to carry the fields (refusing it would bounce
    ///   every customer's mail once an administrator makes a field required). The values given
    ///   are checked either way.
    static func validate(_ values: [IntakeV1.CustomFieldValue], fields: [IntakeV1.CustomField], product: String,
                         category: CommonV1.Category, requireFields: Bool = true,
                         violations: inout Violations) -> [IntakeV1.CustomFieldValue] {
        if tooMany(values, &violations) { return [] }
        let applicable = fields.filter {
            $0.active && ($0.product.isEmpty || sameProduct($0.product, product))
                && ($0.category == .unspecified || $0.category == category)
        }
        let byKey = Dictionary(applicable.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var given: [String: String] = [:]
        for value in values {
            let field = "custom_fields.\(value.key)"
            guard byKey[value.key] != nil else {
                violations.add(field, "unknown_field", pt: "Campo não existe para este produto/categoria.",
                               en: "No such field for this product/category.")
                continue
            }
            if given[value.key] != nil {
                violations.add(field, "repeated", pt: "Campo informado mais de uma vez.", en: "Field given more than once.")
            }
            given[value.key] = IntakeContext.trimmed(value.value)
        }
        var accepted: [IntakeV1.CustomFieldValue] = []
        for definition in applicable {
            let field = "custom_fields.\(definition.key)"
            guard let text = given[definition.key], !text.isEmpty else {
                if definition.required && requireFields {
                    violations.add(field, "required", pt: "Campo obrigatório: \(definition.labelPt).",
                                   en: "Required field: \(definition.labelEn).")
                }
                continue
            }
            switch definition.kind {
            case .fieldNumber:
                if !isNumber(text) {
                    violations.add(field, "not_a_number", pt: "Informe um número (use ponto decimal).",
                                   en: "Enter a number (with a decimal point).")
                }
            case .fieldDate:
                if !isDate(text) {
                    violations.add(field, "not_a_date", pt: "Informe uma data AAAA-MM-DD.", en: "Enter a date as YYYY-MM-DD.")
                }
            case .fieldBoolean:
                if text != "true" && text != "false" {
                    violations.add(field, "not_a_boolean", pt: "Use true ou false.", en: "Use true or false.")
                }
            case .fieldChoice:
                if !definition.choices.contains(text) {
                    violations.add(field, "not_a_choice", pt: "Escolha uma das opções: \(definition.choices.joined(separator: ", ")).",
                                   en: "Pick one of: \(definition.choices.joined(separator: ", ")).")
                }
            case .fieldText, .unspecified:
                violations.maxLength(field, text, 10_000)
            }
            var value = IntakeV1.CustomFieldValue()
            value.key = definition.key
            value.value = text
            accepted.append(value)
        }
        return accepted
    }

    /// At most this many values in one request: more is no form, and naming each unknown one
    /// would make an answer larger than an RPC frame (60,000: a 10 MB error never received).
    static let maxValues = 500

    /// Adds `too_many` on `custom_fields` and returns true when there are more than ``maxValues``.
    static func tooMany(_ values: [IntakeV1.CustomFieldValue], _ violations: inout Violations) -> Bool {
        guard values.count > maxValues else { return false }
        violations.add("custom_fields", "too_many", pt: "No máximo \(maxValues) campos complementares.",
                       en: "At most \(maxValues) custom fields.")
        return true
    }

    /// Whether a field's product is the ticket's: customers type the product, so case and
    /// surrounding white space do not count ("erp " is "ERP": its required fields apply).
    static func sameProduct(_ fieldProduct: String, _ product: String) -> Bool {
        fieldProduct.trimmingCharacters(in: .whitespacesAndNewlines)
            .caseInsensitiveCompare(product.trimmingCharacters(in: .whitespacesAndNewlines)) == .orderedSame
    }

    /// A finite decimal number written with a decimal point: an optional sign, digits with an
    /// optional fraction (or a fraction alone: `.5`), an optional exponent (`1e3`), ASCII only.
    /// Not all that `Double(_:)` reads: hexadecimal (`0x10`, `0x1p3`), `nan` and `inf` are not
    /// numbers people type, and consumers reading the stored text would read them otherwise.
    static func isNumber(_ text: String) -> Bool {
        var rest = Substring(text).utf8[...]
        func skipSign() { if let first = rest.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { rest = rest.dropFirst() } }
        func digits() -> Int {
            let count = rest.prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }).count
            rest = rest.dropFirst(count)
            return count
        }
        skipSign()
        var mantissa = digits()
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if let e = rest.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            skipSign()
            guard digits() > 0 else { return false }
        }
        // Finite: `1e309` overflows.
        return rest.isEmpty && Double(text)?.isFinite == true
    }

    /// `YYYY-MM-DD` naming a real day, ASCII digits only (`2026-+1-+5` is no date).
    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }
}

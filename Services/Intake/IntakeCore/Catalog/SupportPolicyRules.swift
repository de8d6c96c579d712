import Messages
import RPC

/// What a support policy must hold before intake stores it: the texts customers read when
/// opening a ticket, so none may be missing, repeated or unbounded.
enum SupportPolicyRules {
    /// Longest priority definition or category explanation, per language.
    static let maxDefinitionLength = 4_000
    /// Longest writing tips, per language.
    static let maxTipsLength = 8_000

    /// Every priority and category (not the unspecified value) has its text.
    static let priorities = CommonV1.Priority.allCases.filter { $0 != .unspecified }
    static let categories = CommonV1.Category.allCases.filter { $0 != .unspecified }

    /// `policy` as it is stored (English texts left empty take the Portuguese).
    /// - Throws: `INVALID_ARGUMENT` with every violation.
    static func checked(_ policy: IntakeV1.SupportPolicy) throws -> IntakeV1.SupportPolicy {
        var violations = Violations()
        var stored = policy
        check(&stored.priorities, field: "priorities", kinds: priorities, kind: \.priority, pt: \.textPt, en: \.textEn, &violations)
        if !stored.categories.isEmpty {
            check(&stored.categories, field: "categories", kinds: categories, kind: \.category, pt: \.textPt, en: \.textEn, &violations)
        }
        violations.required("writing_tips_pt", stored.writingTipsPt)
        violations.maxLength("writing_tips_pt", stored.writingTipsPt, maxTipsLength)
        violations.maxLength("writing_tips_en", stored.writingTipsEn, maxTipsLength)
        if stored.writingTipsEn.allSatisfy(\.isWhitespace) { stored.writingTipsEn = stored.writingTipsPt }
        try violations.check()
        return stored
    }

    /// Each of `kinds` exactly once, in any order, each with its texts.
    private static func check<Definition, Kind: LabelledEnum>(
        _ definitions: inout [Definition], field: String, kinds: [Kind], kind: KeyPath<Definition, Kind>,
        pt: WritableKeyPath<Definition, String>, en: WritableKeyPath<Definition, String>, _ violations: inout Violations
    ) {
        var seen: [Kind] = []
        for index in definitions.indices {
            let name = "\(field)[\(index)]"
            let value = definitions[index][keyPath: kind]
            if !kinds.contains(value) {
                violations.add(name, "unknown", pt: "Valor desconhecido.", en: "Unknown value.")
            } else if seen.contains(value) {
                violations.add(name, "duplicate", pt: "Definido mais de uma vez.", en: "Defined more than once.")
            }
            seen.append(value)
            violations.required("\(name).text_pt", definitions[index][keyPath: pt])
            violations.maxLength("\(name).text_pt", definitions[index][keyPath: pt], maxDefinitionLength)
            violations.maxLength("\(name).text_en", definitions[index][keyPath: en], maxDefinitionLength)
            if definitions[index][keyPath: en].allSatisfy(\.isWhitespace) {
                definitions[index][keyPath: en] = definitions[index][keyPath: pt]
            }
        }
        let missing = kinds.filter { !seen.contains($0) }
        if !missing.isEmpty {
            violations.add(field, "incomplete", pt: "Faltam definições para: \(missing.map(\.labels.portuguese).joined(separator: ", ")).",
                           en: "Definitions are missing for: \(missing.map(\.labels.english).joined(separator: ", ")).")
        }
    }
}

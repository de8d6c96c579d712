import Foundation

/// The language of text people read: Brazilian Portuguese first, English second.
public enum DisplayLanguage: String, Sendable, CaseIterable {
    case portuguese = "pt"
    case english = "en"

    /// `pt`, `pt-BR`, `en`, `en_US.UTF-8`...: English for anything starting with `en`, else Portuguese.
    public init(code: String) {
        self = code.lowercased().hasPrefix("en") ? .english : .portuguese
    }
}

/// An enum of the `.proto` files with names people read (categories, priorities): its `.proto`
/// value name, as JSON carries it, and its label in each language.
public protocol LabelledEnum: CaseIterable, Equatable {
    /// The `.proto` value name (`EXIGENCIA_FISCAL`).
    var protoName: String { get }
    /// What people read, in Portuguese and in English ("—" when unspecified).
    var labels: (portuguese: String, english: String) { get }
}

extension LabelledEnum {
    /// The value by its `.proto` name, as JSON carries it; also by what people type
    /// (`exigencia_fiscal`, `Exigência fiscal`, `Tax requirement`, `urgente`).
    public init?(protoName: String) {
        let key = LabelKey.normalized(protoName)
        guard let match = Self.allCases.first(where: { value in
            [value.protoName, value.labels.portuguese, value.labels.english].contains { LabelKey.normalized($0) == key }
        }) else { return nil }
        self = match
    }

    /// The name people read ("Exigência fiscal" / "Tax requirement").
    public func label(_ language: DisplayLanguage = .portuguese) -> String {
        language == .portuguese ? labels.portuguese : labels.english
    }
}

extension CommonV1.Category: LabelledEnum {
    public var protoName: String {
        switch self {
        case .unspecified: "CATEGORY_UNSPECIFIED"
        case .problema: "PROBLEMA"
        case .duvida: "DUVIDA"
        case .exigenciaFiscal: "EXIGENCIA_FISCAL"
        case .necessidade: "NECESSIDADE"
        case .sugestaoMelhoria: "SUGESTAO_MELHORIA"
        case .estrategica: "ESTRATEGICA"
        }
    }

    public var labels: (portuguese: String, english: String) {
        switch self {
        case .unspecified: ("—", "—")
        case .problema: ("Problema", "Problem")
        case .duvida: ("Dúvida", "Question")
        case .exigenciaFiscal: ("Exigência fiscal", "Tax requirement")
        case .necessidade: ("Necessidade", "Need")
        case .sugestaoMelhoria: ("Sugestão de melhoria", "Improvement suggestion")
        case .estrategica: ("Estratégica", "Strategic")
        }
    }
}

extension CommonV1.Priority: LabelledEnum {
    public var protoName: String {
        switch self {
        case .unspecified: "PRIORITY_UNSPECIFIED"
        case .baixa: "BAIXA"
        case .normal: "NORMAL"
        case .alta: "ALTA"
        case .urgente: "URGENTE"
        }
    }

    public var labels: (portuguese: String, english: String) {
        switch self {
        case .unspecified: ("—", "—")
        case .baixa: ("Baixa", "Low")
        case .normal: ("Normal", "Normal")
        case .alta: ("Alta", "High")
        case .urgente: ("Urgente", "Urgent")
        }
    }
}

/// How a typed name is compared: case, accents, spaces, hyphens and underscores ignored.
enum LabelKey {
    static func normalized(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .filter { $0 != " " && $0 != "_" && $0 != "-" }
    }
}

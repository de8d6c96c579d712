/// The built-in templates, per event kind and locale (pt-BR is the default, en the other).
/// Administrators replace them over RPC (``TemplateStore``); `{{name}}` placeholders are filled
/// from the event's variables.
enum TemplateCatalog {
    struct Entry: Sendable, Equatable {
        var subject: String
        var text: String
        var html: String = ""
    }

    static let defaultLocale = "pt-BR"
    static let locales = ["pt-BR", "en"]

    /// Chooses a supported locale: `en*` → en, anything else → pt-BR.
    static func locale(_ requested: String) -> String {
        requested.lowercased().hasPrefix("en") ? "en" : defaultLocale
    }

    static func builtIn(kind: String, locale: String) -> Entry? {
        (locale == "en" ? english : portuguese)[kind]
    }

    static var kinds: [String] { Array(portuguese.keys).sorted() }

    /// The template kinds an audience reads instead of the event's own: a transfer's copies are
    /// told it went to someone else (the event's own wording says "to you", for the holder).
    static let audienceKinds: [NotificationRules.Audience: [String: String]] = [.copies: ["Transferred": "TransferredCopy"]]

    /// The template kind `audience` reads for an event of `kind` (its own unless ``audienceKinds``
    /// names another); administrators edit each separately.
    static func kind(_ kind: String, for audience: NotificationRules.Audience) -> String {
        audienceKinds[audience]?[kind] ?? kind
    }

    static let portuguese: [String: Entry] = [
        "TicketOpened": Entry(subject: "[{{code}}] Ocorrência registrada: {{subject}}",
                              text: "Olá, {{contact_name}}.\n\nRegistramos sua ocorrência {{code}} ({{subject}}).\nResponda a este e-mail para acrescentar informações.\n\n{{text}}"),
        "InformationRequested": Entry(subject: "[{{code}}] Precisamos de informações",
                                      text: "Olá, {{contact_name}}.\n\nPara continuar o atendimento da ocorrência {{code}}, precisamos de:\n\n{{text}}\n\nResponda a este e-mail."),
        "InactivityReminder": Entry(subject: "[{{code}}] Aguardamos seu retorno",
                                    text: "Olá, {{contact_name}}.\n\nA ocorrência {{code}} aguarda sua resposta. Sem retorno até {{due_at}}, ela será encerrada."),
        "SolutionGiven": Entry(subject: "[{{code}}] Solução disponível",
                               text: "Olá, {{contact_name}}.\n\nA solução da ocorrência {{code}}:\n\n{{text}}"),
        "TicketFinished": Entry(subject: "[{{code}}] Ocorrência encerrada",
                                text: "Olá, {{contact_name}}.\n\nA ocorrência {{code}} foi encerrada ({{outcome}}).\n{{text}}\n\nAvalie o atendimento: {{survey_url}}"),
        "Transferred": Entry(subject: "[{{code}}] Ocorrência repassada para você",
                             text: "A ocorrência {{code}} ({{subject}}) foi repassada por {{actor_name}} para {{holder_name}}.\n\nNota: {{text}}"),
        "TransferredCopy": Entry(subject: "[{{code}}] Cópia: ocorrência repassada para {{holder_name}}",
                                 text: "Você recebe esta cópia a pedido de {{actor_name}}: a ocorrência {{code}} ({{subject}}) foi repassada para {{holder_name}}.\n\nNota: {{text}}"),
        "TicketRouted": Entry(subject: "[{{code}}] Nova ocorrência na fila: {{subject}}",
                              text: "A ocorrência {{code}} ({{subject}}) de {{organization_name}} entrou na fila de {{holder_name}}."),
        "CustomerReplied": Entry(subject: "[{{code}}] Resposta do cliente",
                                 text: "{{author_name}} respondeu na ocorrência {{code}}:\n\n{{text}}{{files_pt}}"),
        "TicketCancelledByCustomer": Entry(subject: "[{{code}}] Cancelada pelo cliente",
                                           text: "{{author_name}} cancelou a ocorrência {{code}}.\nMotivo: {{text}}"),
        "SLAWarning": Entry(subject: "[{{code}}] Alerta de SLA: {{target}}",
                            text: "O prazo de {{target}} da ocorrência {{code}} vence em {{due_at}} ({{percent_elapsed}}% decorrido). Responsável: {{holder_name}}."),
        "SLABreached": Entry(subject: "[{{code}}] SLA estourado: {{target}}",
                             text: "O prazo de {{target}} da ocorrência {{code}} venceu em {{due_at}}. Responsável: {{holder_name}}."),
        "DiscussionAdded": Entry(subject: "[{{code}}] Nova mensagem",
                                 text: "{{author_name}} escreveu na ocorrência {{code}}:\n\n{{text}}{{files_pt}}"),
        "StageChanged": Entry(subject: "[{{code}}] Situação: {{stage_name}}",
                              text: "A ocorrência {{code}} passou para {{stage_name}}.\n{{text}}"),
        "SurveyAnswered": Entry(subject: "[{{code}}] Pesquisa respondida",
                                text: "A pesquisa da ocorrência {{code}} recebeu nota {{score}}.\n{{text}}"),
        "TicketEmail": Entry(subject: "[{{code}}] {{subject}}", text: "{{text}}"),
        "Invitation": Entry(subject: "Convite para o portal de suporte de {{organization_name}}",
                            text: "Olá, {{name}}.\n\nVocê foi convidado a acessar o portal de suporte de {{organization_name}}.\nUse este link (válido uma vez, até {{expires_at}}):\n{{link}}"),
        "StaffInvitation": Entry(subject: "Convite para a equipe de suporte ({{team_name}})",
                                 text: "Olá, {{name}}.\n\nVocê foi convidado a participar da equipe de suporte ({{team_name}}) no portal de ocorrências.\nUse este link (válido uma vez, até {{expires_at}}):\n{{link}}"),
        "RepresentativeInvitation": Entry(subject: "Convite para o portal de ocorrências como representante ({{team_name}})",
                                          text: "Olá, {{name}}.\n\nVocê foi convidado a acessar o portal de ocorrências ({{team_name}}) como representante: por ele você abre ocorrências em nome dos clientes que representa, acompanha e responde as que abriu.\nUse este link (válido uma vez, até {{expires_at}}):\n{{link}}"),
        "PasswordReset": Entry(subject: "Redefinição de senha",
                               text: "Olá, {{name}}.\n\nPara definir uma nova senha, use este link (válido uma vez, até {{expires_at}}):\n{{link}}\n\nSe não pediu, ignore esta mensagem."),
        // To the owner of an address a company's administrator invited while it already had a
        // sign-in elsewhere (the gateway's quiet invitation): nothing was made, no link.
        "InvitationNotice": Entry(subject: "Tentativa de convite de {{organization_name}} / Invitation attempt from {{organization_name}}",
                                  text: "Olá, {{name}}.\n\nAlguém da empresa {{organization_name}} tentou convidar este endereço para o portal de suporte. "
                                      + "Você já tem uma conta neste portal com este endereço, por isso nenhum convite foi criado e nada mudou na sua conta.\n"
                                      + "Se você também deve ter acesso por {{organization_name}}, fale com o suporte. Para entrar (ou usar \"Esqueci minha senha\"):\n{{link}}\n\n"
                                      + "Se não esperava este aviso, ignore esta mensagem.\n\n---\n\n"
                                      + "Hello {{name}},\n\nSomeone at {{organization_name}} tried to invite this address to the support portal. "
                                      + "You already have an account on this portal with this address, so no invitation was made and nothing changed in your account.\n"
                                      + "If you should also have access through {{organization_name}}, talk to support. To sign in (or use \"Forgot my password\"):\n{{link}}\n\n"
                                      + "If you did not expect this notice, ignore this message."),
    ]

    static let english: [String: Entry] = [
        "TicketOpened": Entry(subject: "[{{code}}] Ticket opened: {{subject}}",
                              text: "Hello {{contact_name}},\n\nWe registered your ticket {{code}} ({{subject}}).\nReply to this e-mail to add information.\n\n{{text}}"),
        "InformationRequested": Entry(subject: "[{{code}}] We need information",
                                      text: "Hello {{contact_name}},\n\nTo continue with ticket {{code}} we need:\n\n{{text}}\n\nPlease reply to this e-mail."),
        "InactivityReminder": Entry(subject: "[{{code}}] Waiting for your answer",
                                    text: "Hello {{contact_name}},\n\nTicket {{code}} is waiting for your answer. Without one by {{due_at}} it will be closed."),
        "SolutionGiven": Entry(subject: "[{{code}}] Solution available",
                               text: "Hello {{contact_name}},\n\nThe solution for ticket {{code}}:\n\n{{text}}"),
        "TicketFinished": Entry(subject: "[{{code}}] Ticket closed",
                                text: "Hello {{contact_name}},\n\nTicket {{code}} was closed ({{outcome}}).\n{{text}}\n\nRate our support: {{survey_url}}"),
        "Transferred": Entry(subject: "[{{code}}] Ticket transferred to you",
                             text: "Ticket {{code}} ({{subject}}) was transferred by {{actor_name}} to {{holder_name}}.\n\nNote: {{text}}"),
        "TransferredCopy": Entry(subject: "[{{code}}] Copy: ticket transferred to {{holder_name}}",
                                 text: "You receive this copy at the request of {{actor_name}}: ticket {{code}} ({{subject}}) was transferred to {{holder_name}}.\n\nNote: {{text}}"),
        "TicketRouted": Entry(subject: "[{{code}}] New ticket in the queue: {{subject}}",
                              text: "Ticket {{code}} ({{subject}}) from {{organization_name}} entered the queue of {{holder_name}}."),
        "CustomerReplied": Entry(subject: "[{{code}}] Customer replied",
                                 text: "{{author_name}} replied on ticket {{code}}:\n\n{{text}}{{files_en}}"),
        "TicketCancelledByCustomer": Entry(subject: "[{{code}}] Cancelled by the customer",
                                           text: "{{author_name}} cancelled ticket {{code}}.\nReason: {{text}}"),
        "SLAWarning": Entry(subject: "[{{code}}] SLA warning: {{target}}",
                            text: "The {{target}} target of ticket {{code}} is due at {{due_at}} ({{percent_elapsed}}% elapsed). Holder: {{holder_name}}."),
        "SLABreached": Entry(subject: "[{{code}}] SLA breached: {{target}}",
                             text: "The {{target}} target of ticket {{code}} was due at {{due_at}}. Holder: {{holder_name}}."),
        "DiscussionAdded": Entry(subject: "[{{code}}] New message",
                                 text: "{{author_name}} wrote on ticket {{code}}:\n\n{{text}}{{files_en}}"),
        "StageChanged": Entry(subject: "[{{code}}] Status: {{stage_name}}",
                              text: "Ticket {{code}} moved to {{stage_name}}.\n{{text}}"),
        "SurveyAnswered": Entry(subject: "[{{code}}] Survey answered",
                                text: "The survey of ticket {{code}} got score {{score}}.\n{{text}}"),
        "TicketEmail": Entry(subject: "[{{code}}] {{subject}}", text: "{{text}}"),
        "Invitation": Entry(subject: "Invitation to the support portal of {{organization_name}}",
                            text: "Hello {{name}},\n\nYou were invited to the support portal of {{organization_name}}.\nUse this link (valid once, until {{expires_at}}):\n{{link}}"),
        "StaffInvitation": Entry(subject: "Invitation to the support team ({{team_name}})",
                                 text: "Hello {{name}},\n\nYou were invited to join the support team ({{team_name}}) on the ticket portal.\nUse this link (valid once, until {{expires_at}}):\n{{link}}"),
        "RepresentativeInvitation": Entry(subject: "Invitation to the ticket portal as a representative ({{team_name}})",
                                          text: "Hello {{name}},\n\nYou were invited to the ticket portal ({{team_name}}) as a representative: there you open tickets on behalf of the customers you represent, and follow and answer the ones you opened.\nUse this link (valid once, until {{expires_at}}):\n{{link}}"),
        "PasswordReset": Entry(subject: "Password reset",
                               text: "Hello {{name}},\n\nTo set a new password, use this link (valid once, until {{expires_at}}):\n{{link}}\n\nIf you did not ask for it, ignore this message."),
        "InvitationNotice": Entry(subject: "Invitation attempt from {{organization_name}}",
                                  text: "Hello {{name}},\n\nSomeone at {{organization_name}} tried to invite this address to the support portal. "
                                      + "You already have an account on this portal with this address, so no invitation was made and nothing changed in your account.\n"
                                      + "If you should also have access through {{organization_name}}, talk to support. To sign in (or use \"Forgot my password\"):\n{{link}}\n\n"
                                      + "If you did not expect this notice, ignore this message."),
    ]
}

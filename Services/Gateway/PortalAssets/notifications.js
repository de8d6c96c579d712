'use strict';
// The administrators' notifications page (#/notificacoes): notification's configuration, which
// until now only the API and `ocorre call` reached. Webhooks (registered with the events they
// receive, their signing secret shown once, edited — URL, events, level, internal entries,
// filter —, deactivated; their recent deliveries, a failed one sent again), e-mail templates per kind and language (the placeholders the kind fills listed; a
// template that would not render is refused by the service, with its reason next to the form),
// who hears of each event (each kind's audiences ticked and saved, optionally only for some
// tickets — categories, priorities, products, modules, organizations —, or reset to the rules file's;
// a kind with several rules or fixed addresses listed rule by rule, each removed, and one more
// rule added with Nova regra;
// the groups' mailboxes set and removed; the last edits), the people's switches per event kind
// (subscriptions, optionally for some tickets: set, edited, turned over, deleted), and the delivery log: counts per state,
// dead deliveries retried, suppressed addresses listed and lifted. Loaded after portal.js,
// team.js and integrations.js and built from their helpers (el, api, show, t, tf, errorBox, when,
// label, rowsTable, isAdministrator, accessLevel/createdAt/state/actions texts); its link and
// path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  notifyTitle: 'Notificações', notifyIntro: 'Como o serviço de notificação avisa as pessoas e outros sistemas: webhooks, modelos de e-mail, assinaturas e o registro de envios.',
  notifyWebhooks: 'Webhooks', notifyWebhooksIntro: 'Cada evento escolhido é enviado por POST em JSON, assinado com HMAC-SHA256 (cabeçalho X-Ocorrencias-Signature).',
  notifyUrl: 'Endereço (URL)', notifyEvents: 'Eventos', notifyAllEvents: 'Todos os eventos (*)', notifyInternal: 'Inclui entradas internas da discussão',
  notifySecret: 'Segredo de assinatura (opcional, ao menos 16 caracteres; vazio = gerado pelo serviço)', notifySecretOnce: 'Segredo (mostrado só agora)',
  notifyRegister: 'Cadastrar webhook', notifyNewWebhook: 'Novo webhook', notifyNoWebhooks: 'Nenhum webhook ativo.',
  notifyWebhookCreated: 'Webhook {url} cadastrado.', notifyWebhookCreatedSecret: 'Webhook {url} cadastrado. Copie o segredo agora: ele não será mostrado de novo.',
  notifyDeactivate: 'Desativar', notifyDeactivateOf: 'Desativar o webhook {url}', notifyConfirmDeactivate: 'Desativar o webhook {url}? Ele deixa de receber eventos.',
  notifyDeactivated: 'Webhook {url} desativado.', notifyLastDelivery: 'Último envio', notifyNever: '(nenhum)',
  notifyShowDeliveries: 'Envios', notifyDeliveriesOf: 'Envios recentes de {url}', notifyNoDeliveries: 'Nenhum envio.',
  notifyAttempts: 'Tentativas', notifyAnswer: 'Resposta', notifyEvent: 'Evento', notifyWhen: 'Quando', notifyRecipient: 'Destinatário',
  notifyReplay: 'Enviar de novo', notifyReplayOf: 'Enviar de novo o envio {id}', notifyReplayed: 'Envio {id} reenfileirado.',
  notifyTemplates: 'Modelos de e-mail', notifyTemplatesIntro: 'O assunto sempre leva o código da ocorrência. No HTML, cada valor substituído é escapado; sem HTML, ele é derivado do texto.',
  notifyKind: 'Tipo', notifyLanguage: 'Idioma', notifySubject: 'Assunto', notifyText: 'Texto', notifyHtml: 'HTML (opcional)',
  notifyPlaceholders: 'Marcadores deste tipo', notifySaveTemplate: 'Salvar modelo', notifyTemplateSaved: 'Modelo {kind} ({locale}) salvo.',
  notifyCustomized: 'Personalizado por um administrador.', notifyBuiltIn: 'Modelo padrão do sistema.',
  notifyRules: 'Quem recebe cada evento', notifyRulesIntro: 'A quem vão os e-mails de cada tipo de evento. Um tipo alterado aqui vale sobre o arquivo de regras (NOTIFICATION_RULES_FILE) ou o padrão, em todas as instâncias, para os eventos seguintes; Restaurar padrão volta ao arquivo. Com um filtro (Só para as ocorrências), o público vale só para as ocorrências que batem com ele: as outras desse tipo não geram e-mail. Os webhooks recebem os eventos que escolheram, com ou sem público aqui.',
  notifyAudienceShort: { customer: 'cliente', holder: 'responsável', chefe: 'chefe', copies: 'cópias' },
  notifyAudienceLegend: 'cliente: o contato da ocorrência (ou o e-mail da empresa) · responsável: o agente com a ocorrência, ou a caixa do grupo quando nenhum agente a tem · chefe: o chefe do responsável · cópias: os endereços em cópia de um repasse.',
  notifyRuleOrigin: 'Origem', notifyRuleDefault: 'Arquivo de regras ou padrão', notifyRuleEdited: 'Alterado por {who} em {when}', notifyDefaultIs: 'Padrão: {audiences}',
  notifyAudienceOf: '{audience} recebe {kind}', notifyRuleSave: 'Salvar', notifyRuleSaveOf: 'Salvar o público de {kind}', notifyRuleSaved: 'Público de {kind} salvo.',
  notifyRuleReset: 'Restaurar padrão', notifyRuleResetOf: 'Restaurar o público padrão de {kind}', notifyConfirmReset: 'Voltar {kind} ao público do arquivo de regras ou padrão ({audiences})?',
  notifyRuleWasReset: 'Público de {kind} restaurado: {audiences}.',
  notifyMailboxSource: { file: 'arquivo de regras', administrator: 'administrador' }, notifyNoMailboxes: 'Nenhum grupo tem caixa de e-mail.',
  notifyNewMailbox: 'Caixa de um grupo', notifyGroupId: 'Grupo (id)', notifyMailboxSave: 'Salvar caixa', notifyMailboxSaved: 'Caixa de {group} salva: {address}.',
  notifyMailboxRemove: 'Remover', notifyMailboxRemoveOf: 'Remover a caixa do grupo {group}', notifyMailboxRemoved: 'Caixa do grupo {group} removida.',
  notifyConfirmMailboxRemove: 'Remover a caixa {address} do grupo {group}? O grupo fica sem caixa (também a do arquivo de regras) até uma nova ser salva.',
  notifyChanges: 'Últimas alterações das regras', notifyNoChanges: 'Nenhuma alteração: valem o arquivo de regras ou o padrão.', notifyWho: 'Quem', notifyWhat: 'O quê',
  notifyChangeActions: { audiences: 'público de', reset: 'restaurado o padrão de', rule_added: 'regra acrescentada a', rule_updated: 'regra alterada de',
    rule_removed: 'regra removida de', mailbox: 'caixa do grupo', mailbox_removed: 'caixa removida do grupo' },
  notifyRuleList: 'Regras de {kind}', notifyRuleEntryRemove: 'Remover', notifyRuleEntryRemoveOf: 'Remover a regra {rule} de {kind}',
  notifyConfirmEntryRemove: 'Remover a regra {rule} de {kind}?', notifyRuleEntryRemoved: 'Regra removida de {kind}.',
  notifyNewRule: 'Nova regra', notifyNewRuleHelp: 'Uma regra a mais para o tipo: os e-mails vão a todos os que alguma regra cujo filtro bate com a ocorrência nomeia, um e-mail por pessoa. Um tipo ainda não alterado guarda as regras do arquivo ou do padrão. Endereços fixos leem como as cópias de um repasse (sem conteúdo confidencial).',
  notifyRuleAddresses: 'Endereços fixos (separados por vírgula)', notifyRuleAdd: 'Acrescentar regra', notifyRuleAdded: 'Regra acrescentada a {kind}.',
  notifyRotate: 'Gerar novo segredo', notifyRotateOf: 'Gerar novo segredo para o webhook {url}',
  notifyConfirmRotate: 'Gerar um novo segredo para {url}? O atual continua assinando junto com o novo por 24 horas, para o receptor trocar sem recusar entregas.',
  notifyRevoke: 'Revogar segredo agora', notifyRevokeOf: 'Revogar na hora o segredo do webhook {url} (vazado)',
  notifyConfirmRevoke: 'Gerar um novo segredo para {url} e revogar o atual na hora? Use se ele vazou: o receptor recusa as entregas até receber o novo.',
  notifyPreviousUntil: 'o segredo anterior assina junto até {when}',
  notifyRotated: 'Novo segredo do webhook {url}. Copie-o agora: ele não será mostrado de novo.',
  notifyEdit: 'Editar', notifyEditOf: 'Editar o webhook {url}', notifyEditTitle: 'Editar o webhook {url}', notifySaveWebhook: 'Salvar webhook',
  notifyEditHelp: 'Tudo é gravado como está no formulário. Os envios ainda não entregues (na fila, aguardando nova tentativa ou esgotados) passam a ir para o novo endereço; os entregues guardam o endereço para onde foram. O segredo não muda.',
  notifyWebhookUpdated: 'Webhook {url} alterado.', notifyCancel: 'Cancelar',
  notifyAudiences: 'Público', notifyNobody: '(ninguém por e-mail)', notifyMailboxes: 'Caixas dos grupos (quando o grupo está com a ocorrência sem agente)', notifyGroup: 'Grupo',
  notifyAudienceNames: { customer: 'cliente (contato)', holder: 'responsável (agente ou caixa do grupo)', chefe: 'chefe do responsável', copies: 'cópias do repasse' },
  notifySubscriptions: 'Assinaturas', notifySubscriptionsIntro: 'Cada pessoa (e-mail ou id) pode deixar de receber, ou voltar a receber, um tipo de evento (* = todos; o registro do tipo vale sobre o *). Sem registro, ela recebe o que as regras lhe dão. Com um filtro (Só para as ocorrências), o registro separa as ocorrências: Recebe Sim = só as que batem com o filtro; Recebe Não = todas menos essas.',
  notifyRemoveSwitch: 'Excluir', notifyRemoveSwitchOf: 'Excluir o registro {kind} de {person}', notifySwitchRemoved: 'Registro excluído: {person} · {kind}.',
  notifyPerson: 'Pessoa (e-mail ou id)', notifyShowPerson: 'Ver', notifyNoSwitches: 'Nenhum registro: esta pessoa recebe todos os avisos que as regras lhe dão.',
  notifyReceives: 'Recebe', notifyYes: 'Sim', notifyNo: 'Não', notifySwitchOff: 'Desligar', notifySwitchOn: 'Religar',
  notifyEditSwitch: 'Editar', notifyEditSwitchOf: 'Editar o registro {kind} de {person}', notifyEditSwitchTitle: 'Alterar o registro {kind} de {person}',
  notifySwitchOf: '{action} {kind} para {person}', notifySetSwitch: 'Salvar', notifyNewSwitch: 'Novo registro', notifySwitchSaved: 'Registro salvo: {person} · {kind}.',
  notifyLog: 'Registro de envios', notifyStats: 'Envios por situação', notifyResends: 'reenvios após interrupção',
  notifyRetryDead: 'Reenfileirar os esgotados', notifyRetried: '{count} envio(s) reenfileirado(s).', notifyDead: 'Envios esgotados',
  notifyNoDead: 'Nenhum envio esgotado.', notifyRetryOne: 'Reenfileirar', notifyRetryOf: 'Reenfileirar o envio {id}',
  notifySuppressions: 'Endereços suprimidos', notifySuppressionsIntro: 'O serviço não envia e-mails a estes endereços (devolução permanente ou decisão de um administrador).',
  notifyNoSuppressions: 'Nenhum endereço suprimido.', notifyReason: 'Motivo', notifyNote: 'Nota', notifyLift: 'Remover da lista',
  notifyLiftOf: 'Remover {address} da lista', notifyConfirmLift: 'Voltar a enviar e-mails para {address}?', notifyLifted: '{address} saiu da lista.',
  notifyAddress: 'Endereço', notifySuppress: 'Suprimir', notifySuppressed: '{address} suprimido.',
  notifyStates: { queued: 'na fila', sending: 'enviando', sent: 'entregue', failed: 'falhou', dead: 'esgotado', discarded: 'descartado', bounced: 'devolvido' },
  notifyReasons: { bounce: 'devolução', manual: 'administrador' },
});
Object.assign(TEXT.en, {
  notifyTitle: 'Notifications', notifyIntro: 'How the notification service tells people and other systems: webhooks, e-mail templates, subscriptions and the delivery log.',
  notifyWebhooks: 'Webhooks', notifyWebhooksIntro: 'Each chosen event is POSTed as JSON, signed with HMAC-SHA256 (X-Ocorrencias-Signature header).',
  notifyUrl: 'Address (URL)', notifyEvents: 'Events', notifyAllEvents: 'All events (*)', notifyInternal: 'Includes internal discussion entries',
  notifySecret: 'Signing secret (optional, at least 16 characters; empty = generated by the service)', notifySecretOnce: 'Secret (shown only now)',
  notifyRegister: 'Register webhook', notifyNewWebhook: 'New webhook', notifyNoWebhooks: 'No active webhooks.',
  notifyWebhookCreated: 'Webhook {url} registered.', notifyWebhookCreatedSecret: 'Webhook {url} registered. Copy the secret now: it will not be shown again.',
  notifyDeactivate: 'Deactivate', notifyDeactivateOf: 'Deactivate webhook {url}', notifyConfirmDeactivate: 'Deactivate webhook {url}? It stops receiving events.',
  notifyDeactivated: 'Webhook {url} deactivated.', notifyLastDelivery: 'Last delivery', notifyNever: '(none)',
  notifyShowDeliveries: 'Deliveries', notifyDeliveriesOf: 'Recent deliveries of {url}', notifyNoDeliveries: 'No deliveries.',
  notifyAttempts: 'Attempts', notifyAnswer: 'Answer', notifyEvent: 'Event', notifyWhen: 'When', notifyRecipient: 'Recipient',
  notifyReplay: 'Send again', notifyReplayOf: 'Send delivery {id} again', notifyReplayed: 'Delivery {id} queued again.',
  notifyTemplates: 'E-mail templates', notifyTemplatesIntro: 'The subject always carries the ticket\'s code. In HTML every substituted value is escaped; without HTML it is derived from the text.',
  notifyKind: 'Kind', notifyLanguage: 'Language', notifySubject: 'Subject', notifyText: 'Text', notifyHtml: 'HTML (optional)',
  notifyPlaceholders: 'Placeholders of this kind', notifySaveTemplate: 'Save template', notifyTemplateSaved: 'Template {kind} ({locale}) saved.',
  notifyCustomized: 'Customized by an administrator.', notifyBuiltIn: 'The system\'s built-in template.',
  notifyRules: 'Who hears of each event', notifyRulesIntro: 'Who each kind of event\'s e-mails go to. A kind edited here wins over the rules file (NOTIFICATION_RULES_FILE) or the defaults, on every instance, for the events that follow; Reset to default goes back to the file. With a filter (Only for tickets), the audience applies only to the tickets matching it: the others of that kind send no e-mail. Webhooks get the events they chose, whatever the audience here.',
  notifyAudienceShort: { customer: 'customer', holder: 'holder', chefe: 'supervisor', copies: 'copies' },
  notifyAudienceLegend: 'customer: the ticket\'s contact (or the company\'s e-mail) · holder: the agent holding the ticket, or the group\'s mailbox when no agent holds it · supervisor: the holder\'s supervisor · copies: the addresses copied on a transfer.',
  notifyRuleOrigin: 'Origin', notifyRuleDefault: 'Rules file or default', notifyRuleEdited: 'Edited by {who} on {when}', notifyDefaultIs: 'Default: {audiences}',
  notifyAudienceOf: '{audience} receives {kind}', notifyRuleSave: 'Save', notifyRuleSaveOf: 'Save the audience of {kind}', notifyRuleSaved: 'Audience of {kind} saved.',
  notifyRuleReset: 'Reset to default', notifyRuleResetOf: 'Reset the audience of {kind} to the default', notifyConfirmReset: 'Take {kind} back to the rules file\'s or default audience ({audiences})?',
  notifyRuleWasReset: 'Audience of {kind} reset: {audiences}.',
  notifyMailboxSource: { file: 'rules file', administrator: 'administrator' }, notifyNoMailboxes: 'No group has a mailbox.',
  notifyNewMailbox: 'A group\'s mailbox', notifyGroupId: 'Group (id)', notifyMailboxSave: 'Save mailbox', notifyMailboxSaved: 'Mailbox of {group} saved: {address}.',
  notifyMailboxRemove: 'Remove', notifyMailboxRemoveOf: 'Remove the mailbox of group {group}', notifyMailboxRemoved: 'Mailbox of group {group} removed.',
  notifyConfirmMailboxRemove: 'Remove the mailbox {address} of group {group}? The group has no mailbox (not the rules file\'s either) until a new one is saved.',
  notifyChanges: 'Latest edits of the rules', notifyNoChanges: 'No edits: the rules file or the defaults apply.', notifyWho: 'Who', notifyWhat: 'What',
  notifyChangeActions: { audiences: 'audience of', reset: 'default restored for', rule_added: 'rule added to', rule_updated: 'rule edited of',
    rule_removed: 'rule removed from', mailbox: 'mailbox of group', mailbox_removed: 'mailbox removed from group' },
  notifyRuleList: 'Rules of {kind}', notifyRuleEntryRemove: 'Remove', notifyRuleEntryRemoveOf: 'Remove the rule {rule} of {kind}',
  notifyConfirmEntryRemove: 'Remove the rule {rule} of {kind}?', notifyRuleEntryRemoved: 'Rule removed from {kind}.',
  notifyNewRule: 'New rule', notifyNewRuleHelp: 'One more rule for the kind: e-mails go to everyone named by a rule whose filter matches the ticket, one e-mail per person. A kind not yet edited keeps the rules file\'s or the default rules. Fixed addresses read like a transfer\'s copies (no confidential content).',
  notifyRuleAddresses: 'Fixed addresses (comma-separated)', notifyRuleAdd: 'Add rule', notifyRuleAdded: 'Rule added to {kind}.',
  notifyRotate: 'Rotate secret', notifyRotateOf: 'Generate a new secret for webhook {url}',
  notifyConfirmRotate: 'Generate a new secret for {url}? The current one keeps signing beside the new one for 24 hours, so the receiver switches without refusing deliveries.',
  notifyRevoke: 'Revoke secret now', notifyRevokeOf: 'Revoke the secret of webhook {url} at once (leaked)',
  notifyConfirmRevoke: 'Generate a new secret for {url} and revoke the current one at once? Use it when it leaked: the receiver refuses deliveries until it has the new one.',
  notifyPreviousUntil: 'the previous secret also signs until {when}',
  notifyRotated: 'New secret of webhook {url}. Copy it now: it will not be shown again.',
  notifyEdit: 'Edit', notifyEditOf: 'Edit webhook {url}', notifyEditTitle: 'Edit webhook {url}', notifySaveWebhook: 'Save webhook',
  notifyEditHelp: 'Everything is saved as the form holds it. Deliveries not yet delivered (queued, waiting for a retry or dead) go to the new address; delivered ones keep the address they went to. The secret does not change.',
  notifyWebhookUpdated: 'Webhook {url} updated.', notifyCancel: 'Cancel',
  notifyAudiences: 'Audience', notifyNobody: '(nobody by e-mail)', notifyMailboxes: 'Groups\' mailboxes (when a group holds the ticket without an agent)', notifyGroup: 'Group',
  notifyAudienceNames: { customer: 'customer (contact)', holder: 'holder (agent or the group\'s mailbox)', chefe: 'the holder\'s supervisor', copies: 'the transfer\'s copies' },
  notifySubscriptions: 'Subscriptions', notifySubscriptionsIntro: 'Each person (e-mail or id) may stop, or start again, receiving a kind of event (* = all; the kind\'s entry wins over *). With no entry they receive what the rules give them. With a filter (Only for tickets), the entry splits the tickets: Receives Yes = only those matching the filter; Receives No = all but those.',
  notifyRemoveSwitch: 'Delete', notifyRemoveSwitchOf: 'Delete the {kind} entry of {person}', notifySwitchRemoved: 'Entry deleted: {person} · {kind}.',
  notifyPerson: 'Person (e-mail or id)', notifyShowPerson: 'Show', notifyNoSwitches: 'No entries: this person receives every notice the rules give them.',
  notifyReceives: 'Receives', notifyYes: 'Yes', notifyNo: 'No', notifySwitchOff: 'Switch off', notifySwitchOn: 'Switch on',
  notifyEditSwitch: 'Edit', notifyEditSwitchOf: 'Edit the {kind} entry of {person}', notifyEditSwitchTitle: 'Change the {kind} entry of {person}',
  notifySwitchOf: '{action} {kind} for {person}', notifySetSwitch: 'Save', notifyNewSwitch: 'New entry', notifySwitchSaved: 'Entry saved: {person} · {kind}.',
  notifyLog: 'Delivery log', notifyStats: 'Deliveries by state', notifyResends: 'resends after an interruption',
  notifyRetryDead: 'Queue the dead ones again', notifyRetried: '{count} deliveries queued again.', notifyDead: 'Dead deliveries',
  notifyNoDead: 'No dead deliveries.', notifyRetryOne: 'Queue again', notifyRetryOf: 'Queue delivery {id} again',
  notifySuppressions: 'Suppressed addresses', notifySuppressionsIntro: 'The service sends no e-mail to these addresses (a permanent bounce or an administrator\'s decision).',
  notifyNoSuppressions: 'No suppressed addresses.', notifyReason: 'Reason', notifyNote: 'Note', notifyLift: 'Remove from the list',
  notifyLiftOf: 'Remove {address} from the list', notifyConfirmLift: 'Send e-mails to {address} again?', notifyLifted: '{address} left the list.',
  notifyAddress: 'Address', notifySuppress: 'Suppress', notifySuppressed: '{address} suppressed.',
  notifyStates: { queued: 'queued', sending: 'sending', sent: 'delivered', failed: 'failed', dead: 'dead', discarded: 'discarded', bounced: 'bounced' },
  notifyReasons: { bounce: 'bounce', manual: 'administrator' },
});

// Which tickets a rule or a webhook applies to (its filter).
Object.assign(TEXT['pt-BR'], {
  notifyFilter: 'Só para as ocorrências', notifyEveryTicket: 'Todas as ocorrências',
  notifyFilterHelp: 'Vazio: qualquer valor. Valores de campos diferentes precisam todos bater (E); dentro de um campo, basta um (OU). Produtos, módulos e organizações separados por vírgula.',
  notifyFilterCategories: 'Categorias', notifyFilterPriorities: 'Prioridades', notifyFilterProducts: 'Produtos', notifyFilterModules: 'Módulos',
  notifyFilterOrganizations: 'Organizações (id)', notifyFilterOf: 'Filtro de {kind}',
});
Object.assign(TEXT.en, {
  notifyFilter: 'Only for tickets', notifyEveryTicket: 'Every ticket',
  notifyFilterHelp: 'Empty: any value. Values of different fields must all match (AND); within a field, one is enough (OR). Products, modules and organizations separated by commas.',
  notifyFilterCategories: 'Categories', notifyFilterPriorities: 'Priorities', notifyFilterProducts: 'Products', notifyFilterModules: 'Modules',
  notifyFilterOrganizations: 'Organizations (id)', notifyFilterOf: 'Filter of {kind}',
});

// The event kinds notification plans (docs/NOTIFICATION.md, "Events in"): webhooks and
// subscriptions name them; each has an e-mail template. NOTIFY_TEMPLATE_KINDS adds the templates
// of e-mails sent on demand (no event).
const NOTIFY_EVENT_KINDS = {
  TicketOpened: ['Ocorrência aberta', 'Ticket opened'], TicketRouted: ['Ocorrência na fila', 'Ticket routed'],
  CustomerReplied: ['Resposta do cliente', 'Customer replied'], TicketCancelledByCustomer: ['Cancelada pelo cliente', 'Cancelled by the customer'],
  InformationRequested: ['Informações pedidas', 'Information requested'], InactivityReminder: ['Lembrete de inatividade', 'Inactivity reminder'],
  SolutionGiven: ['Solução dada', 'Solution given'], TicketFinished: ['Ocorrência encerrada', 'Ticket finished'],
  Transferred: ['Repasse', 'Transferred'], StageChanged: ['Mudança de etapa', 'Stage changed'], DiscussionAdded: ['Entrada na discussão', 'Discussion entry'],
  SLAWarning: ['Alerta de SLA', 'SLA warning'], SLABreached: ['SLA estourado', 'SLA breached'], SurveyAnswered: ['Pesquisa respondida', 'Survey answered'],
};
const NOTIFY_TEMPLATE_KINDS = Object.assign({}, NOTIFY_EVENT_KINDS, {
  // What a transfer's copies read (the holder reads Transferred's).
  TransferredCopy: ['Repasse (cópias)', 'Transferred (copies)'],
  TicketEmail: ['E-mail avulso sobre a ocorrência', 'E-mail about a ticket'], Invitation: ['Convite', 'Invitation'],
  StaffInvitation: ['Convite da equipe', 'Staff invitation'], RepresentativeInvitation: ['Convite de representante', 'Representative invitation'],
  PasswordReset: ['Redefinição de senha', 'Password reset'],
  InvitationNotice: ['Aviso de convite a quem já tem conta', 'Notice of an invitation to an existing account'],
});
const notifyKindName = (kind) => (kind === '*' ? t('notifyAllEvents') : label(NOTIFY_TEMPLATE_KINDS, kind));
const notifyStateName = (state) => t('notifyStates')[state] || state;
const notifyStateBadge = (state) => el('span', { class: `badge notify-state notify-${state}`, 'data-state': state, text: notifyStateName(state) });

// The page, drawn again after each change with `notice` (and a new webhook's secret, once).
// `person` is the person whose subscriptions are shown (`?pessoa=` in the address).
async function notifyPage(person, notice, secret) {
  show(el('p', { text: t('loading') }));
  let webhooks, rules, stats, dead, suppressions, switches, groups, organizations;
  try {
    [webhooks, rules, stats, dead, suppressions, switches, groups, organizations] = await Promise.all([api('GET', '/v1/webhooks'), api('GET', '/v1/notification-rules'),
      api('GET', '/v1/deliveries/stats'),
      api('GET', '/v1/deliveries?state=dead&limit=100'), api('GET', '/v1/email-suppressions?limit=200'),
      person ? api('GET', '/v1/subscriptions?person=' + encodeURIComponent(person)) : Promise.resolve({}),
      // Group names for the mailboxes (workflow's; the page works without them).
      api('GET', '/v1/groups?include_inactive=true').catch(() => ({})),
      // Organizations offered (and named) in the filters (intake's; the page works without them).
      api('GET', '/v1/organizations?page_size=200').catch(() => ({}))]);
  } catch (error) { show(el('h1', { text: t('notifyTitle') }), errorBox(error)); return; }
  // Each webhook's ten most recent deliveries (its recipient is "webhook:<id>").
  const hooks = webhooks.webhooks || [];
  const deliveries = await Promise.all(hooks.map((hook) => api('GET', `/v1/deliveries?recipient=${encodeURIComponent('webhook:' + hook.id)}&limit=10&newest_first=true`)
    .then((answer) => answer.deliveries || []).catch(() => [])));
  const status = el('div', { id: 'notify-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  if (secret) status.append(el('label', {}, t('notifySecretOnce'), el('input', { id: 'notify-new-secret', readonly: true, value: secret, onfocus: (e) => e.target.select() })));
  // A change made for another person shows that person's switches next (the address follows
  // without drawing the page twice).
  const redraw = (done, newSecret, who) => {
    if (who !== undefined && who !== person) history.replaceState(null, '', '#/notificacoes?pessoa=' + encodeURIComponent(who));
    notifyPage(who === undefined ? person : who, done, newSecret);
  };
  show(el('h1', { text: t('notifyTitle') }), el('p', { class: 'muted', text: t('notifyIntro') }), status,
    ...notifyWebhooksSection(hooks, deliveries, organizations.organizations || [], redraw), ...notifyTemplatesSection(),
    ...notifyRulesSection(rules, groups.groups || [], organizations.organizations || [], redraw), ...notifySubscriptionsSection(person, switches.subscriptions || [], organizations.organizations || [], redraw), ...notifyLogSection(stats, dead.deliveries || [], suppressions.suppressions || [], redraw));
}


// A table of deliveries with a button sending again the failed, dead or bounced ones.
function notifyDeliveriesTable(id, rows, change, withRecipient) {
  const replayable = ['failed', 'dead', 'bounced'];
  return rowsTable(id, [t('notifyWhen'), t('notifyEvent')].concat(withRecipient ? [t('notifyRecipient')] : [])
    .concat([t('state'), t('notifyAttempts'), t('notifyAnswer'), t('actions')]),
  rows.map((delivery) => el('tr', { 'data-delivery': delivery.id },
    el('td', { text: when(delivery.sent_at_ms || delivery.created_at_ms) }), el('td', { text: notifyKindName(delivery.event_kind) }),
    withRecipient ? el('td', { text: delivery.recipient }) : null,
    el('td', {}, notifyStateBadge(delivery.state)), el('td', { text: String(delivery.attempts || 0) }),
    el('td', { class: 'notify-answer', text: (delivery.server_answer || '').slice(0, 120) }),
    el('td', {}, replayable.includes(delivery.state) ? el('button', { type: 'button', class: 'link notify-replay', text: t('notifyReplay'),
      'aria-label': tf('notifyReplayOf', { id: delivery.id }),
      onclick: () => change(() => api('POST', `/v1/deliveries/${encodeURIComponent(delivery.id)}/replay`), () => tf('notifyReplayed', { id: delivery.id })) }) : null))),
  `${id}-empty`, t('notifyNoDeliveries'));
}

// A filter's fields (the API's TicketFilter): categories and priorities ticked, products,
// modules and organizations typed, comma-separated (organizations offered from intake's list).
// `prefix` names the fieldset and its controls; `filter` fills them.
function notifyFilterFields(prefix, filter, organizations) {
  const chosen = filter || {};
  const checks = (list, table) => el('div', { class: 'row', role: 'group', 'aria-label': t(list === 'categories' ? 'notifyFilterCategories' : 'notifyFilterPriorities') },
    Object.keys(table).map((value) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: list, value, id: `${prefix}-${list}-${value}`, checked: (chosen[list] || []).includes(value) }), label(table, value))));
  const typed = (name, text, list) => el('label', {}, t(text), el('input', { name, id: `${prefix}-${name}`, value: (chosen[name] || []).join(', '),
    autocomplete: 'off', maxlength: 2000, list }));
  return el('fieldset', { class: 'notify-filter', id: prefix }, el('legend', { text: t('notifyFilter') }),
    el('p', { class: 'muted', text: t('notifyFilterHelp') }),
    el('p', { class: 'notify-filter-label', text: t('notifyFilterCategories') }), checks('categories', CATEGORIES),
    el('p', { class: 'notify-filter-label', text: t('notifyFilterPriorities') }), checks('priorities', PRIORITIES),
    typed('products', 'notifyFilterProducts'), typed('modules', 'notifyFilterModules'),
    typed('organization_ids', 'notifyFilterOrganizations', `${prefix}-organization-list`),
    el('datalist', { id: `${prefix}-organization-list` }, organizations.map((organization) => el('option', { value: organization.id, label: organization.name || organization.id }))));
}

// The filter a fieldset of notifyFilterFields holds; undefined when it holds none (every ticket).
function notifyFilterRead(fieldset) {
  const filter = {};
  for (const list of ['categories', 'priorities']) {
    const values = Array.from(fieldset.querySelectorAll(`input[name=${list}]:checked`), (box) => box.value);
    if (values.length) filter[list] = values;
  }
  for (const name of ['products', 'modules', 'organization_ids']) {
    const values = fieldset.querySelector(`input[name=${name}]`).value.split(',').map((value) => value.trim()).filter(Boolean);
    if (values.length) filter[name] = values;
  }
  return Object.keys(filter).length ? filter : undefined;
}

// Puts `filter` (the API's TicketFilter; undefined: every ticket) into a fieldset of
// notifyFilterFields, replacing what it held: an entry's filter brought into a form to edit it.
function notifyFilterFill(fieldset, filter) {
  const f = filter || {};
  for (const list of ['categories', 'priorities']) {
    fieldset.querySelectorAll(`input[name=${list}]`).forEach((box) => { box.checked = (f[list] || []).includes(box.value); });
  }
  for (const name of ['products', 'modules', 'organization_ids']) fieldset.querySelector(`input[name=${name}]`).value = (f[name] || []).join(', ');
}

// A filter as people read it ("Prioridades: Urgente · Organizações: Acme"), or "Todas as ocorrências".
function notifyFilterText(filter, organizations) {
  const f = filter || {};
  const organizationName = (id) => { const found = organizations.find((entry) => entry.id === id); return found && found.name ? found.name : id; };
  const parts = [['notifyFilterCategories', (f.categories || []).map((value) => label(CATEGORIES, value))],
    ['notifyFilterPriorities', (f.priorities || []).map((value) => label(PRIORITIES, value))],
    ['notifyFilterProducts', f.products || []], ['notifyFilterModules', f.modules || []],
    ['notifyFilterOrganizations', (f.organization_ids || []).map(organizationName)]]
    .filter(([, values]) => values.length).map(([key, values]) => `${t(key)}: ${values.join(', ')}`);
  return parts.join(' · ') || t('notifyEveryTicket');
}

// A webhook's fields, for the form registering one and the one editing it: its URL, events,
// level, internal entries and filter, filled from `hook` when editing. `ids` names the controls
// (the registration form keeps the ids it always had).
function notifyWebhookFields(ids, hook, organizations) {
  const chosen = (hook && hook.event_kinds) || [];
  const events = el('fieldset', { id: ids.events }, el('legend', { text: t('notifyEvents') }), el('div', { class: 'grid-fields' },
    ['*'].concat(Object.keys(NOTIFY_EVENT_KINDS)).map((kind) => el('label', { class: 'row' },
      el('input', { type: 'checkbox', name: 'event_kinds', value: kind, id: `${ids.event}-${kind === '*' ? 'all' : kind}`, checked: chosen.includes(kind) }),
      notifyKindName(kind)))));
  const filter = notifyFilterFields(ids.filter, hook && hook.filter, organizations);
  return { filter, nodes: [
    el('label', {}, t('notifyUrl'), el('input', { name: 'url', id: ids.url, required: true, maxlength: 2000, autocomplete: 'off', inputmode: 'url',
      value: (hook && hook.url) || '' })),
    events,
    el('label', {}, t('accessLevel'), el('input', { type: 'number', name: 'access_level', id: ids.level, min: 0, max: 99,
      value: (hook && hook.access_level) || 0, required: true })),
    el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'internal_entries', id: ids.internal, checked: !!(hook && hook.internal_entries) }),
      t('notifyInternal')),
    filter] };
}

// What a form of notifyWebhookFields holds, as the API takes it.
function notifyWebhookRead(form, filter) {
  const fields = form.elements;
  return { url: fields.url.value.trim(), access_level: Number(fields.access_level.value), internal_entries: fields.internal_entries.checked,
    event_kinds: Array.from(form.querySelectorAll('input[name=event_kinds]:checked'), (box) => box.value), filter: notifyFilterRead(filter) };
}

// The form editing a webhook (POST /v1/webhooks/{id}), in a row of its own under the webhook's,
// built when Editar is pressed; the service checks it (its reason shown in the form).
function notifyWebhookEditRow(hook, index, organizations, redraw) {
  const box = el('div', { id: `notify-edit-status-${index}`, role: 'status' });
  const change = changeThen(box, redraw);
  const fields = notifyWebhookFields({ events: `notify-edit-events-${index}`, event: `notify-edit-event-${index}`, filter: `notify-edit-filter-${index}`,
    url: `notify-edit-url-${index}`, level: `notify-edit-level-${index}`, internal: `notify-edit-internal-${index}` }, hook, organizations);
  const row = el('tr', { class: 'notify-edit-row', id: `notify-edit-row-${index}` });
  const form = el('form', { id: `notify-edit-${index}`, class: 'notify-webhook-edit', novalidate: true, 'aria-labelledby': `notify-edit-title-${index}` },
    el('h3', { id: `notify-edit-title-${index}`, text: tf('notifyEditTitle', { url: hook.url }) }),
    el('p', { class: 'muted', text: t('notifyEditHelp') }), ...fields.nodes,
    el('div', { class: 'row' }, el('button', { type: 'submit', id: `notify-edit-submit-${index}`, text: t('notifySaveWebhook') }),
      el('button', { type: 'button', class: 'secondary', id: `notify-edit-cancel-${index}`, text: t('notifyCancel'), onclick: () => row.remove() })), box);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = notifyWebhookRead(form, fields.filter);
    change(() => api('POST', `/v1/webhooks/${encodeURIComponent(hook.id)}`, body), () => tf('notifyWebhookUpdated', { url: body.url }), form);
  });
  row.append(el('td', { colspan: 6 }, form));
  return row;
}

// Webhooks: the active ones with their last delivery, their recent deliveries on request, a
// form editing one, buttons rotating its secret and deactivating it, and the form registering one.
function notifyWebhooksSection(hooks, deliveries, organizations, redraw) {
  const box = el('div', { id: 'notify-webhook-status', role: 'status' });
  const change = changeThen(box, redraw);
  const rows = hooks.map((hook, index) => {
    const recent = deliveries[index];
    const last = recent[0];
    // The recent deliveries: a row of their own under the webhook's, shown on request.
    const list = el('tr', { class: 'notify-deliveries-row', id: `notify-deliveries-row-${index}`, hidden: true },
      el('td', { colspan: 6 }, el('div', { class: 'notify-deliveries' }, el('h3', { text: tf('notifyDeliveriesOf', { url: hook.url }) }),
        notifyDeliveriesTable(`notify-deliveries-${index}`, recent, change, false))));
    const toggle = el('button', { type: 'button', class: 'link notify-show-deliveries', 'aria-expanded': 'false', 'aria-controls': list.id,
      text: t('notifyShowDeliveries'), onclick: () => { list.hidden = !list.hidden; toggle.setAttribute('aria-expanded', String(!list.hidden)); } });
    // Editar: the edit form under the row (one at a time per webhook), its URL focused.
    const edit = el('button', { type: 'button', class: 'link notify-edit', text: t('notifyEdit'), 'aria-label': tf('notifyEditOf', { url: hook.url }),
      onclick: (event) => {
        const open = document.getElementById(`notify-edit-row-${index}`);
        if (open) { open.querySelector('input[name=url]').focus(); return; }
        event.target.closest('tr').after(notifyWebhookEditRow(hook, index, organizations, redraw));
        document.getElementById(`notify-edit-url-${index}`).focus();
      } });
    return [el('tr', { 'data-webhook': hook.id },
      el('td', {}, el('span', { class: 'notify-url', text: hook.url }), Number(hook.previous_secret_until_ms || 0) > Date.now()
        ? el('div', { class: 'muted notify-previous-secret', text: tf('notifyPreviousUntil', { when: when(Number(hook.previous_secret_until_ms)) }) }) : null), el('td', {}, (hook.event_kinds || []).map(notifyKindName).join(', '),
        el('div', { class: 'muted notify-filter-text', text: notifyFilterText(hook.filter, organizations) })),
      el('td', { text: String(hook.access_level || 0) }), el('td', { text: hook.internal_entries ? t('notifyYes') : t('notifyNo') }),
      el('td', { class: 'notify-last' }, last ? [notifyStateBadge(last.state), ' ', when(last.sent_at_ms || last.created_at_ms)] : t('notifyNever')),
      el('td', { class: 'actions' }, toggle, ' ', edit, ' ', el('button', { type: 'button', class: 'link notify-rotate', text: t('notifyRotate'),
        'aria-label': tf('notifyRotateOf', { url: hook.url }), onclick: () => {
          if (!confirm(tf('notifyConfirmRotate', { url: hook.url }))) return;
          change(() => api('POST', `/v1/webhooks/${encodeURIComponent(hook.id)}/secret`, {}), (answer) => [tf('notifyRotated', { url: hook.url }), answer.secret]);
        } }), ' ', el('button', { type: 'button', class: 'link notify-revoke', text: t('notifyRevoke'),
        'aria-label': tf('notifyRevokeOf', { url: hook.url }), onclick: () => {
          if (!confirm(tf('notifyConfirmRevoke', { url: hook.url }))) return;
          change(() => api('POST', `/v1/webhooks/${encodeURIComponent(hook.id)}/secret`, { immediately: true }),
            (answer) => [tf('notifyRotated', { url: hook.url }), answer.secret]);
        } }), ' ', el('button', { type: 'button', class: 'link notify-deactivate', text: t('notifyDeactivate'),
        'aria-label': tf('notifyDeactivateOf', { url: hook.url }), onclick: () => {
          if (!confirm(tf('notifyConfirmDeactivate', { url: hook.url }))) return;
          change(() => api('DELETE', `/v1/webhooks/${encodeURIComponent(hook.id)}`), () => tf('notifyDeactivated', { url: hook.url }));
        } }))), list];
  });
  const table = rowsTable('notify-webhooks', [t('notifyUrl'), t('notifyEvents'), t('accessLevel'), t('notifyInternal'), t('notifyLastDelivery'), t('actions')],
    rows.flat(), 'notify-webhooks-empty', t('notifyNoWebhooks'));
  const fields = notifyWebhookFields({ events: 'notify-webhook-events', event: 'notify-event', filter: 'notify-webhook-filter', url: 'notify-webhook-url',
    level: 'notify-webhook-level', internal: 'notify-webhook-internal' }, null, organizations);
  const form = el('form', { id: 'notify-webhook-form', 'aria-labelledby': 'notify-webhook-title' }, ...fields.nodes,
    el('label', {}, t('notifySecret'), el('input', { name: 'secret', id: 'notify-webhook-secret', autocomplete: 'off', maxlength: 200 })),
    el('button', { type: 'submit', id: 'notify-webhook-submit', text: t('notifyRegister') }), box);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = Object.assign(notifyWebhookRead(form, fields.filter), { secret: form.elements.secret.value });
    change(() => api('POST', '/v1/webhooks', body), (answer) => (answer.secret
      ? [tf('notifyWebhookCreatedSecret', { url: body.url }), answer.secret] : tf('notifyWebhookCreated', { url: body.url })), form);
  });
  return [el('h2', { id: 'notify-webhooks-title', text: t('notifyWebhooks') }), el('p', { class: 'muted', text: t('notifyWebhooksIntro') }), table,
    el('h3', { id: 'notify-webhook-title', text: t('notifyNewWebhook') }), form];
}

// E-mail templates: a kind and a language chosen, its subject, text and HTML loaded into the
// form with the kind's placeholders; saving stores an override (or shows why it was refused).
function notifyTemplatesSection() {
  const box = el('div', { id: 'notify-template-status', role: 'status' });
  const kind = el('select', { name: 'event_kind', id: 'notify-template-kind' },
    Object.keys(NOTIFY_TEMPLATE_KINDS).map((key) => el('option', { value: key, text: `${notifyKindName(key)} (${key})` })));
  const locale = el('select', { name: 'locale', id: 'notify-template-locale' },
    el('option', { value: 'pt-BR', text: 'Português (pt-BR)' }), el('option', { value: 'en', text: 'English (en)' }));
  const subject = el('input', { name: 'subject', id: 'notify-template-subject', required: true, maxlength: 500, autocomplete: 'off' });
  const text = el('textarea', { name: 'text', id: 'notify-template-text', required: true });
  const html = el('textarea', { name: 'html', id: 'notify-template-html' });
  const origin = el('p', { class: 'muted', id: 'notify-template-origin' });
  const placeholders = el('p', { id: 'notify-placeholders', class: 'row', 'aria-labelledby': 'notify-placeholders-title' });
  const load = async () => {
    box.replaceChildren();
    try {
      const answer = await api('GET', `/v1/templates/${encodeURIComponent(kind.value)}?locale=${encodeURIComponent(locale.value)}`);
      const template = answer.message_template || {};
      subject.value = template.subject || '';
      text.value = template.text || '';
      html.value = template.html || '';
      origin.textContent = t(template.customized ? 'notifyCustomized' : 'notifyBuiltIn');
      placeholders.replaceChildren(...(template.placeholders || []).map((name) => el('code', { text: `{{${name}}}` })));
    } catch (error) { box.replaceChildren(errorBox(error)); }
  };
  kind.addEventListener('change', load);
  locale.addEventListener('change', load);
  const form = el('form', { id: 'notify-template-form', 'aria-labelledby': 'notify-templates-title' },
    el('div', { class: 'row' }, el('label', {}, t('notifyKind'), kind), el('label', {}, t('notifyLanguage'), locale)), origin,
    el('div', {}, el('p', { id: 'notify-placeholders-title', class: 'muted', text: t('notifyPlaceholders') }), placeholders),
    el('label', {}, t('notifySubject'), subject), el('label', {}, t('notifyText'), text), el('label', {}, t('notifyHtml'), html),
    el('button', { type: 'submit', id: 'notify-template-submit', text: t('notifySaveTemplate') }), box);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const template = { event_kind: kind.value, locale: locale.value, subject: subject.value, text: text.value, html: html.value };
    try {
      await api('POST', '/v1/templates', { message_template: template });
      origin.textContent = t('notifyCustomized');
      box.replaceChildren(el('p', { class: 'ok', text: tf('notifyTemplateSaved', { kind: kind.value, locale: locale.value }) }));
    } catch (error) { formRefused(form, box, error); }
  });
  load();
  return [el('h2', { id: 'notify-templates-title', text: t('notifyTemplates') }), el('p', { class: 'muted', text: t('notifyTemplatesIntro') }), form];
}

const NOTIFY_AUDIENCES = ['customer', 'holder', 'chefe', 'copies'];
const notifyAudienceList = (audiences) => (audiences || []).map((audience) => t('notifyAudienceNames')[audience] || audience).join(', ') || t('notifyNobody');

// Who hears of each event: per kind a checkbox per audience, saved or reset to the rules file's
// (or the default) audiences; the groups' mailboxes set or removed; the last edits.
function notifyRulesSection(rules, groups, organizations, redraw) {
  const box = el('div', { id: 'notify-audience-status', role: 'status' });
  const change = changeThen(box, redraw);
  const names = t('notifyAudienceNames');
  const rows = (rules.rules || []).map((rule) => {
    const kind = notifyKindName(rule.event_kind);
    const boxes = NOTIFY_AUDIENCES.map((audience) => el('label', { class: 'check', title: names[audience] },
      el('input', { type: 'checkbox', name: 'audiences', value: audience, id: `notify-audience-${rule.event_kind}-${audience}`,
        checked: (rule.audiences || []).includes(audience), 'aria-label': tf('notifyAudienceOf', { audience: names[audience], kind }) }),
      t('notifyAudienceShort')[audience]));
    // The tickets the kind's audiences apply to: the filter's text, its fields on request.
    const filterFields = notifyFilterFields(`notify-filter-${rule.event_kind}`, rule.filter, organizations);
    const filter = el('details', { class: 'notify-rule-filter', 'aria-label': tf('notifyFilterOf', { kind }) },
      el('summary', { class: 'notify-filter-text', text: notifyFilterText(rule.filter, organizations) }), filterFields);
    const save = () => {
      const audiences = NOTIFY_AUDIENCES.filter((audience, index) => boxes[index].querySelector('input').checked);
      change(() => api('POST', `/v1/notification-rules/${encodeURIComponent(rule.event_kind)}`, { audiences, filter: notifyFilterRead(filterFields) }),
        () => tf('notifyRuleSaved', { kind }));
    };
    const reset = () => {
      const audiences = notifyAudienceList(rule.default_audiences);
      if (!confirm(tf('notifyConfirmReset', { kind, audiences }))) return;
      change(() => api('DELETE', `/v1/notification-rules/${encodeURIComponent(rule.event_kind)}`), () => tf('notifyRuleWasReset', { kind, audiences }));
    };
    // Several rules (or fixed addresses): each listed with its filter, removed one by one; the
    // checkboxes would save the kind as one rule, so they are not offered (Nova regra adds one).
    const entries = rule.entries || [];
    const listed = entries.length > 1 || entries.some((entry) => (entry.addresses || []).length);
    if (listed) {
      const items = entries.map((entry) => {
        const text = notifyEntryText(entry);
        return el('li', { class: 'notify-rule-entry', 'data-entry': entry.id || '' },
          el('span', { text }), ' — ', el('span', { class: 'muted', text: notifyFilterText(entry.filter, organizations) }),
          rule.customized && entry.id ? [' ', el('button', { type: 'button', class: 'link notify-rule-entry-remove',
            text: t('notifyRuleEntryRemove'), 'aria-label': tf('notifyRuleEntryRemoveOf', { rule: text, kind }), onclick: () => {
              if (!confirm(tf('notifyConfirmEntryRemove', { rule: text, kind }))) return;
              change(() => api('DELETE', `/v1/notification-rules/${encodeURIComponent(rule.event_kind)}/entries/${encodeURIComponent(entry.id)}`),
                () => tf('notifyRuleEntryRemoved', { kind }));
            } })] : null);
      });
      return el('tr', { 'data-kind': rule.event_kind, 'data-customized': rule.customized ? 'true' : 'false', 'data-rules': String(entries.length) },
        el('th', { scope: 'row', text: kind }),
        el('td', { colspan: 2 }, el('ul', { class: 'notify-rule-entries', 'aria-label': tf('notifyRuleList', { kind }) }, items)),
        el('td', { class: 'notify-rule-origin' }, rule.customized ? tf('notifyRuleEdited', { who: rule.updated_by || '?', when: when(rule.updated_at_ms) }) : t('notifyRuleDefault')),
        el('td', { class: 'actions' }, rule.customized ? el('button', { type: 'button', class: 'link notify-rule-reset', id: `notify-rule-reset-${rule.event_kind}`,
          text: t('notifyRuleReset'), 'aria-label': tf('notifyRuleResetOf', { kind }), onclick: reset }) : null));
    }
    return el('tr', { 'data-kind': rule.event_kind, 'data-customized': rule.customized ? 'true' : 'false' },
      el('th', { scope: 'row', text: kind }),
      el('td', {}, el('div', { class: 'row notify-audiences', role: 'group', 'aria-label': kind }, boxes)),
      el('td', {}, filter),
      el('td', { class: 'notify-rule-origin' }, rule.customized
        ? [tf('notifyRuleEdited', { who: rule.updated_by || '?', when: when(rule.updated_at_ms) }), el('br'),
          el('span', { class: 'muted', text: tf('notifyDefaultIs', { audiences: notifyAudienceList(rule.default_audiences) }) })]
        : t('notifyRuleDefault')),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'link notify-rule-save', id: `notify-rule-save-${rule.event_kind}`,
        text: t('notifyRuleSave'), 'aria-label': tf('notifyRuleSaveOf', { kind }), onclick: save }),
      rule.customized ? [' ', el('button', { type: 'button', class: 'link notify-rule-reset', id: `notify-rule-reset-${rule.event_kind}`,
        text: t('notifyRuleReset'), 'aria-label': tf('notifyRuleResetOf', { kind }), onclick: reset })] : null));
  });
  return [el('h2', { id: 'notify-rules-title', text: t('notifyRules') }), el('p', { class: 'muted', text: t('notifyRulesIntro') }),
    el('p', { class: 'muted', id: 'notify-audience-legend', text: t('notifyAudienceLegend') }),
    rowsTable('notify-rules', [t('notifyEvent'), t('notifyAudiences'), t('notifyFilter'), t('notifyRuleOrigin'), t('actions')], rows, 'notify-rules-empty', t('notifyNobody')), box,
    ...notifyNewRulePart(rules.rules || [], organizations, change),
    ...notifyMailboxesPart(rules.group_mailboxes || [], groups, redraw), ...notifyRuleChangesPart(rules.recent_changes || [])];
}

// A rule as people read it: its audiences and fixed addresses.
const notifyEntryText = (entry) => [...(entry.audiences || []).map((audience) => t('notifyAudienceShort')[audience] || audience),
  ...(entry.addresses || [])].join(', ') || t('notifyNobody');

// One more rule for a kind (POST …/entries): audiences, fixed addresses and a filter; the
// service checks them (its reason shown next to the form).
function notifyNewRulePart(rules, organizations, change) {
  const names = t('notifyAudienceNames');
  const filterFields = notifyFilterFields('notify-new-rule-filter', undefined, organizations);
  const form = el('form', { id: 'notify-new-rule-form', novalidate: true, 'aria-labelledby': 'notify-new-rule-title' },
    el('p', { class: 'muted', text: t('notifyNewRuleHelp') }),
    el('label', {}, t('notifyKind'), el('select', { name: 'event_kind', id: 'notify-new-rule-kind' },
      rules.map((rule) => el('option', { value: rule.event_kind, text: notifyKindName(rule.event_kind) })))),
    el('div', { class: 'row notify-audiences', role: 'group', 'aria-label': t('notifyAudiences') }, NOTIFY_AUDIENCES.map((audience) =>
      el('label', { class: 'check', title: names[audience] }, el('input', { type: 'checkbox', name: 'audiences', value: audience,
        id: `notify-new-rule-${audience}` }), t('notifyAudienceShort')[audience]))),
    el('label', {}, t('notifyRuleAddresses'), el('input', { name: 'addresses', id: 'notify-new-rule-addresses', autocomplete: 'off', maxlength: 4000 })),
    filterFields,
    el('button', { type: 'submit', class: 'secondary', id: 'notify-new-rule-submit', text: t('notifyRuleAdd') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const kind = form.elements.event_kind.value;
    const audiences = Array.from(form.querySelectorAll('input[name=audiences]:checked'), (box) => box.value);
    const addresses = form.elements.addresses.value.split(',').map((value) => value.trim()).filter(Boolean);
    change(() => api('POST', `/v1/notification-rules/${encodeURIComponent(kind)}/entries`, { entry: { audiences, addresses, filter: notifyFilterRead(filterFields) } }),
      () => tf('notifyRuleAdded', { kind: notifyKindName(kind) }), form);
  });
  return [el('h3', { id: 'notify-new-rule-title', text: t('notifyNewRule') }), form];
}

// The groups' mailboxes (a group holding a ticket without an agent hears of it there): listed
// with where each comes from, removed after a confirmation, one set with the form.
function notifyMailboxesPart(mailboxes, groups, redraw) {
  const box = el('div', { id: 'notify-mailbox-status', role: 'status' });
  const change = changeThen(box, redraw);
  const groupName = (id) => { const group = groups.find((entry) => entry.id === id); return group && group.name ? `${group.name} (${id})` : id; };
  const rows = mailboxes.map((mailbox) => el('tr', { 'data-group': mailbox.group_id },
    el('td', { text: groupName(mailbox.group_id) }), el('td', { class: 'notify-mailbox-address', text: mailbox.address }),
    el('td', { class: 'notify-mailbox-source', text: (t('notifyMailboxSource')[mailbox.source] || mailbox.source)
      + (mailbox.updated_by ? ' · ' + tf('notifyRuleEdited', { who: mailbox.updated_by, when: when(mailbox.updated_at_ms) }) : '') }),
    el('td', {}, el('button', { type: 'button', class: 'link notify-mailbox-remove', text: t('notifyMailboxRemove'),
      'aria-label': tf('notifyMailboxRemoveOf', { group: groupName(mailbox.group_id) }), onclick: () => {
        if (!confirm(tf('notifyConfirmMailboxRemove', { address: mailbox.address, group: groupName(mailbox.group_id) }))) return;
        change(() => api('DELETE', `/v1/group-mailboxes/${encodeURIComponent(mailbox.group_id)}`), () => tf('notifyMailboxRemoved', { group: groupName(mailbox.group_id) }));
      } }))));
  // The service checks the address (its reason shown next to the form), not the browser.
  const form = el('form', { id: 'notify-mailbox-form', class: 'row', novalidate: true, 'aria-labelledby': 'notify-mailbox-title' },
    el('label', {}, t('notifyGroupId'), el('input', { name: 'group_id', id: 'notify-mailbox-group', required: true, maxlength: 200, autocomplete: 'off', list: 'notify-group-list' })),
    el('datalist', { id: 'notify-group-list' }, groups.map((group) => el('option', { value: group.id, label: group.name || group.id }))),
    el('label', {}, t('notifyAddress'), el('input', { type: 'email', name: 'address', id: 'notify-mailbox-address', required: true, maxlength: 254, autocomplete: 'off' })),
    el('button', { type: 'submit', class: 'secondary', id: 'notify-mailbox-submit', text: t('notifyMailboxSave') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const group = form.elements.group_id.value.trim();
    const address = form.elements.address.value.trim();
    change(() => api('POST', `/v1/group-mailboxes/${encodeURIComponent(group)}`, { address }), () => tf('notifyMailboxSaved', { group: groupName(group), address }), form);
  });
  return [el('h3', { id: 'notify-mailboxes-title', text: t('notifyMailboxes') }),
    rowsTable('notify-mailboxes', [t('notifyGroup'), t('notifyAddress'), t('notifyRuleOrigin'), t('actions')], rows, 'notify-mailboxes-empty', t('notifyNoMailboxes')),
    el('h4', { id: 'notify-mailbox-title', text: t('notifyNewMailbox') }), form, box];
}

// The last edits of the rules (who, when, what), newest first.
function notifyRuleChangesPart(changes) {
  const actions = t('notifyChangeActions');
  const rows = changes.map((change) => el('tr', {},
    el('td', { text: when(change.changed_at_ms) }), el('td', { text: change.changed_by }),
    el('td', { text: [actions[change.action] || change.action, change.action.startsWith('mailbox') ? change.subject : notifyKindName(change.subject)].join(' ')
      + (change.action === 'audiences' ? ': ' + notifyAudienceList(change.value ? change.value.split(',') : []) : change.value ? ': ' + change.value : '') })));
  return [el('h3', { id: 'notify-changes-title', text: t('notifyChanges') }),
    rowsTable('notify-changes', [t('notifyWhen'), t('notifyWho'), t('notifyWhat')], rows, 'notify-changes-empty', t('notifyNoChanges'))];
}

// Subscriptions: one person's switches per event kind, each optionally for some tickets (its
// filter; edited in the form, turned over — the filter kept — or deleted with a button) and the
// form setting one for anyone.
function notifySubscriptionsSection(person, switches, organizations, redraw) {
  const box = el('div', { id: 'notify-rule-status', role: 'status' });
  const change = changeThen(box, redraw);
  const save = (who, kind, enabled, filter, form) => change(() => api('POST', '/v1/subscriptions', { subscription: { person: who, event_kind: kind, enabled, filter } }),
    () => [tf('notifySwitchSaved', { person: who, kind: notifyKindName(kind) }), undefined, who], form);
  const remove = (who, kind) => change(() => api('DELETE', `/v1/subscriptions?person=${encodeURIComponent(who)}&event_kind=${encodeURIComponent(kind)}`),
    () => tf('notifySwitchRemoved', { person: who, kind: notifyKindName(kind) }));
  const lookup = el('form', { id: 'notify-person-form', class: 'row', 'aria-label': t('notifyPerson') },
    el('label', {}, t('notifyPerson'), el('input', { name: 'person', id: 'notify-person', value: person || '', required: true, autocomplete: 'off' })),
    el('button', { type: 'submit', class: 'secondary', id: 'notify-person-submit', text: t('notifyShowPerson') }));
  lookup.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = '#/notificacoes?pessoa=' + encodeURIComponent(lookup.elements.person.value.trim());
  });
  const rows = switches.map((entry) => {
    const action = t(entry.enabled ? 'notifySwitchOff' : 'notifySwitchOn');
    return el('tr', { 'data-kind': entry.event_kind, 'data-person': entry.person },
      el('td', { text: entry.person }), el('td', { text: notifyKindName(entry.event_kind) }),
      el('td', { class: 'notify-receives', text: t(entry.enabled ? 'notifyYes' : 'notifyNo') }),
      el('td', { class: 'notify-filter-text', text: notifyFilterText(entry.filter, organizations) }),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'link notify-edit-switch', text: t('notifyEditSwitch'),
        'aria-label': tf('notifyEditSwitchOf', { kind: notifyKindName(entry.event_kind), person: entry.person }),
        onclick: () => edit(entry) }), ' ',
      el('button', { type: 'button', class: 'link notify-toggle-switch', text: action,
        'aria-label': tf('notifySwitchOf', { action, kind: notifyKindName(entry.event_kind), person: entry.person }),
        onclick: () => save(entry.person, entry.event_kind, !entry.enabled, entry.filter) }), ' ',
      el('button', { type: 'button', class: 'link notify-remove-switch', text: t('notifyRemoveSwitch'),
        'aria-label': tf('notifyRemoveSwitchOf', { kind: notifyKindName(entry.event_kind), person: entry.person }),
        onclick: () => remove(entry.person, entry.event_kind) })));
  });
  const table = person ? rowsTable('notify-subscriptions', [t('notifyPerson'), t('notifyKind'), t('notifyReceives'), t('notifyFilter'), t('actions')],
    rows, 'notify-subscriptions-empty', t('notifyNoSwitches')) : null;
  const filterFields = notifyFilterFields('notify-switch-filter', undefined, organizations);
  const title = el('h3', { id: 'notify-rule-title', text: t('notifyNewSwitch') });
  const form = el('form', { id: 'notify-rule-form', 'aria-labelledby': 'notify-rule-title' },
    el('label', {}, t('notifyPerson'), el('input', { name: 'person', id: 'notify-rule-person', value: person || '', required: true, autocomplete: 'off' })),
    el('label', {}, t('notifyKind'), el('select', { name: 'event_kind', id: 'notify-rule-kind' },
      ['*'].concat(Object.keys(NOTIFY_EVENT_KINDS)).map((kind) => el('option', { value: kind, text: notifyKindName(kind) })))),
    el('label', {}, t('notifyReceives'), el('select', { name: 'enabled', id: 'notify-rule-enabled' },
      el('option', { value: 'false', text: t('notifyNo') }), el('option', { value: 'true', text: t('notifyYes') }))),
    filterFields,
    el('button', { type: 'submit', id: 'notify-rule-submit', text: t('notifySetSwitch') }), box);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(form.elements.person.value.trim(), form.elements.event_kind.value, form.elements.enabled.value === 'true', notifyFilterRead(filterFields), form);
  });
  // Editar: the entry's person, kind, switch and filter brought into the form (saving it
  // replaces the entry: one per person and kind), its title saying so, the filter in view.
  function edit(entry) {
    form.elements.person.value = entry.person;
    form.elements.event_kind.value = entry.event_kind;
    form.elements.enabled.value = entry.enabled ? 'true' : 'false';
    notifyFilterFill(filterFields, entry.filter);
    form.querySelectorAll('[aria-invalid]').forEach((control) => control.removeAttribute('aria-invalid'));
    box.replaceChildren();
    title.textContent = tf('notifyEditSwitchTitle', { kind: notifyKindName(entry.event_kind), person: entry.person });
    title.scrollIntoView();
    filterFields.querySelector('input').focus();
  }
  return [el('h2', { id: 'notify-subscriptions-title', text: t('notifySubscriptions') }), el('p', { class: 'muted', text: t('notifySubscriptionsIntro') }), lookup, table,
    title, form];
}

// The delivery log: counts per state, the dead deliveries (queued again, all or one), and the
// suppressed addresses (lifted one by one, or one added by hand).
function notifyLogSection(stats, dead, suppressions, redraw) {
  const box = el('div', { id: 'notify-log-status', role: 'status' });
  const change = changeThen(box, redraw);
  const states = ['queued', 'sending', 'sent', 'failed', 'dead', 'discarded', 'bounced'];
  const cards = el('div', { class: 'cards', id: 'notify-stats', 'aria-label': t('notifyStats') },
    states.map((state) => el('div', { class: 'card', 'data-state': state }, el('strong', { text: String(stats[state] || 0) }), notifyStateName(state))),
    el('div', { class: 'card', 'data-state': 'resends' }, el('strong', { text: String(stats.resends || 0) }), t('notifyResends')));
  const retryAll = el('button', { type: 'button', class: 'secondary', id: 'notify-retry-dead', text: t('notifyRetryDead'),
    onclick: () => change(() => api('POST', '/v1/deliveries/retry', {}), (answer) => tf('notifyRetried', { count: answer.requeued || 0 })) });
  const deadRows = dead.map((delivery) => el('tr', { 'data-delivery': delivery.id },
    el('td', { text: when(delivery.created_at_ms) }), el('td', { text: notifyKindName(delivery.event_kind) }), el('td', { text: delivery.recipient }),
    el('td', { text: String(delivery.attempts || 0) }), el('td', { class: 'notify-answer', text: (delivery.server_answer || '').slice(0, 120) }),
    el('td', {}, el('button', { type: 'button', class: 'link notify-retry-one', text: t('notifyRetryOne'), 'aria-label': tf('notifyRetryOf', { id: delivery.id }),
      onclick: () => change(() => api('POST', '/v1/deliveries/retry', { delivery_ids: [delivery.id] }), (answer) => tf('notifyRetried', { count: answer.requeued || 0 })) }))));
  const deadTable = rowsTable('notify-dead', [t('notifyWhen'), t('notifyEvent'), t('notifyRecipient'), t('notifyAttempts'), t('notifyAnswer'), t('actions')],
    deadRows, 'notify-dead-empty', t('notifyNoDead'));
  const suppressionRows = suppressions.map((entry) => el('tr', { 'data-address': entry.address },
    el('td', { text: entry.address }), el('td', { text: t('notifyReasons')[entry.reason] || entry.reason }),
    el('td', { text: [entry.status, entry.diagnostic, entry.note].filter(Boolean).join(' · ') }), el('td', { text: when(entry.created_at_ms) }),
    el('td', {}, el('button', { type: 'button', class: 'link notify-lift', text: t('notifyLift'), 'aria-label': tf('notifyLiftOf', { address: entry.address }),
      onclick: () => {
        if (!confirm(tf('notifyConfirmLift', { address: entry.address }))) return;
        change(() => api('DELETE', `/v1/email-suppressions/${encodeURIComponent(entry.address)}`), () => tf('notifyLifted', { address: entry.address }));
      } }))));
  const suppressionTable = rowsTable('notify-suppressions', [t('notifyAddress'), t('notifyReason'), t('notifyNote'), t('createdAt'), t('actions')],
    suppressionRows, 'notify-suppressions-empty', t('notifyNoSuppressions'));
  const suppress = el('form', { id: 'notify-suppress-form', class: 'row', 'aria-label': t('notifySuppress') },
    el('label', {}, t('notifyAddress'), el('input', { type: 'email', name: 'address', id: 'notify-suppress-address', required: true, maxlength: 254, autocomplete: 'off' })),
    el('label', {}, t('notifyNote'), el('input', { name: 'note', id: 'notify-suppress-note', maxlength: 500, autocomplete: 'off' })),
    el('button', { type: 'submit', class: 'secondary', id: 'notify-suppress-submit', text: t('notifySuppress') }));
  suppress.addEventListener('submit', (event) => {
    event.preventDefault();
    const address = suppress.elements.address.value.trim();
    change(() => api('POST', '/v1/email-suppressions', { address, note: suppress.elements.note.value }), () => tf('notifySuppressed', { address }), suppress);
  });
  return [el('h2', { id: 'notify-log-title', text: t('notifyLog') }), cards, box,
    el('h3', { text: t('notifyDead') }), el('p', {}, retryAll), deadTable,
    el('h3', { id: 'notify-suppressions-title', text: t('notifySuppressions') }), el('p', { class: 'muted', text: t('notifySuppressionsIntro') }),
    suppressionTable, suppress];
}

addPage({
  path: '/notificacoes', visible: isAdministrator, nav: { id: 'nav-notifications', text: 'notifyTitle' },
  render: (rest) => notifyPage(new URLSearchParams(rest.split('?')[1] || '').get('pessoa') || ''),
});

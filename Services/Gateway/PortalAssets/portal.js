// Ocorrências portal: plain JavaScript, no build step. Every value from the API reaches the page
// through textContent or attributes set one by one (never innerHTML), so output is escaped.
'use strict';

const TEXT = {
  'pt-BR': {
    brand: 'Ocorrências', mainNav: 'Principal', login: 'Entrar', email: 'E-mail', password: 'Senha', logout: 'Sair', dashboard: 'Minhas ocorrências',
    queue: 'Fila', newTicket: 'Nova ocorrência', subject: 'Assunto', description: 'Descrição', category: 'Categoria',
    priority: 'Prioridade', product: 'Produto', module: 'Módulo', submit: 'Enviar', state: 'Situação', lastInteraction: 'Última interação',
    code: 'Código', suggestions: 'Artigos que podem resolver', faq: 'Perguntas frequentes desta categoria', attachments: 'Anexos',
    openingFiles: 'Na abertura', messageFiles: 'Resposta de {who} · {when}', entryFiles: 'Mensagem de {who} · {when}',
    dropHere: 'Arraste arquivos para cá, cole-os ou escolha-os', reply: 'Responder', send: 'Enviar resposta', cancel: 'Cancelar ocorrência',
    reason: 'Motivo', history: 'Histórico', request: 'Solicitação', solution: 'Solução', take: 'Assumir', move: 'Mover',
    note: 'Nota interna', publicNote: 'Texto para o cliente', noteRequired: '(obrigatória)', publicNoteRequired: '(obrigatório)', discussion: 'Discussão', isPublic: 'Visível ao cliente', add: 'Adicionar',
    setSolution: 'Registrar solução', print: 'Imprimir', none: 'Nenhuma ocorrência.', loading: 'Carregando…', saved: 'Salvo.',
    workflowUnavailable: 'A situação, o atendimento e a discussão desta ocorrência estão temporariamente indisponíveis; o que você enviou está guardado. Tente de novo em instantes.',
    newPassword: 'Nova senha', choosePassword: 'Defina sua senha', passwordSet: 'Senha definida. Entre com ela.',
    filters: 'Filtrar', stage: 'Etapa', unread: 'Não lidas', tips: 'Dicas para escrever', priorities: 'Prioridades',
    forgot: 'Esqueci minha senha', resetSent: 'Se o e-mail estiver cadastrado, enviaremos um link.', opened: 'Aberta em',
    forgotNeedsEmail: 'Informe seu e-mail acima para receber o link de nova senha.',
    all: 'Todas', allMasculine: 'Todos', actions: 'Ações', helpful: 'Resolveu meu problema',
    panel: 'Painel', byStage: 'Ocorrências por etapa', metrics: 'Métricas do mês', unavailable: 'Indisponível no momento.',
    survey: 'Pesquisa de satisfação', score: 'Nota (1 a 5)', comment: 'Comentário', thanks: 'Obrigado pela resposta!',
    surveyFinished: 'Encerrada em', surveyAnswered: 'Esta pesquisa já foi respondida. Obrigado!',
    proposedSolution: 'Solução proposta', acceptSolution: 'Aceitar a solução', rejectSolution: 'Rejeitar a solução',
    rejectReason: 'Por que a solução não resolve? (obrigatório para rejeitar)',
    stageStatus: 'Status na etapa', setStatus: 'Definir status', statusNone: '(nenhum)', yourAnswer: 'Sua avaliação', sla: 'SLA',
    slaOnTime: 'No prazo', slaAtRisk: 'Em risco', slaBreached: 'Atrasada', slaPaused: 'Pausado', until: 'até', dueWas: 'venceu', dueIn: 'vence em',
    linkArticle: 'Vincular artigo', searchArticles: 'Buscar na base de conhecimento', search: 'Buscar', link: 'Vincular',
    emailAbout: 'E-mail sobre a ocorrência', emailTo: 'Para (separe por vírgulas)', emailSubject: 'Assunto do e-mail',
    emailBody: 'Texto', emailSend: 'Enviar e-mail', emailSent: 'E-mail enviado.', linked: 'Artigo vinculado.',
    onBehalf: 'Em nome de', organization: 'Organização', contact: 'Contato (quem relatou)', chooseOrganization: 'Escolha a organização',
    chooseContact: 'Escolha o contato', noContacts: 'Esta organização não tem contato autorizado a abrir ocorrências.',
    openFor: 'Você abre a ocorrência para uma organização que representa, em nome de um dos contatos dela.',
    remove: 'Remover', removeFile: 'Remover o arquivo', filesHint: 'Até {size} por arquivo; arquivos pequenos vão junto da mensagem, os maiores são enviados antes.',
    fileTooLarge: 'O arquivo {name} tem {size}; o limite é {limit}.', replyEmpty: 'Escreva a resposta ou anexe um arquivo.', sending: 'Enviando…',
    internalFile: 'interno, só a equipe vê', discussionEmpty: 'Escreva o texto da entrada.',
    markPublishable: 'Publicável no fórum', markPublishableOf: 'Marcar como publicável a entrada de {who}', publishableMark: 'publicável',
    internalMark: 'interno',
    requestFaq: 'Pedir FAQ aos editores', requestFaqHint: 'A pergunta e a solução desta ocorrência vão para a fila dos editores da base, que retiram os dados do cliente antes de publicar.',
    requestFaqNote: 'Observação para os editores (opcional)', faqRequested: 'Pedido enviado à fila dos editores.', faqSolution: 'Solução a publicar',
    entryKinds: { note: 'Nota', transfer: 'Repasse', possible_solution: 'Possível solução', customer_reply: 'Resposta do cliente', request_info: 'Pedido de informação',
      solution: 'Solução', article: 'Artigo', voicemail: 'Recado de voz', customer: 'Mensagem do cliente', solution_accepted: 'Solução aceita',
      solution_rejected: 'Solução rejeitada', denial: 'Negativa', cancellation: 'Pedido de cancelamento' },
    technicalDetails: 'Detalhes técnicos (ajudam o suporte a resolver mais rápido)', technicalDetailsTitle: 'Detalhes técnicos', systemVersion: 'Versão do sistema', database: 'Banco de dados',
    environment: 'Ambiente', envLocal: 'Local', envThreeTier: 'Três camadas', envCloud: 'Nuvem', testEnvironmentAccess: 'Acesso ao ambiente de teste (se hospedado)',
    companyBranch: 'Coligada/filial', routine: 'Tela ou rotina (código)', exampleRecord: 'Registro de exemplo', previousVersion: 'Versão anterior (se começou após atualização)',
    currentVersion: 'Versão atual', happensSince: 'Desde quando acontece', affectedUsers: 'Afeta', oneUser: 'Um usuário', allUsers: 'Todos os usuários',
    stepsToReproduce: 'Passos para reproduzir', expectedBehaviour: 'Comportamento esperado', operationalImpact: 'Impacto na operação', notInformed: '(não informado)',
    extraFields: 'Informações complementares', representativeLabel: 'Representante', channel: 'Canal',
    registerTicket: 'Registrar ocorrência', registerFor: 'Cliente que entrou em contato', customerSearch: 'Buscar cliente',
    customerSearchHint: 'Nome, código, CNPJ/CPF ou e-mail de um contato.', customersFound: '{count} organização(ões) encontrada(s).',
    noCustomerFound: 'Nenhum cliente ativo encontrado.', group: 'Grupo', searchText: 'Texto', onlyMine: 'Só as minhas',
    showEarlier: 'Mostrar anteriores', showEarlierHint: 'Há entradas anteriores a estas no histórico.',
    queueOfOrganization: 'Só as ocorrências de {name}.', queueEveryOrganization: 'Ver as de todas as organizações',
    nextPage: 'Próxima página', firstPage: 'Primeira página', cardsThisPage: 'Os números acima contam as ocorrências desta página.', holder: 'Com', registeredBy: 'Registrada por',
    unreadMessages: 'Mensagens do cliente não lidas: {count}. Marque-as como lidas depois de lê-las no histórico; a ocorrência só é concluída sem mensagens não lidas.',
    markRead: 'Marcar como lidas',
    sessionEndedTitle: 'Sua sessão terminou', sessionEnded: 'Entre de novo para continuar: esta página fica como está, com o que você escreveu; depois envie outra vez.',
    draftRestored: 'Recuperamos o que você tinha escrito aqui (os anexos precisam ser escolhidos de novo).',
    slaDeadlines: 'Prazos (SLA)', slaFirstResponse: 'Primeira resposta', slaNextResponse: 'Próxima resposta', slaResolution: 'Resolução',
    slaTargetMet: 'Cumprido', slaTargetLate: 'Cumprido com atraso',
  },
  en: {
    brand: 'Ocorrências', mainNav: 'Main', login: 'Sign in', email: 'E-mail', password: 'Password', logout: 'Sign out', dashboard: 'My tickets',
    queue: 'Queue', newTicket: 'New ticket', subject: 'Subject', description: 'Description', category: 'Category',
    priority: 'Priority', product: 'Product', module: 'Module', submit: 'Submit', state: 'State', lastInteraction: 'Last interaction',
    code: 'Code', suggestions: 'Articles that may solve it', faq: 'Frequent questions of this category', attachments: 'Attachments',
    openingFiles: 'With the request', messageFiles: 'Reply from {who} · {when}', entryFiles: 'Message from {who} · {when}',
    dropHere: 'Drag files here, paste them or choose them', reply: 'Reply', send: 'Send reply', cancel: 'Cancel ticket',
    reason: 'Reason', history: 'History', request: 'Request', solution: 'Solution', take: 'Take', move: 'Move',
    note: 'Internal note', publicNote: 'Text for the customer', noteRequired: '(required)', publicNoteRequired: '(required)', discussion: 'Discussion', isPublic: 'Visible to the customer', add: 'Add',
    setSolution: 'Record solution', print: 'Print', none: 'No tickets.', loading: 'Loading…', saved: 'Saved.',
    workflowUnavailable: 'This ticket\'s stage, handling and discussion are temporarily unavailable; what you sent is stored. Try again in a moment.',
    newPassword: 'New password', choosePassword: 'Choose your password', passwordSet: 'Password set. Sign in with it.',
    filters: 'Filter', stage: 'Stage', unread: 'Unread', tips: 'Writing tips', priorities: 'Priorities',
    forgot: 'I forgot my password', resetSent: 'If the address is registered, we will send a link.', opened: 'Opened on',
    forgotNeedsEmail: 'Type your e-mail above to get the link for a new password.',
    all: 'All', allMasculine: 'All', actions: 'Actions', helpful: 'It solved my problem',
    panel: 'Dashboard', byStage: 'Tickets by stage', metrics: 'This month\'s metrics', unavailable: 'Unavailable right now.',
    survey: 'Satisfaction survey', score: 'Score (1 to 5)', comment: 'Comment', thanks: 'Thank you for answering!',
    surveyFinished: 'Closed on', surveyAnswered: 'This survey was already answered. Thank you!',
    proposedSolution: 'Proposed solution', acceptSolution: 'Accept the solution', rejectSolution: 'Reject the solution',
    rejectReason: 'Why does the solution not solve it? (required to reject)',
    stageStatus: 'Status in the stage', setStatus: 'Set status', statusNone: '(none)', yourAnswer: 'Your rating', sla: 'SLA',
    slaOnTime: 'On time', slaAtRisk: 'At risk', slaBreached: 'Breached', slaPaused: 'Paused', until: 'until', dueWas: 'was due', dueIn: 'due in',
    linkArticle: 'Link an article', searchArticles: 'Search the knowledge base', search: 'Search', link: 'Link',
    emailAbout: 'E-mail about the ticket', emailTo: 'To (comma separated)', emailSubject: 'E-mail subject',
    emailBody: 'Text', emailSend: 'Send e-mail', emailSent: 'E-mail sent.', linked: 'Article linked.',
    onBehalf: 'On behalf of', organization: 'Organization', contact: 'Contact (who reported it)', chooseOrganization: 'Choose the organization',
    chooseContact: 'Choose the contact', noContacts: 'This organization has no contact authorized to open tickets.',
    openFor: 'You open the ticket for an organization you represent, in the name of one of its contacts.',
    remove: 'Remove', removeFile: 'Remove the file', filesHint: 'Up to {size} per file; small files travel with the message, larger ones are uploaded first.',
    fileTooLarge: 'The file {name} has {size}; the limit is {limit}.', replyEmpty: 'Write the reply or attach a file.', sending: 'Sending…',
    internalFile: 'internal, staff only', discussionEmpty: 'Write the entry\'s text.',
    markPublishable: 'Publishable in the forum', markPublishableOf: 'Mark {who}\'s entry as publishable', publishableMark: 'publishable',
    internalMark: 'internal',
    requestFaq: 'Ask the editors for a FAQ', requestFaqHint: 'This ticket\'s question and solution go to the knowledge editors\' queue, who take the customer\'s data out before publishing.',
    requestFaqNote: 'Note for the editors (optional)', faqRequested: 'Request sent to the editors\' queue.', faqSolution: 'Solution to publish',
    entryKinds: { note: 'Note', transfer: 'Transfer', possible_solution: 'Possible solution', customer_reply: 'Customer reply', request_info: 'Information request',
      solution: 'Solution', article: 'Article', voicemail: 'Voice message', customer: 'Customer message', solution_accepted: 'Solution accepted',
      solution_rejected: 'Solution rejected', denial: 'Denial', cancellation: 'Cancellation request' },
    technicalDetails: 'Technical details (they help support solve it sooner)', technicalDetailsTitle: 'Technical details', systemVersion: 'System version', database: 'Database',
    environment: 'Environment', envLocal: 'Local', envThreeTier: 'Three-tier', envCloud: 'Cloud', testEnvironmentAccess: 'Test environment access (if hosted)',
    companyBranch: 'Company/branch', routine: 'Screen or routine (code)', exampleRecord: 'Example record', previousVersion: 'Previous version (if it started after an update)',
    currentVersion: 'Current version', happensSince: 'Since when it happens', affectedUsers: 'Affects', oneUser: 'One user', allUsers: 'All users',
    stepsToReproduce: 'Steps to reproduce', expectedBehaviour: 'Expected behaviour', operationalImpact: 'Impact on the operation', notInformed: '(not given)',
    extraFields: 'Additional information', representativeLabel: 'Representative', channel: 'Channel',
    registerTicket: 'Register a ticket', registerFor: 'Customer who got in touch', customerSearch: 'Find the customer',
    customerSearchHint: 'Name, code, CNPJ/CPF or a contact\'s e-mail.', customersFound: '{count} organization(s) found.',
    noCustomerFound: 'No active customer found.', group: 'Group', searchText: 'Text', onlyMine: 'Only mine',
    showEarlier: 'Show earlier', showEarlierHint: 'The history has entries before these.',
    queueOfOrganization: 'Only {name}\'s tickets.', queueEveryOrganization: 'See every organization\'s',
    nextPage: 'Next page', firstPage: 'First page', cardsThisPage: 'The figures above count this page\'s tickets.', holder: 'Held by', registeredBy: 'Registered by',
    unreadMessages: 'Unread customer messages: {count}. Mark them read once you read them in the history; a ticket is finished only with none unread.',
    markRead: 'Mark as read',
    sessionEndedTitle: 'Your session ended', sessionEnded: 'Sign in again to go on: this page stays as it is, with what you wrote; then send it again.',
    draftRestored: 'We brought back what you had written here (attachments must be chosen again).',
    slaDeadlines: 'Deadlines (SLA)', slaFirstResponse: 'First response', slaNextResponse: 'Next response', slaResolution: 'Resolution',
    slaTargetMet: 'Met', slaTargetLate: 'Met late',
  },
};
// Categories and priorities as every reader names them: copies of Messages' labels (TicketLabels.swift:
// the CLI's, the CSV exports', the e-mails'), pinned to them by GatewayTests' OutcomeLabelsTests.
const CATEGORIES = { PROBLEMA: ['Problema', 'Problem'], DUVIDA: ['Dúvida', 'Question'], EXIGENCIA_FISCAL: ['Exigência fiscal', 'Tax requirement'],
  NECESSIDADE: ['Necessidade', 'Need'], SUGESTAO_MELHORIA: ['Sugestão de melhoria', 'Improvement suggestion'], ESTRATEGICA: ['Estratégica', 'Strategic'] };
const INTAKE_STATUSES = { open: ['Aberta', 'Open'], cancelled: ['Cancelada', 'Cancelled'], finished: ['Finalizada', 'Finished'] };
// Workflow's statuses within a stage.
const STAGE_STATUSES = { solucionado_nao_informado: ['Solucionado, cliente não informado', 'Solved, customer not told'],
  cliente_informado: ['Cliente informado', 'Customer told'], solucao_confirmada: ['Solução confirmada', 'Solution confirmed'],
  agendado: ['Agendado', 'Scheduled'], pendente: ['Pendente', 'Pending'], paralisado: ['Paralisado', 'On hold'] };
const PRIORITIES = { BAIXA: ['Baixa', 'Low'], NORMAL: ['Normal', 'Normal'], ALTA: ['Alta', 'High'], URGENTE: ['Urgente', 'Urgent'] };
// The stages of the shipped flows (workflow's FlowPresets: padrao and totvs) by code, for pages
// that offer stage codes before workflow names them (the backlog's stage choice, the deadlines'
// suggestions): a copy of Messages' ShippedStageNames, pinned to it by GatewayTests'
// OutcomeLabelsTests. A stage workflow sends is named with its own names (stageName).
const SHIPPED_STAGES = { aguardando_atendimento: ['Aguardando atendimento', 'Awaiting service'], em_atendimento: ['Em atendimento', 'In service'],
  aguardando_cliente: ['Aguardando cliente', 'Waiting on the customer'], diagnostico_tecnico: ['Diagnóstico técnico', 'Technical diagnosis'],
  analise_produto: ['Análise produto', 'Product analysis'], para_desenvolver: ['Para desenvolver', 'To develop'],
  em_desenvolvimento: ['Em desenvolvimento', 'In development'], pendente: ['Pendente', 'Pending'],
  validacao_cliente: ['Validação cliente', 'Customer validation'], resolvido: ['Resolvido', 'Resolved'],
  finalizado: ['Finalizado', 'Finished'], fechado: ['Fechado', 'Closed'], cancelado: ['Cancelado', 'Cancelled'] };
// How a ticket ended (workflow's outcome keys, as the move that finishes it records them), one
// wording for the customer's page, the team's, the dashboard and the e-mails: the copy of
// `TicketOutcome` (Shared/Messages/Labels/TicketOutcome.swift), pinned to it by GatewayTests'
// OutcomeLabelsTests. The move form names a finishing move by its stage and outcome ("Finalizado —
// resolvida por configuração"), so two ways to finish a ticket read apart; a finished ticket's
// stage reads the same way.
const OUTCOMES = { resolvida: ['resolvida', 'resolved'], resolvida_configuracao: ['resolvida por configuração', 'solved by configuration'],
  negada: ['negada', 'denied'], cancelada_cliente: ['cancelada pelo cliente', 'cancelled by the customer'],
  nao_necessita_atuacao: ['sem necessidade de atuação', 'no action needed'], inatividade: ['sem retorno do cliente', 'no answer from the customer'] };

let lang = localStorage.getItem('ocorrencias.lang') || 'pt-BR';
let me = null;
const t = (key) => (TEXT[lang] && TEXT[lang][key]) || TEXT['pt-BR'][key] || key;
// A text with {name} placeholders filled from `values` (as text: the result goes through textContent).
const tf = (key, values) => t(key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
const label = (table, key) => (table[key] ? table[key][lang === 'en' ? 1 : 0] : key);
// A stage workflow sends (a listing row, a move, a count, a view) in the page's language:
// workflow names it in Portuguese (`entry[field]`, e.g. `stage_name`) and in English
// (`entry[field + '_en']`: the flow's own English name, an administrator's stage as they named
// it); the Portuguese name when there is no English one, else the stage's `code`.
const stageName = (entry, code, field = 'stage_name') => (lang === 'en' && entry[field + '_en']) || entry[field] || code || '';
// A service's own words in the page's language: `field_pt` / `field_en` of `entry` (labels of
// channels and custom fields, texts of the support policy), the other language when one is empty.
// A service's text written "português / English" in one string (intake's reasons for a held
// e-mail): the part in the page's language; a text not made of exactly two such parts, whole.
const ownPart = (text) => { const parts = String(text || '').split(' / '); return parts.length === 2 ? parts[lang === 'en' ? 1 : 0] : String(text || ''); };
const bilingual = (entry, field) => (lang === 'en' ? entry[field + '_en'] || entry[field + '_pt'] : entry[field + '_pt'] || entry[field + '_en']) || '';

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function cookie(name) {
  const found = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith(name + '='));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : '';
}

function when(ms) {
  if (!ms) return '';
  return new Date(Number(ms)).toLocaleString(lang === 'en' ? 'en-GB' : 'pt-BR', { dateStyle: 'short', timeStyle: 'short' });
}

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super((lang === 'en' ? error.message_en : error.message) || String(status));
    this.status = status;
    this.code = error.code || '';
    this.details = error.details || [];
  }
}

// A file (Blob) or bytes (Uint8Array) as base64, the form of a JSON `bytes` field. Shared by the
// pages (quarantine.js too): the scripts share one global scope.
async function base64(source) {
  const bytes = source instanceof Blob ? new Uint8Array(await source.arrayBuffer()) : source;
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// Navigations so far (route() counts them). A page's reads resolve only while the navigation
// that drew it is the latest: a page left before its data arrived never draws over the next one
// (a slow dashboard replacing the ticket page opened meanwhile).
let routeSerial = 0;

async function api(method, path, body, extra) {
  const serial = routeSerial;
  const headers = { Accept: 'application/json' };
  const options = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET') headers['X-CSRF-Token'] = cookie('ocorrencias_csrf');
  if (extra && extra.idempotencyKey) headers['Idempotency-Key'] = extra.idempotencyKey;
  if (body instanceof Blob) {
    options.body = body;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    options.body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, options);
  const text = await response.text();
  // The session ended under a signed-in page (expired, ended elsewhere): sign in again over it.
  if (response.status === 401 && me && !path.startsWith('/v1/auth/')) sessionEnded(method);
  // A read for a page the user already left: never settles, so that page draws nothing. Writes
  // always settle (their outcome matters wherever the user is now).
  if (method === 'GET' && serial !== routeSerial) return new Promise(() => {});
  const json = text ? (() => { try { return JSON.parse(text); } catch (e) { return {}; } })() : {};
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// The session ended while a page was open: a sign-in form in a modal dialog over the page, which
// is left as it is (what was typed, the files picked), so the person signs in again and sends
// once more. When only reads were refused (a page being drawn), the page is drawn again after
// the sign-in. Someone else signing in there starts from their own first page.
let reSignIn = null;
let refusedWrite = false;
function sessionEnded(method) {
  refusedWrite = refusedWrite || method !== 'GET';
  if (reSignIn) return;
  const was = me;
  const status = el('div', { id: 'resignin-status', role: 'alert' });
  const form = el('form', { id: 'resignin-form' }, el('p', { text: t('sessionEnded') }),
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: 'resignin-email', required: true, autocomplete: 'username',
      value: (was && was.user && was.user.email) || '' })),
    el('label', {}, t('password'), el('input', { type: 'password', name: 'password', id: 'resignin-password', required: true, autocomplete: 'current-password' })),
    el('button', { type: 'submit', id: 'resignin-submit', text: t('login') }), status);
  const dialog = el('dialog', { id: 'resignin', 'aria-labelledby': 'resignin-title' }, el('h2', { id: 'resignin-title', text: t('sessionEndedTitle') }), form);
  // Escape would leave the page unusable behind an ended session: the dialog stays.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/v1/auth/login', { email: form.elements.email.value, password: form.elements.password.value });
      me = await api('GET', '/v1/me');
      dialog.close();
      dialog.remove();
      reSignIn = null;
      const same = was && me && (was.user && me.user ? was.user.id === me.user.id : was.principal.id === me.principal.id);
      if (!same) { location.hash = '#/'; route(); } else if (!refusedWrite) route();
      refusedWrite = false;
    } catch (error) { status.replaceChildren(errorBox(error)); }
  });
  reSignIn = dialog;
  document.body.append(dialog);
  dialog.showModal();
  form.elements[form.elements.email.value ? 'password' : 'email'].focus();
}

// What was typed into the named `names` of `form` kept in the tab's sessionStorage under `key`
// (and the signed-in principal), so that leaving the page — a link, the back button, a reload, the
// page drawn again after an action — does not lose it; put back when the form is drawn again
// (`restored` says so). `clear()` once it is sent; signing out clears every draft. Files are
// not kept.
const DRAFT_PREFIX = 'ocorrencias.draft.';
function keptDraft(form, key, names) {
  const storeKey = `${DRAFT_PREFIX}${(me && me.principal && me.principal.id) || ''}.${key}`;
  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(storeKey) || '{}') || {}; } catch (e) { saved = {}; }
  let restored = false;
  for (const name of names) {
    const control = form.elements[name];
    if (control && typeof saved[name] === 'string' && saved[name] !== control.value) { control.value = saved[name]; restored = true; }
  }
  const save = () => {
    const values = {};
    for (const name of names) if (form.elements[name] && form.elements[name].value.trim()) values[name] = form.elements[name].value;
    try {
      if (Object.keys(values).length) sessionStorage.setItem(storeKey, JSON.stringify(values)); else sessionStorage.removeItem(storeKey);
    } catch (e) { /* storage full or off: nothing kept */ }
  };
  form.addEventListener('input', save);
  form.addEventListener('change', save);
  return { restored, clear: () => sessionStorage.removeItem(storeKey) };
}

function clearDrafts() {
  Object.keys(sessionStorage).filter((key) => key.startsWith(DRAFT_PREFIX)).forEach((key) => sessionStorage.removeItem(key));
}

// ---------------------------------------------------------------- files of an open or a reply

// The gateway's limits on files sent inside an open or a reply (GET /v1/file-limits: the numbers
// the gateway itself decides with), read once per page load. Unreachable: every file is uploaded.
let fileLimitsAnswer = null;
function fileLimits() {
  if (!fileLimitsAnswer) {
    fileLimitsAnswer = api('GET', '/v1/file-limits').catch(() => {
      fileLimitsAnswer = null;
      return { inline_file_bytes: 0, max_inline_files: 0, max_inline_bytes: 0, max_upload_bytes: Number.MAX_SAFE_INTEGER };
    });
  }
  return fileLimitsAnswer;
}

function byteSize(bytes) {
  const n = Number(bytes);
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toLocaleString(lang, { maximumFractionDigits: 1 })} MiB`;
  if (n >= 1024) return `${(n / 1024).toLocaleString(lang, { maximumFractionDigits: 1 })} KiB`;
  return `${n} B`;
}

// The files of an open, a reply or a discussion entry as the API takes them: small ones inside
// the call (`files`, base64: one call, one transaction at intake), the others uploaded first with
// POST /v1/attachments and named by id (`attachment_ids`), by the gateway's limits. The files stay
// in the order the person chose them: the call says where each file inside it goes
// (`file_positions`), so every small file that fits the allowance goes inside wherever it stands
// (as the gateway's multipart form and `ocorre` decide, InlineFileLimits.placed).
async function sendableFiles(files) {
  const limits = await fileLimits();
  for (const file of files) {
    if (file.size > limits.max_upload_bytes) {
      throw new Error(tf('fileTooLarge', { name: file.name, size: byteSize(file.size), limit: byteSize(limits.max_upload_bytes) }));
    }
  }
  // Whether one more file of `size` fits the call's allowance, `count` files of `bytes` in it so far.
  const fits = (size, count, bytes) => limits.inline_file_bytes > 0 && size <= limits.inline_file_bytes
    && count < limits.max_inline_files && bytes + size <= limits.max_inline_bytes;
  const inside = files.map(() => false);
  let count = 0, inlineBytes = 0;
  // In order, each that fits what is left.
  for (const [index, file] of files.entries()) {
    const size = file.size;
    if (!fits(size, count, inlineBytes)) continue;
    inside[index] = true;
    count += 1;
    inlineBytes += size;
  }
  const attachmentIDs = [], inline = [], positions = [];
  for (const [index, file] of files.entries()) {
    if (inside[index]) {
      inline.push({ file_name: file.name, content_type: file.type || 'application/octet-stream', data: await base64(file) });
      positions.push(index);
      continue;
    }
    const ref = await api('POST', '/v1/attachments?file_name=' + encodeURIComponent(file.name), file);
    attachmentIDs.push(ref.id);
  }
  const body = { attachment_ids: attachmentIDs };
  if (inline.length) body.files = inline;
  if (inline.length) body.file_positions = positions;
  return body;
}

// The file picker of a form (the new ticket's, the reply's, an agent's discussion entry's): a labelled file input (keyboard:
// Tab, then Enter or Space), dragging files onto its zone, and pasting files (screenshots) anywhere
// in `form`; the chosen files listed, each with a button that removes it. `ids` names the input,
// the drop zone and the list. `picker.files` is what to send (see sendableFiles).
function filePicker(form, ids) {
  const files = [];
  const list = el('ul', { id: ids.list, class: 'files', 'aria-live': 'polite' });
  const render = () => list.replaceChildren(...files.map((file, index) => el('li', {}, `${file.name} (${byteSize(file.size)}) `,
    el('button', { type: 'button', class: 'link remove-file', 'aria-label': `${t('removeFile')} ${file.name}`, text: t('remove'),
      onclick: () => { files.splice(index, 1); render(); } }))));
  const add = (chosen) => {
    for (const file of Array.from(chosen || [])) files.push(file);
    render();
  };
  const hint = el('p', { class: 'muted', id: ids.input + '-hint' });
  fileLimits().then((limits) => { if (limits.max_upload_bytes < Number.MAX_SAFE_INTEGER) hint.textContent = tf('filesHint', { size: byteSize(limits.max_upload_bytes) }); });
  const input = el('input', { type: 'file', id: ids.input, name: ids.input, multiple: true, 'aria-describedby': hint.id,
    onchange: (e) => { add(e.target.files); e.target.value = ''; } });
  const drop = el('div', { class: 'drop', id: ids.drop }, el('label', { for: ids.input }, t('dropHere'), el('br'), input), hint);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); add(e.dataTransfer.files); });
  // A pasted screenshot comes as "image.png" every time: name it after the moment instead, on the
  // person's clock (it was UTC: 11:57 for a capture taken at 08:57 in São Paulo).
  const pasted = (file, index) => {
    const generic = /^image\.(\w+)$/i.exec(file.name || 'image.png');
    if (!generic) return file;
    const now = new Date();
    const two = (n) => String(n).padStart(2, '0');
    const stamp = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}-${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
    return new File([file], `captura-${stamp}${index ? '-' + (index + 1) : ''}.${generic[1].toLowerCase()}`, { type: file.type });
  };
  form.addEventListener('paste', (e) => {
    if (e.clipboardData && e.clipboardData.files.length) add(Array.from(e.clipboardData.files, pasted));
  });
  return { node: el('fieldset', {}, el('legend', { text: t('attachments') }), drop, list), files };
}

// Sends a form's text and picked files (see sendableFiles) to `path` once: the button is disabled
// while it goes, `status` says so, and a failure is shown there with the button enabled again.
// Each submission has an idempotency key of its own, so a retried request is not stored twice.
// `refused(error)`, when given, may handle a failure itself (true: nothing more is shown).
async function sendWithFiles({ path, body, picker, button, status, keyPrefix, done, refused = null }) {
  button.disabled = true;
  status.replaceChildren(el('p', { class: 'muted', text: t('sending') }));
  try {
    await api('POST', path, Object.assign({}, body, await sendableFiles(picker.files)), { idempotencyKey: keyPrefix + newId() });
    status.replaceChildren(el('p', { class: 'ok', text: t('saved') }));
    done();
  } catch (error) {
    button.disabled = false;
    if (refused && refused(error)) return;
    announce(status, errorBox(error));
  }
}

// Knowledge's rendered Markdown (an article's body_html), rebuilt node by node from an inert parse: only the elements
// its renderer writes are kept (others give up their text), links only to http(s), every text
// through a text node. The page never assigns HTML.
const MARKDOWN_TAGS = new Set(['P', 'BR', 'H2', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'PRE', 'CODE', 'STRONG', 'EM', 'A']);
function renderedMarkdown(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html || ''}</body>`, 'text/html');
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const children = Array.from(node.childNodes, copy).filter(Boolean);
    if (!MARKDOWN_TAGS.has(node.tagName)) return children.length ? el('span', {}, children) : null;
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') || '';
      if (!/^https?:\/\//i.test(href)) return el('span', {}, children);
      return el('a', { href, rel: 'nofollow noopener', target: '_blank' }, children);
    }
    return el(node.tagName.toLowerCase(), {}, children);
  };
  return el('div', { class: 'kb-body' }, Array.from(parsed.body.childNodes, copy).filter(Boolean));
}

// A solution's Markdown (plain text from workflow), drawn as a safe subset: paragraphs, line
// breaks, **bold**, *italic*, lists (- or 1.), `inline code` and [links](https://…) to http(s)
// only. Every piece of the text becomes a text node (so it is escaped by construction: `<img
// onerror>` reads as those characters); no HTML is ever parsed or assigned. A link to any other
// scheme (javascript:, data:) stays as its literal text.
const MARKDOWN_INLINE = /`([^`\n]+)`|\*\*(.+?)\*\*|\*([^*\n]+)\*|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
function markdownInline(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(MARKDOWN_INLINE)) {
    const [whole, code, bold, italic, label, href] = match;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    if (code !== undefined) nodes.push(el('code', { text: code }));
    else if (bold !== undefined) nodes.push(el('strong', {}, markdownInline(bold)));
    else if (italic !== undefined) nodes.push(el('em', {}, markdownInline(italic)));
    else if (/^https?:\/\/[^\s]+$/i.test(href)) nodes.push(el('a', { href, rel: 'nofollow noopener noreferrer', target: '_blank' }, markdownInline(label)));
    else nodes.push(whole);
    last = match.index + whole.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
function markdownText(text, attributes) {
  const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/;
  const blocks = String(text || '').replace(/\r\n?/g, '\n').split(/\n\s*\n/).filter((block) => block.trim());
  const drawn = blocks.map((block) => {
    const lines = block.split('\n');
    if (lines.every((line) => LIST_ITEM.test(line))) {
      const ordered = /^\s*\d/.test(lines[0]);
      return el(ordered ? 'ol' : 'ul', {}, lines.map((line) => el('li', {}, markdownInline(line.replace(LIST_ITEM, '')))));
    }
    return el('p', {}, lines.flatMap((line, i) => (i ? [el('br', {}), ...markdownInline(line)] : markdownInline(line))));
  });
  return el('div', Object.assign({ class: 'markdown' }, attributes), drawn);
}

// A list item whose title (a button) shows and hides what `load` draws, loaded once; a failed
// load shows its error there, and the next press tries again (and shows what it gets).
function unfolding(title, load) {
  const body = el('div', { class: 'unfolded', hidden: true });
  return el('li', {}, el('button', { type: 'button', class: 'link', 'aria-expanded': 'false', text: title, onclick: async (event) => {
    const button = event.currentTarget;
    const opening = body.hidden || !body.dataset.loaded;
    if (!body.dataset.loaded) {
      try { body.replaceChildren(await load()); body.dataset.loaded = '1'; } catch (error) { body.replaceChildren(errorBox(error)); }
    }
    body.hidden = !opening;
    button.setAttribute('aria-expanded', String(opening));
  } }), body);
}

// A service's message as a sentence: services write theirs in lower case ("pedido inválido").
const sentence = (text) => (text ? text.charAt(0).toLocaleUpperCase(lang) + text.slice(1) : text);

function errorBox(error) {
  const box = el('div', { class: 'error', role: 'alert', text: sentence(error.message) });
  if (error.details && error.details.length) {
    // A detail names its field (formRefused puts the form's label there), unless it names none.
    box.append(el('ul', {}, error.details.map((d) => {
      const message = (lang === 'en' ? d.message_en : d.message) || d.reason;
      return el('li', { text: d.field ? `${d.field}: ${message}` : message });
    })));
  }
  return box;
}

// The portal's one live region for the whole page (index.html #announcer: role=status, polite,
// outside <main>), so a screen reader hears what an action did and not every redraw: <main> is
// not live, and a page drawn or drawn again (a list refreshed, a page after a save) is not read
// out whole. `say` puts `text` there ('' clears it); show() says a redrawn page's notice.
let sayTimer = 0;
function say(text) {
  const region = document.getElementById('announcer');
  clearTimeout(sayTimer);
  region.textContent = '';
  // Set in a later task: the same words as the last time ("Salvo." twice) are a change too.
  if (text) sayTimer = setTimeout(() => { region.textContent = text; }, 100);
}

// Shows `nodes` (an action's outcome) in `status` and moves the focus there: in view where the
// person was working, not off screen above a long page, and read out next (as the focus, so the
// live region stays quiet: read twice otherwise).
function announce(status, ...nodes) {
  status.replaceChildren(...nodes);
  say('');
  status.tabIndex = -1;
  status.focus();
}

// The caption a person sees for a form's control: the legend of its fieldset when the name is a
// group of boxes (event_kinds), else its label's own text (before or after the control).
function fieldCaption(form, control) {
  const fieldset = control.closest('fieldset');
  if (fieldset && fieldset.querySelector('legend') && form.querySelectorAll(`[name="${CSS.escape(control.name)}"]`).length > 1) {
    return fieldset.querySelector('legend').textContent.trim();
  }
  const label = control.closest('label') || (control.id && form.querySelector(`label[for="${CSS.escape(control.id)}"]`));
  const caption = label && Array.from(label.childNodes).find((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
  return caption ? caption.textContent.trim() : '';
}

// Shows a refused save under its form (`errors`): the service's message and per-field reasons
// (errorBox), each field named by its label on the form, and each named control marked invalid
// (aria-invalid) until the next save. A field the service names by its path in the request
// ("message_template.subject") is the form's control of the last part ("subject"), and one value
// of a list ("subscription.filter.products[1]") the control holding the list ("products"). The
// form keeps what was typed.
function formRefused(form, errors, error) {
  form.querySelectorAll('[aria-invalid]').forEach((control) => control.removeAttribute('aria-invalid'));
  const details = (error.details || []).map((detail) => {
    const last = detail.field ? detail.field.split('.').pop() : '';
    const names = detail.field ? [detail.field, last, last.replace(/\[\d+\]$/, '')] : [];
    const control = names.map((name) => form.querySelector(`[name="${CSS.escape(name)}"]`)).find(Boolean);
    if (!control) return detail;
    form.querySelectorAll(`[name="${CSS.escape(control.name)}"]`).forEach((named) => named.setAttribute('aria-invalid', 'true'));
    return Object.assign({}, detail, { field: fieldCaption(form, control) || detail.field });
  });
  errors.replaceChildren(errorBox({ message: error.message, details }));
}

// What was typed into `form`'s text fields (text areas and the inputs that take text, numbers or
// dates; never a password) by id, and putting it back into the fields of those ids on the page
// drawn again after a refusal (an input event tells keptDraft).
const TYPED_INPUTS = new Set(['text', 'search', 'email', 'tel', 'url', 'number', 'date', 'datetime-local', 'time']);
const typedValues = (form) => Array.from(form.elements)
  .filter((field) => field.id && (field.tagName === 'TEXTAREA' || (field.tagName === 'INPUT' && TYPED_INPUTS.has(field.type))))
  .map((field) => [field.id, field.value]);
function restoreTyped(typed) {
  for (const [id, value] of typed) {
    const field = document.getElementById(id);
    if (!field || !value) continue;
    field.value = value;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

function show(...nodes) {
  const main = document.getElementById('main');
  // Optional parts are null when absent: skip them (replaceChildren would print "null").
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined && node !== false));
  main.focus();
  // <main> is not a live region: of the page drawn, only what an action did (its notice, the
  // pages' `p.ok`) is said, through the live region; an earlier page's notice is cleared.
  const notice = main.querySelector('p.ok');
  say(notice ? notice.textContent : '');
}

// A readable key from a name: accents and punctuation dropped, lower case, words joined by
// `separator` ('-' or '_'), at most `most` characters ('' when nothing is left).
const keyFromName = (name, separator, most) => name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
  .replace(/[^a-z0-9]+/g, separator).replace(new RegExp(`^${separator}|${separator}$`, 'g'), '').slice(0, most);

// A change made on an administration page: `work()`, then `redraw(...args)`, where `done` is the
// notice, or a function of the answer giving the redraw's arguments; a refusal shows the
// service's error (with its fields) in `status`, focused (a form far below the status showed
// nothing where it was pressed), and nothing is redrawn. Given the `form` the change came from,
// the refusal names its fields by their labels and marks them (formRefused).
const changeThen = (status, redraw) => async (work, done, form) => {
  try {
    const answer = await work();
    redraw(...[].concat(typeof done === 'function' ? done(answer) : done));
  } catch (error) {
    if (form) formRefused(form, status, error); else status.replaceChildren(errorBox(error));
    announce(status, ...status.childNodes);
  }
};

function newId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const isCustomer = () => me && me.principal && me.principal.kind === 'customer';
// A representative's person sees the represented organizations' tickets and opens tickets for
// them, naming the organization and one of its contacts (intake checks both).
const isRepresentative = () => isCustomer() && !!me.principal.representative_id;

// ---------------------------------------------------------------- navigation

// Pages the other scripts add (quarantine.js, account.js): a path under '#', who sees it, an
// optional navigation link ({ id, text: a TEXT key }) and how to draw it, given what follows the
// path in the address ('/id', '?query' or '').
const PAGES = [];
function addPage(page) { PAGES.push(page); }

function renderNav() {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!me) return;
  if (isCustomer()) {
    nav.append(el('a', { href: '#/', text: t('dashboard') }), el('a', { href: '#/nova', id: 'nav-new-ticket', text: t('newTicket') }));
  } else {
    nav.append(el('a', { href: '#/', text: t('queue') }), el('a', { href: '#/nova', id: 'nav-register', text: t('registerTicket') }),
      el('a', { href: '#/painel', id: 'nav-panel', text: t('panel') }));
  }
  for (const page of PAGES) {
    if (page.nav && page.visible()) nav.append(el('a', { href: '#' + page.path, id: page.nav.id, text: t(page.nav.text) }));
  }
  nav.append(el('span', { class: 'muted', text: me.user ? me.user.display_name : me.principal.display_name }),
    el('button', { type: 'button', class: 'link', id: 'logout', text: t('logout'), onclick: logout }));
}

async function route() {
  routeSerial += 1;
  // The switch names the other language in that language (and says so to screen readers).
  const other = document.getElementById('lang');
  other.textContent = lang === 'en' ? 'Português' : 'English';
  other.lang = lang === 'en' ? 'pt-BR' : 'en';
  document.documentElement.lang = lang;
  document.getElementById('nav').setAttribute('aria-label', t('mainNav'));
  const hash = location.hash.replace(/^#/, '');
  const params = new URLSearchParams(hash.includes('token=') ? hash : '');
  if (location.pathname.endsWith('/pesquisa')) return surveyPage(params.get('token') || '');
  if (location.pathname.endsWith('/convite') || location.pathname.endsWith('/nova-senha')) {
    return passwordPage(location.pathname.endsWith('/convite') ? '/v1/invitations/accept' : '/v1/auth/password-reset/confirm', params.get('token') || '');
  }
  if (!me) {
    try { me = await api('GET', '/v1/me'); } catch (e) { me = null; }
  }
  renderNav();
  if (!me) return loginPage();
  const path = hash || '/';
  const page = PAGES.find((p) => (path === p.path || path.startsWith(p.path + '/') || path.startsWith(p.path + '?')) && p.visible());
  if (page) return page.render(path.slice(page.path.length));
  if (path.startsWith('/t/')) return ticketPage(decodeURIComponent(path.slice(3)));
  if (path === '/nova') return newTicketPage();
  if (path.split('?')[0] === '/painel' && !isCustomer()) return panelPage();
  return isCustomer() ? dashboardPage() : queuePage();
}

async function logout() {
  try { await api('POST', '/v1/auth/logout'); } catch (e) { /* already gone */ }
  me = null;
  clearDrafts();
  location.hash = '#/';
  route();
}

// ---------------------------------------------------------------- sign-in and passwords

function loginPage() {
  const status = el('div', { id: 'login-status', role: 'status' });
  const form = el('form', { id: 'login-form', 'aria-labelledby': 'login-title' },
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: 'email', required: true, autocomplete: 'username' })),
    el('label', {}, t('password'), el('input', { type: 'password', name: 'password', id: 'password', required: true, autocomplete: 'current-password' })),
    el('button', { type: 'submit', id: 'login-submit', text: t('login') }), status,
    el('button', { type: 'button', class: 'link', id: 'forgot-password', text: t('forgot'), onclick: async () => {
      const field = form.elements.email;
      const email = field.value.trim();
      // Without an address (or with one that is not an address) the link cannot go anywhere: say
      // so at the field, which keeps the focus (the press did nothing before).
      if (!email || !field.checkValidity()) {
        field.setAttribute('aria-invalid', 'true');
        status.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'forgot-needs-email', text: t('forgotNeedsEmail') }));
        return field.focus();
      }
      field.removeAttribute('aria-invalid');
      await api('POST', '/v1/auth/password-reset', { email }).catch(() => null);
      status.replaceChildren(el('p', { class: 'ok', id: 'reset-sent', text: t('resetSent') }));
    } }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/v1/auth/login', { email: form.elements.email.value, password: form.elements.password.value });
      me = null;
      // The page asked for stays (a link from an e-mail to a ticket or an article, followed while
      // signed out): signing out leaves '#/', so this is the first page otherwise.
      route();
    } catch (error) { status.replaceChildren(errorBox(error)); }
  });
  show(el('h1', { id: 'login-title', text: t('login') }), form);
}

// The page of an invitation's or a reset's link: the password (the policy said before it is
// typed, account.js's words) twice; a refusal names the field by its label (formRefused).
function passwordPage(endpoint, token) {
  const status = el('div', { id: 'set-password-status', role: 'status' });
  const form = el('form', { id: 'set-password-form' },
    el('label', {}, t('newPassword'), el('input', { type: 'password', name: 'password', id: 'new-password', required: true, minlength: 12,
      autocomplete: 'new-password', 'aria-describedby': 'password-rules' })),
    el('p', { class: 'muted', id: 'password-rules', text: t('passwordRules') }),
    el('label', {}, t('repeatPassword'), el('input', { type: 'password', name: 'repeat', id: 'repeat-password', required: true, minlength: 12,
      autocomplete: 'new-password' })),
    el('button', { type: 'submit', id: 'set-password-submit', text: t('submit') }), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.elements.password.value !== form.elements.repeat.value) {
      return formRefused(form, status, { message: t('passwordsDiffer'), details: [] });
    }
    try {
      await api('POST', endpoint, { token, password: form.elements.password.value });
      status.replaceChildren(el('p', { class: 'ok', text: t('passwordSet') }), el('a', { href: '/portal/', id: 'password-sign-in', text: t('login') }));
    } catch (error) { formRefused(form, status, error); }
  });
  show(el('h1', { text: t('choosePassword') }), form);
}

// ---------------------------------------------------------------- customer

// The SLA badge of a queue row (workflow fills sla_state, sla_due_at_ms and sla_warn_at_ms in
// ListQueue). A running clock counts down on the page ("vence em 1 h 20 min"); once its warning
// time passes it shows as at risk, once its due time passes as breached, before workflow's timer
// marks it and the next load confirms it.
function slaBadge(row) {
  const state = row.sla_state || '';
  if (!state) return el('span', { class: 'muted', text: '—' });
  const due = Number(row.sla_due_at_ms || 0), warn = Number(row.sla_warn_at_ms || 0);
  const badge = el('span', { 'data-sla': state, title: due ? when(due) : '' });
  if (due && (state === 'on_time' || state === 'at_risk')) {
    badge.dataset.slaDue = String(due);
    badge.dataset.slaState = state;
    if (warn) badge.dataset.slaWarn = String(warn);
  }
  paintSLABadge(badge, state, due, Date.now(), warn);
  return badge;
}

const SLA_NAMES = { on_time: 'slaOnTime', at_risk: 'slaAtRisk', breached: 'slaBreached', paused: 'slaPaused' };

function paintSLABadge(badge, state, due, now, warn = 0) {
  const running = state === 'on_time' || state === 'at_risk';
  const shown = running && due && due <= now ? 'breached' : state === 'on_time' && warn && warn <= now ? 'at_risk' : state;
  let suffix = '';
  if (due && running && due > now) suffix = ` · ${t('dueIn')} ${timeLeft(due - now)}`;
  else if (due && shown === 'breached') suffix = ` · ${t('dueWas')} ${when(due)}`;
  else if (due) suffix = ` · ${t('until')} ${when(due)}`;
  badge.className = `badge sla sla-${shown.replace('_', '-')}`;
  badge.dataset.sla = shown;
  badge.textContent = t(SLA_NAMES[shown] || shown) + suffix;
}

// "2 d 3 h", "1 h 20 min", "5 min", "< 1 min".
function timeLeft(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return '< 1 min';
  const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${rest} min`;
}

// Repaints the running clocks' badges on the page (every 30 s; `now` lets a test move time on).
function refreshSLABadges(now = Date.now()) {
  document.querySelectorAll('[data-sla-due]').forEach((badge) => {
    paintSLABadge(badge, badge.dataset.slaState, Number(badge.dataset.slaDue), now, Number(badge.dataset.slaWarn || 0));
  });
}
setInterval(() => refreshSLABadges(), 30000);

// A ticket's SLA targets for the team (GET /v1/tickets/{id}/sla): first response, next response
// and resolution while they apply, each with the queue's badge (a running clock counts down and
// turns at risk, then breached, on the page) or, once stopped, met (or met late) and when.
const SLA_TARGETS = { FIRST_RESPONSE: 'slaFirstResponse', NEXT_RESPONSE: 'slaNextResponse', RESOLUTION: 'slaResolution' };
function ticketSLA(id) {
  const list = el('dl', { class: 'facts', id: 'ticket-sla' });
  const section = el('div', { hidden: true }, el('h2', { text: t('slaDeadlines') }), list);
  api('GET', `/v1/tickets/${encodeURIComponent(id)}/sla`).then((answer) => {
    const targets = (answer.targets || []).filter((target) => ['running', 'paused', 'met', 'breached'].includes(target.status));
    list.replaceChildren(...targets.flatMap((target) => {
      const stopped = Number(target.stopped_at_ms || 0);
      const badge = stopped
        ? el('span', { class: `badge sla ${target.status === 'met' ? 'sla-on-time' : 'sla-breached'}`, 'data-sla': target.status,
          text: `${t(target.status === 'met' ? 'slaTargetMet' : 'slaTargetLate')} · ${when(stopped)}` })
        : slaBadge({ sla_state: target.status === 'running' ? 'on_time' : target.status, sla_due_at_ms: target.due_at_ms, sla_warn_at_ms: target.warn_at_ms });
      badge.dataset.target = target.target;
      return [el('dt', { text: t(SLA_TARGETS[target.target] || target.target) }), el('dd', {}, badge)];
    }));
    section.hidden = targets.length === 0;
  }).catch(() => null);
  return section;
}

// A table `id` with `headers` and `rows`, or, without rows, a muted line `emptyId` saying `empty`.
function rowsTable(id, headers, rows, emptyId, empty) {
  if (!rows.length) return el('p', { class: 'muted', id: emptyId, text: empty });
  return el('table', { id }, el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))), el('tbody', {}, rows));
}

function ticketTable(rows, id, withSLA, withOrganization) {
  if (!rows.length) return el('p', { class: 'muted', text: t('none') });
  const headers = [t('code'), t('subject')].concat(withOrganization ? [t('organization')] : [])
    .concat([t('state'), t('priority'), t('lastInteraction')]).concat(withSLA ? [t('holder'), t('sla')] : []);
  return el('table', { id },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows.map((row) => el('tr', { 'data-ticket': row.ticket_id },
      el('td', {}, el('a', { href: '#/t/' + encodeURIComponent(row.ticket_id), text: row.code || row.ticket_id })),
      el('td', { text: row.subject }),
      withOrganization ? el('td', { class: 'organization', text: row.organization_name || row.organization_id }) : null,
      // A finished ticket's stage says how it ended, as its page does ("Finalizado — resolvida").
      el('td', {}, el('span', { class: 'badge', 'data-outcome': row.outcome || null,
        text: stageName(row, row.stage) + (row.outcome ? ` — ${label(OUTCOMES, row.outcome)}` : '') })),
      el('td', { text: label(PRIORITIES, row.priority) }),
      el('td', { text: when(row.last_interaction_at_ms) }),
      withSLA ? el('td', { class: 'holder', text: [row.holder && row.holder.agent_name, row.holder && row.holder.group_name].filter(Boolean).join(' · ') }) : null,
      withSLA ? el('td', {}, slaBadge(row)) : null,
    ))));
}

// Links to the first page (when not on it) and the next one (when there is one) of a listing
// whose address is '<path>?<params>' ('#/' unless given): the filters stay, the cursor changes.
// Ids `<prefix>-first` and `<prefix>-next`.
function pageLinks(params, nextCursor, prefix, path = '#/') {
  const page = (cursor) => {
    const next = new URLSearchParams(params);
    if (cursor) next.set('cursor', cursor); else next.delete('cursor');
    return path + '?' + next.toString();
  };
  return el('p', { class: 'row' }, params.get('cursor') ? el('a', { href: page(''), id: `${prefix}-first`, text: t('firstPage') }) : null,
    nextCursor ? el('a', { href: page(nextCursor), id: `${prefix}-next`, text: t('nextPage') }) : null);
}

async function dashboardPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  show(el('p', { text: t('loading') }));
  const search = el('form', { id: 'tickets-search', class: 'row', 'aria-label': t('searchText') },
    el('label', {}, t('searchText'), el('input', { type: 'search', name: 'text', id: 'tickets-text', value: params.get('text') || '' })),
    el('button', { type: 'submit', class: 'secondary', id: 'tickets-search-submit', text: t('search') }));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = search.elements.text.value.trim();
    location.hash = text ? '#/?' + new URLSearchParams({ text }).toString() : '#/';
  });
  try {
    const query = new URLSearchParams({ page_size: '100' });
    for (const name of ['text', 'cursor']) if (params.get(name)) query.set(name, params.get(name));
    const list = await api('GET', '/v1/tickets?' + query.toString());
    const rows = list.tickets || [];
    const byState = {};
    rows.forEach((row) => { const key = stageName(row, row.stage); byState[key] = (byState[key] || 0) + 1; });
    show(el('h1', { text: t('dashboard') }),
      el('div', { class: 'cards' }, Object.entries(byState).map(([state, count]) => el('div', { class: 'card' }, el('strong', { text: count }), state))),
      // The cards count this page's tickets: say so when there are more.
      list.next_cursor || params.get('cursor') ? el('p', { class: 'muted', id: 'cards-note', text: t('cardsThisPage') }) : null,
      el('p', {}, el('a', { href: '#/nova', id: 'new-ticket', text: t('newTicket') })), search,
      ticketTable(rows, 'tickets', false, isRepresentative()), pageLinks(params, list.next_cursor, 'tickets'));
  } catch (error) { show(search, errorBox(error)); }
}

async function newTicketPage() {
  const draft = newId();
  // Only customers' drafts feed the deflection report (an agent registering a call is not one).
  const drafting = isCustomer();
  const draftQuery = drafting ? `&draft_id=${draft}` : '';
  const status = el('div');
  const suggestions = el('div', { class: 'suggestions', id: 'suggestions', hidden: true, 'aria-live': 'polite' });
  const faq = el('div', { id: 'faq' });
  const policy = el('details', { id: 'support-policy' }, el('summary', { text: `${t('priorities')} · ${t('tips')}` }));
  // Intake's support policy: what each category is for (under the category), what each priority
  // means (under the priority, and all of them with the writing tips in `policy`).
  const categoryHelp = el('p', { class: 'muted', id: 'category-help', 'aria-live': 'polite' });
  const priorityHelp = el('p', { class: 'muted', id: 'priority-help', 'aria-live': 'polite' });
  const explanations = { categories: {}, priorities: {} };
  const explain = () => {
    categoryHelp.textContent = explanations.categories[category.value] || '';
    priorityHelp.textContent = explanations.priorities[form.elements.priority.value] || '';
  };
  api('GET', '/v1/support-policy').then((p) => {
    for (const d of p.categories || []) explanations.categories[d.category] = bilingual(d, 'text');
    for (const d of p.priorities || []) explanations.priorities[d.priority] = bilingual(d, 'text');
    (p.priorities || []).forEach((d) => policy.append(el('p', {}, el('strong', { text: label(PRIORITIES, d.priority) + ': ' }), bilingual(d, 'text'))));
    const tips = lang === 'en' ? p.writing_tips_en : p.writing_tips_pt;
    if (tips) policy.append(el('p', { text: tips }));
    explain();
  }).catch(() => null);

  // Representatives: the organization (one they represent) and its contact the ticket is for.
  // Agents: the customer it is registered for, and the channel.
  const pickers = isRepresentative() ? representativePickers(status) : (isCustomer() ? null : agentPickers(status));

  // Estratégica is opened by staff only (intake refuses it from customers): not offered to them.
  const category = el('select', { name: 'category', id: 'category', required: true, 'aria-describedby': 'category-help' },
    Object.keys(CATEGORIES).filter((key) => !isCustomer() || key !== 'ESTRATEGICA').map((key) => el('option', { value: key, text: label(CATEGORIES, key) })));
  const loadFaq = async () => {
    try {
      const list = await api('GET', '/v1/knowledge/faq?limit=5&category=' + encodeURIComponent(category.value));
      // Each question unfolds its answer in place (the form keeps what was typed); opening an
      // article counts for the deflection report like a suggestion's.
      const items = (list.articles || []).map((a) => unfolding(a.title, async () => {
        const article = await api('GET', `/v1/knowledge/articles/${encodeURIComponent(a.id)}?${draftQuery.slice(1)}`);
        return renderedMarkdown(article.body_html);
      })).concat((list.forum || []).map((entry) => unfolding(entry.question, async () => el('p', { text: entry.answer }))));
      faq.replaceChildren(...(items.length ? [el('h2', { text: t('faq') }), el('ul', { class: 'faq' }, items)] : []));
    } catch (e) { faq.replaceChildren(); }
  };
  category.addEventListener('change', () => { loadFaq(); explain(); extra.reload(form.elements.product.value); });
  loadFaq();
  const details = technicalDetails();
  const extra = customFields(category);

  let timer = null;
  const subject = el('input', { name: 'subject', id: 'subject', required: true, maxlength: 200, autocomplete: 'off' });
  subject.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (subject.value.trim().length < 3) { suggestions.hidden = true; return; }
      try {
        const result = await api('GET', `/v1/knowledge/suggest?limit=5${draftQuery}&subject=${encodeURIComponent(subject.value)}`);
        const hits = result.hits || [];
        suggestions.hidden = hits.length === 0;
        // Each suggestion unfolds its answer under it once, and folds it again (unfolding): a second
        // click no longer appended the article twice, and a failed read says so there.
        suggestions.replaceChildren(el('strong', { text: t('suggestions') }), el('ul', {}, hits.map((hit) => {
          const item = unfolding(hit.title, async () => {
            if (hit.forum_entry) {
              // An answered question from the forum: question and answer, no article to count.
              const entry = await api('GET', `/v1/knowledge/forum/${encodeURIComponent(hit.id)}`);
              return el('div', { class: 'entry forum-entry' }, el('strong', { text: entry.question }), el('p', { text: entry.answer || hit.snippet }));
            }
            if (drafting) api('POST', `/v1/knowledge/drafts/${draft}/opened`, { article_id: hit.id }).catch(() => null);
            const article = await api('GET', `/v1/knowledge/articles/${encodeURIComponent(hit.id)}?${draftQuery.slice(1)}`);
            return el('div', { class: 'entry' }, el('strong', { text: article.title }), renderedMarkdown(article.body_html));
          });
          item.firstChild.classList.add('suggestion');
          item.firstChild.after(' ', el('span', { class: 'muted', text: hit.snippet }));
          return item;
        })));
      } catch (e) { suggestions.hidden = true; }
    }, 250);
  });

  const form = el('form', { id: 'ticket-form' });
  const picker = filePicker(form, { input: 'file-input', drop: 'drop', list: 'files' });
  form.append(...[
    pickers ? pickers.fields : null,
    el('label', {}, t('category'), category), categoryHelp, faq,
    el('label', {}, t('priority'), el('select', { name: 'priority', id: 'priority', 'aria-describedby': 'priority-help', onchange: () => explain() },
      Object.keys(PRIORITIES).map((key) => el('option', { value: key, selected: key === 'NORMAL', text: label(PRIORITIES, key) })))), priorityHelp,
    el('div', { class: 'row' },
      el('label', {}, t('product'), el('input', { name: 'product', id: 'product', required: true, maxlength: 100,
        onchange: () => extra.reload(form.elements.product.value) })),
      el('label', {}, t('module'), el('input', { name: 'module', id: 'module' }))),
    el('label', {}, t('subject'), subject), suggestions,
    el('label', {}, t('description'), el('textarea', { name: 'request', id: 'request', required: true })),
    policy, extra.node, details.node,
    picker.node,
    el('button', { type: 'submit', id: 'ticket-submit', text: t('submit') }), status].filter((node) => node));
  // What was typed comes back after leaving the page (keptDraft), with what depends on it.
  const draftKept = keptDraft(form, 'new-ticket', ['category', 'priority', 'product', 'module', 'subject', 'request']);
  if (draftKept.restored) {
    status.replaceChildren(el('p', { class: 'muted', id: 'draft-restored', text: t('draftRestored') }));
    explain();
    loadFaq();
    extra.reload(form.elements.product.value);
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('#ticket-submit');
    button.disabled = true;
    // Files may take a while to go: say so (a slow network showed a greyed button only).
    status.replaceChildren(el('p', { class: 'muted', id: 'ticket-sending', text: t('sending') }));
    try {
      // Small files travel inside the open wherever they stand, larger ones are uploaded first (sendableFiles).
      const values = Object.fromEntries(['category', 'priority', 'product', 'module', 'subject', 'request'].map((k) => [k, form.elements[k].value]));
      Object.assign(values, await sendableFiles(picker.files));
      values.channel = 'portal';
      const given = details.values();
      if (Object.keys(given).length) values.details = given;
      const fields = extra.values();
      if (fields.length) values.custom_fields = fields;
      if (pickers) {
        values.organization_id = pickers.organization.value;
        values.contact_id = pickers.contact.value;
        if (pickers.channel) values.channel = pickers.channel.value;
      }
      const opened = await api('POST', '/v1/tickets', values, { idempotencyKey: 'portal-' + draft });
      draftKept.clear();
      if (drafting) api('POST', `/v1/knowledge/drafts/${draft}/submitted`, { ticket_id: opened.ticket.id }).catch(() => null);
      location.hash = '#/t/' + encodeURIComponent(opened.ticket.id);
    } catch (error) {
      // The refusal names each field by its label and marks it (formRefused).
      formRefused(form, status, error);
      button.disabled = false;
    }
  });
  show(el('h1', { text: t(isCustomer() ? 'newTicket' : 'registerTicket') }), form);
}

// Intake's channels, inactive ones too (old tickets name them), read once per page load (the
// entries are kept, not the request: a read for a page left meanwhile never settles).
let channelEntries = null;
async function channels() {
  if (!channelEntries) {
    const entries = await api('GET', '/v1/channels?include_inactive=true').then((list) => list.entries || []).catch(() => []);
    if (entries.length) channelEntries = entries;
  }
  return channelEntries || [];
}

// Intake's channels by key, as {key: label in the page's language}.
async function channelLabels() {
  return Object.fromEntries((await channels()).map((e) => [e.key, bilingual(e, 'label') || e.key]));
}

// Who, what and where of a ticket, from intake's part (workflow's row when intake's is missing)
// and workflow's holder; `channels` names the channel keys.
function ticketFacts(intake, row, channels) {
  const person = (p) => (p && (p.name || p.email)) || '';
  const holder = row.holder || {};
  const facts = [
    [t('organization'), (intake.organization && intake.organization.name) || row.organization_name],
    [t('contact'), person(intake.contact) || row.contact_name],
    [t('representativeLabel'), person(intake.representative)],
    // Workflow's classification first: an agent may have reclassified the ticket since it opened.
    [t('category'), label(CATEGORIES, row.category || intake.category)], [t('priority'), label(PRIORITIES, row.priority || intake.priority)],
    [t('product'), [intake.product || row.product, intake.module || row.module].filter(Boolean).join(' / ')],
    [t('channel'), channels[intake.channel] || intake.channel], [t('holder'), [holder.agent_name, holder.group_name].filter(Boolean).join(' · ')],
    [t('registeredBy'), person(intake.registered_by_agent)],
  ].filter(([, value]) => value && !/_UNSPECIFIED$/.test(value));
  return el('dl', { class: 'facts', id: 'ticket-facts' }, ...facts.flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: value })]));
}

// The technical details support always asks for (intake's TechnicalDetails), in the form's
// order: the field, its label, and how it is asked: 'line', 'text' (several lines), or the
// choices as [value sent, its label's key or null when the value is its own label].
const DETAIL_FIELDS = [
  ['system_version', 'systemVersion', 'line'], ['database', 'database', [['SQL Server', null], ['Oracle', null], ['PostgreSQL', null]]],
  ['environment', 'environment', [['local', 'envLocal'], ['three-tier', 'envThreeTier'], ['cloud', 'envCloud']]],
  ['test_environment_access', 'testEnvironmentAccess', 'line'], ['company_branch', 'companyBranch', 'line'], ['routine', 'routine', 'line'],
  ['example_record', 'exampleRecord', 'line'], ['previous_version', 'previousVersion', 'line'], ['current_version', 'currentVersion', 'line'],
  ['happens_since', 'happensSince', 'line'], ['affected_users', 'affectedUsers', [['one user', 'oneUser'], ['all users', 'allUsers']]],
  ['steps_to_reproduce', 'stepsToReproduce', 'text'], ['expected_behaviour', 'expectedBehaviour', 'text'],
  ['operational_impact', 'operationalImpact', 'text'],
];

// The technical details given when the ticket was opened, in the form's order and words.
function technicalFacts(intake) {
  const details = intake.details || {};
  const given = DETAIL_FIELDS.filter(([name]) => details[name]);
  if (!given.length) return null;
  const shown = ([name, , asked]) => {
    const choice = Array.isArray(asked) ? asked.find(([value]) => value === details[name]) : null;
    return choice && choice[1] ? t(choice[1]) : details[name];
  };
  return el('div', {}, el('h2', { text: t('technicalDetailsTitle') }), el('dl', { class: 'facts', id: 'ticket-details' },
    ...given.flatMap((field) => [el('dt', { text: t(field[1]) }), el('dd', { text: shown(field) })])));
}

// The custom fields' answers, named by their labels (inactive fields too: the ticket kept them);
// `visit` (a ticketVisit) reads the fields' definitions once per visit of the ticket page.
async function customFieldFacts(intake, visit = ticketVisit()) {
  const answers = intake.custom_fields || [];
  if (!answers.length) return null;
  const fields = await visit.once('custom-fields', () => api('GET', '/v1/custom-fields?include_inactive=true'))
    .then((r) => r.fields || []).catch(() => []);
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
  const shown = (answer) => {
    const field = byKey[answer.key];
    if (field && field.kind === 'FIELD_BOOLEAN') return answer.value === 'true' ? t('yes') : t('no');
    return answer.value;
  };
  const name = (answer) => (byKey[answer.key] && bilingual(byKey[answer.key], 'label')) || answer.key;
  return el('div', {}, el('h2', { text: t('extraFields') }), el('dl', { class: 'facts', id: 'ticket-custom-fields' },
    ...answers.flatMap((answer) => [el('dt', { text: name(answer) }), el('dd', { text: shown(answer) })])));
}

// The technical details' form (DETAIL_FIELDS), folded under a summary: the one-line fields and
// choices side by side, the longer texts below. Only the fields given are sent.
function technicalDetails() {
  const field = ([name, key, asked]) => el('label', {}, t(key), Array.isArray(asked)
    ? el('select', { name, id: `details-${name}` }, [el('option', { value: '', text: t('notInformed') })]
      .concat(asked.map(([value, textKey]) => el('option', { value, text: textKey ? t(textKey) : value }))))
    : asked === 'text' ? el('textarea', { name, id: `details-${name}`, maxlength: 2000, rows: 3 })
      : el('input', { name, id: `details-${name}`, maxlength: 2000, autocomplete: 'off' }));
  const node = el('details', { id: 'technical-details' }, el('summary', { text: t('technicalDetails') }),
    el('div', { class: 'grid-fields' }, DETAIL_FIELDS.filter(([, , asked]) => asked !== 'text').map(field)),
    ...DETAIL_FIELDS.filter(([, , asked]) => asked === 'text').map(field));
  return {
    node,
    values: () => Object.fromEntries(Array.from(node.querySelectorAll('input, select, textarea'))
      .map((field) => [field.name, field.value.trim()]).filter(([, value]) => value)),
  };
}

// The custom fields (campos complementares) an administrator defined for the ticket's product
// and category, drawn by kind and sent as `custom_fields` ({key, value}: numbers with '.', dates
// YYYY-MM-DD, booleans "true"/"false", a choice's value). Drawn again when the category or the
// product changes; what was typed in a field that stays is kept.
function customFields(category) {
  const node = el('fieldset', { id: 'custom-fields', hidden: true });
  let shown = [];
  let asked = 0;
  const reload = async (product) => {
    const ticket = ++asked;
    let fields = [];
    try {
      const query = new URLSearchParams({ category: category.value });
      if (product && product.trim()) query.set('product', product.trim());
      // Without a product intake lists every product's fields: keep those of no product only.
      fields = ((await api('GET', '/v1/custom-fields?' + query.toString())).fields || [])
        .filter((f) => !f.product || f.product.trim().toLowerCase() === (product || '').trim().toLowerCase()).sort((a, b) => (a.position || 0) - (b.position || 0));
    } catch (e) { fields = []; }
    if (ticket !== asked) return;
    const typed = Object.fromEntries(shown.map(({ field, input }) => [field.key, input.type === 'checkbox' ? input.checked : input.value]));
    shown = fields.map((field) => {
      const id = `custom-${field.key}`;
      const name = bilingual(field, 'label') || field.key;
      let input;
      switch (field.kind) {
        case 'FIELD_NUMBER': input = el('input', { type: 'number', step: 'any', id, required: field.required }); break;
        case 'FIELD_DATE': input = el('input', { type: 'date', id, required: field.required }); break;
        case 'FIELD_BOOLEAN': input = el('input', { type: 'checkbox', id }); break;
        case 'FIELD_CHOICE': input = el('select', { id, required: field.required },
          [el('option', { value: '', text: t('notInformed') })].concat((field.choices || []).map((c) => el('option', { value: c, text: c })))); break;
        default: input = el('input', { id, maxlength: 2000, required: field.required, autocomplete: 'off' });
      }
      if (field.key in typed) { if (input.type === 'checkbox') input.checked = typed[field.key]; else input.value = typed[field.key]; }
      const labelNode = field.kind === 'FIELD_BOOLEAN' ? el('label', { class: 'row' }, input, name) : el('label', {}, name + (field.required ? ' *' : ''), input);
      return { field, input, labelNode };
    });
    node.replaceChildren(el('legend', { text: t('extraFields') }), ...shown.map((s) => s.labelNode));
    node.hidden = shown.length === 0;
  };
  reload('');
  return {
    node,
    reload,
    values: () => shown.map(({ field, input }) => ({ key: field.key, value: input.type === 'checkbox' ? String(input.checked) : input.value.trim() }))
      .filter((v, i) => v.value !== '' || shown[i].field.kind === 'FIELD_BOOLEAN'),
  };
}

// The organization and contact pickers of a representative's new ticket: the organizations come
// from the principal (/v1/me; names from intake, which checks each is represented), the contacts
// authorized to open tickets from intake's /v1/organizations/{id}/contacts.
function representativePickers(status) {
  const { organization, contact, note, loadContacts } = organizationContactPickers(status);
  const ids = (me.principal.represented_organization_ids || []);
  Promise.all(ids.map((id) => api('GET', '/v1/organizations/' + encodeURIComponent(id)).catch(() => null))).then((found) => {
    found.filter((o) => o && o.active).sort((a, b) => a.name.localeCompare(b.name, 'pt-BR'))
      .forEach((o) => organization.append(el('option', { value: o.id, text: o.code ? `${o.name} (${o.code})` : o.name })));
    if (organization.options.length === 2) { organization.selectedIndex = 1; loadContacts(); }
  });
  const fields = el('fieldset', { id: 'represented' }, el('legend', { text: t('onBehalf') }),
    el('p', { class: 'muted', text: t('openFor') }),
    el('label', {}, t('organization'), organization), el('label', {}, t('contact'), contact), note);
  return { fields, organization, contact };
}

// A CPF (000.000.000-00) or CNPJ (00.000.000/0000-00, letters allowed in the first 12) as people
// write it; anything else as stored. (customers.js's pages and the agent's customer picker.)
function taxIdText(taxId) {
  const value = String(taxId || '');
  if (/^\d{11}$/.test(value)) return value.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4');
  if (/^[0-9A-Z]{12}\d{2}$/.test(value)) return value.replace(/^(.{2})(.{3})(.{3})(.{4})(.{2})$/, '$1.$2.$3/$4-$5');
  return value;
}

// The organizations intake's lookup finds for `query` (a code, a name's start, a CPF/CNPJ or a
// contact's e-mail; `GET /v1/customers`, at most `limit` of each kind), active or not, by name:
// a contact found names its organization, fetched when not among the matches.
async function findOrganizations(query, limit) {
  const found = await api('GET', `/v1/customers?limit=${limit}&q=${encodeURIComponent(query)}`);
  const byId = {};
  for (const o of found.organizations || []) byId[o.id] = o;
  const missing = [...new Set((found.contacts || []).map((c) => c.organization_id).filter((id) => id && !byId[id]))];
  for (const o of await Promise.all(missing.map((id) => api('GET', '/v1/organizations/' + encodeURIComponent(id)).catch(() => null)))) {
    if (o) byId[o.id] = o;
  }
  return Object.values(byId).sort((a, b) => a.name.localeCompare(b.name, 'pt-BR'));
}

// An agent registering a call or message for a customer: the organization found by code, name,
// CNPJ/CPF or a contact's e-mail (intake's lookup), one of its contacts authorized to open
// tickets, and the channel it came through (intake's list; phone by default). Intake records the
// agent as the one who registered it.
function agentPickers(status) {
  const { organization, contact, note, loadContacts } = organizationContactPickers(status);
  const search = el('input', { type: 'search', id: 'customer-search', autocomplete: 'off', 'aria-describedby': 'customer-search-note' });
  const searchNote = el('p', { class: 'muted', id: 'customer-search-note', 'aria-live': 'polite', text: t('customerSearchHint') });
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = search.value.trim();
      if (query.length < 2) return;
      try {
        const list = (await findOrganizations(query, 20)).filter((o) => o.active);
        organization.replaceChildren(el('option', { value: '', text: t('chooseOrganization') }),
          ...list.map((o) => el('option', { value: o.id, text: [o.name, o.code, taxIdText(o.tax_id)].filter(Boolean).join(' · ') })));
        searchNote.textContent = list.length ? tf('customersFound', { count: list.length }) : t('noCustomerFound');
        if (list.length === 1) organization.selectedIndex = 1;
        loadContacts();
      } catch (error) { status.replaceChildren(errorBox(error)); }
    }, 250);
  });
  const channel = el('select', { name: 'channel', id: 'channel' });
  // Not the portal's nor the integrations' (api): an agent registers what came another way.
  channels().then((entries) => channel.replaceChildren(...entries.filter((e) => e.active && e.key !== 'portal' && e.key !== 'api')
    .map((e) => el('option', { value: e.key, selected: e.key === 'phone', text: bilingual(e, 'label') || e.key }))));
  const fields = el('fieldset', { id: 'registered-for' }, el('legend', { text: t('registerFor') }),
    el('label', {}, t('customerSearch'), search), searchNote,
    el('label', {}, t('organization'), organization), el('label', {}, t('contact'), contact), note,
    el('label', {}, t('channel'), channel));
  return { fields, organization, contact, channel };
}

// An organization select and the select of its contacts authorized to open tickets, filled when
// the organization changes (`loadContacts`).
function organizationContactPickers(status) {
  const organization = el('select', { name: 'organization_id', id: 'organization', required: true },
    el('option', { value: '', text: t('chooseOrganization') }));
  const contact = el('select', { name: 'contact_id', id: 'contact', required: true, disabled: true },
    el('option', { value: '', text: t('chooseContact') }));
  const note = el('p', { class: 'muted', id: 'contact-note', 'aria-live': 'polite' });
  const loadContacts = async () => {
    contact.replaceChildren(el('option', { value: '', text: t('chooseContact') }));
    contact.disabled = true;
    note.textContent = '';
    if (!organization.value) return;
    try {
      const list = await api('GET', `/v1/organizations/${encodeURIComponent(organization.value)}/contacts?authorized_only=true`);
      const contacts = list.contacts || [];
      contacts.forEach((c) => contact.append(el('option', { value: c.id, text: c.email ? `${c.name} <${c.email}>` : c.name })));
      contact.disabled = contacts.length === 0;
      if (contacts.length === 1) contact.selectedIndex = 1;
      if (!contacts.length) note.textContent = t('noContacts');
    } catch (error) { status.replaceChildren(errorBox(error)); }
  };
  organization.addEventListener('change', loadContacts);
  return { organization, contact, note, loadContacts };
}

// ---------------------------------------------------------------- ticket page (customers and agents)

// What one visit of a ticket page reads that its actions do not change (the agent's transfer
// destinations, the organization's contacts, the related tickets, the custom fields' definitions):
// `once(key, load)` reads it the first time and hands the same answer to every redraw after an
// action; an action that does change one names it (`act`'s `changes`), and only that is read
// again. A failed read is tried again at the next redraw. Opening the page (the route) starts a
// new visit.
function ticketVisit() {
  const loads = new Map();
  return {
    once(key, load) {
      if (!loads.has(key)) loads.set(key, load().catch((error) => { loads.delete(key); throw error; }));
      return loads.get(key);
    },
    forget(keys) { keys.forEach((key) => loads.delete(key)); },
  };
}

// A ticket's history as the page shows it: intake's customer messages and workflow's discussion
// merged by time. Each service answers its newest page (GET /v1/tickets/{id}), saying how many
// older items it left out and the cursor that asks for them (GET /v1/tickets/{id}/conversation).
// Only entries from the newest list's cut onwards are shown, so the history never skips one
// list's items between two shown of the other; `loadEarlier` reads the next page of the list(s)
// whose cut is the newest, `loadAll` every page (for printing).
function ticketConversation(ticketId, intake, workflow) {
  const lists = {
    messages: { items: intake.messages || [], older: Number(intake.older_messages || 0), before: intake.messages_before || '',
      at: (m) => Number(m.created_at_ms) },
    discussion: { items: (workflow && workflow.discussion) || [], older: Number((workflow && workflow.older_discussion) || 0),
      before: (workflow && workflow.discussion_before) || '', at: (d) => Number(d.added_at_ms) },
  };
  const cut = (list) => (list.older > 0 && list.items.length ? Math.min(...list.items.map(list.at)) : -Infinity);
  const horizon = () => Math.max(...Object.values(lists).map(cut));
  const read = async (key, limit) => {
    const list = lists[key];
    const page = await api('GET', `/v1/tickets/${encodeURIComponent(ticketId)}/conversation?${key}_before=${encodeURIComponent(list.before)}`
      + (limit ? `&limit=${limit}` : ''));
    list.items = (page[key] || []).concat(list.items);
    list.older = Number(page[`older_${key}`] || 0);
    list.before = page[`${key}_before`] || '';
    if (!list.before) list.older = 0;
  };
  return {
    entries() {
      const from = horizon();
      const entries = [];
      lists.messages.items.forEach((m) => entries.push({ at: m.created_at_ms, who: (m.author && m.author.name) || '', text: m.text, kind: 'customer',
        files: m.attachments || [] }));
      lists.discussion.items.forEach((d) => {
        if (d.kind === 'customer_reply') return; // already among intake's messages
        entries.push({ at: d.added_at_ms, who: d.author_name, text: d.text, kind: d.kind, internal: !d.is_public, files: d.attachments || [],
          entryId: d.entry_id, publishable: !!d.publishable });
      });
      return entries.filter((e) => Number(e.at) >= from).sort((a, b) => Number(a.at) - Number(b.at));
    },
    hasEarlier() { return Object.values(lists).some((list) => list.older > 0); },
    async loadEarlier() {
      const from = horizon();
      await Promise.all(Object.keys(lists).filter((key) => lists[key].older > 0 && cut(lists[key]) >= from).map((key) => read(key)));
    },
    async loadAll() {
      while (this.hasEarlier()) {
        await Promise.all(Object.keys(lists).filter((key) => lists[key].older > 0).map((key) => read(key, 200)));
      }
    },
  };
}

// A refusal by the ticket's state shown on the page drawn again: its details say what about the
// ticket, not which API field ("ticket_id: Marque as mensagens como lidas." read as code).
const ticketRefusal = (error) => errorBox({ message: error.message, details: (error.details || []).map((d) => Object.assign({}, d, { field: '' })) });

// What the page shows of the ticket (workflow's stage and holder), sent with the changes made from
// it (`expected`): workflow refuses one when the ticket has since moved or changed hands (422, the
// page drawn again as it is now) rather than applying it to a ticket the agent did not see.
// Nothing while workflow's part is missing.
const ticketExpectation = (row) => row && row.stage
  ? { stage: row.stage, agent_id: (row.holder && row.holder.agent_id) || '', group_id: (row.holder && row.holder.group_id) || '' } : undefined;

// `notice`: what the action that drew the page again did ("Salvo."), or the refusal that showed
// the page was out of date, shown on the new page.
async function ticketPage(id, visit = ticketVisit(), notice = '') {
  show(el('p', { text: t('loading') }));
  let view;
  try { view = await api('GET', '/v1/tickets/' + encodeURIComponent(id)); } catch (error) { return show(errorBox(error)); }
  const intake = view.intake || {};
  const workflow = view.workflow || null;
  const row = (workflow && workflow.row) || {};
  // Until workflow's part arrives, intake's own status ("open", "cancelled", "finished"), named;
  // so too once intake closed the ticket and workflow has not caught up (a customer's cancel
  // drawn at once). Customers read their flow's words for a stage ("Aguardando sua resposta"),
  // the team the stage's own name.
  const closedAtIntake = intake.status === 'cancelled' || intake.status === 'finished';
  const workflowStage = workflow && (isCustomer() && workflow.customer_stage_name ? stageName(workflow, row.stage, 'customer_stage_name')
    : stageName(row, row.stage));
  const workflowFinal = workflow && (Number(workflow.finished_at_ms || 0) > 0 || !!workflow.outcome);
  // A finished ticket says how it ended, as the move form named the move ("Finalizado —
  // resolvida por configuração"); workflow clears the outcome when a ticket reopens.
  const stage = ((closedAtIntake && !workflowFinal ? label(INTAKE_STATUSES, intake.status) : workflowStage)
    || label(INTAKE_STATUSES, intake.status || '') || '') + (workflowFinal && workflow.outcome ? ` — ${label(OUTCOMES, workflow.outcome)}` : '');
  // The history a page at a time (ticketConversation): the newest of intake's messages and
  // workflow's discussion, older ones on "Mostrar anteriores"; printing reads every page first.
  const conversation = ticketConversation(intake.id || id, intake, workflow);
  const status = el('div', { id: 'action-status', role: 'status' },
    notice instanceof Error ? ticketRefusal(notice) : notice ? el('p', { class: 'ok', id: 'action-notice', text: notice }) : null);
  // The page drawn again after an action: the same visit (what the action cannot change is not
  // read again), saying what the action did.
  const reload = (done = '') => ticketPage(id, visit, done);
  // An action of a form (or a lone button), sent from its `event` (the form's submit or the
  // button's click: Safari does not focus a clicked button, so the page never guesses from the
  // focus): the pressed button is disabled while it goes and the page says so; a refusal names
  // the fields by their labels on the form it came from (formRefused), and the form keeps what
  // was typed. `changes`: what the action changes of the visit's reads (ticketVisit).
  const act = async (method, path, body, { changes = [], event = null } = {}) => {
    const source = event ? (event.type === 'submit' ? event.target : event.currentTarget) : null;
    const form = source && (source.tagName === 'FORM' ? source : source.form) || null;
    const button = (event && event.submitter) || (source && source.tagName === 'BUTTON' ? source : null)
      || (form && form.querySelector('button[type="submit"]'));
    if (button) button.disabled = true;
    status.replaceChildren(el('p', { class: 'muted', text: t('sending') }));
    try {
      await api(method, path, body);
      visit.forget(changes);
      reload(t('saved'));
    } catch (error) {
      // Refused by the ticket's state (someone else took it meanwhile, a move no longer allowed,
      // unread messages): the page is drawn again as the ticket is now, with the refusal, and
      // what was typed on the refused form put back in its fields (a justification, a note).
      if ([403, 409, 422].includes(error.status)) {
        const typed = form ? typedValues(form) : [];
        await reload(error);
        return restoreTyped(typed);
      }
      if (form) formRefused(form, status, error); else status.replaceChildren(errorBox(error));
      announce(status, ...status.childNodes);
      if (button) button.disabled = false;
    }
  };
  // Customers: accepting or rejecting a proposed solution, and the survey once finished (filled below).
  const verdict = el('div', { id: 'solution-verdict' });
  const survey = el('div', { id: 'ticket-survey' });
  // A file's download link; an internal one (listed to staff only) says so.
  const attachmentLink = (a) => el('span', {}, el('a', { href: '/v1/attachments/' + encodeURIComponent(a.id), 'data-attachment': a.id, text: a.file_name }),
    a.internal ? el('span', { class: 'muted internal-file', text: ` (${t('internalFile')})` }) : null);
  // Every file of the ticket, grouped by the message that brought it: the open's, then each
  // customer message's and each team entry's (workflow's discussion lists an entry's files, which
  // intake keeps as the ticket's own), oldest first; within a group in the order the open or the
  // message lists them (the order the person chose), each with its name and size (also shown on
  // the message in the history below).
  const fileItem = (a) => el('li', {}, attachmentLink(a), el('span', { class: 'muted file-size', text: ` (${byteSize(a.size_bytes || 0)})` }));
  const fileGroup = (title, files, key) => el('section', { class: 'attachment-group', 'data-message': key || null },
    el('h3', { text: title }), el('ul', {}, files.map(fileItem)));
  const teamEntries = ((workflow && workflow.discussion) || []).filter((d) => d.kind !== 'customer_reply' && (d.attachments || []).length);
  const onEntries = new Set(teamEntries.flatMap((d) => d.attachments.map((a) => a.id)));
  const opening = (intake.attachments || []).filter((a) => !onEntries.has(a.id));
  const attachmentGroups = (opening.length ? [fileGroup(t('openingFiles'), opening, '')] : []).concat(
    (intake.messages || []).filter((m) => (m.attachments || []).length).map((m) => ({ at: Number(m.created_at_ms),
      node: fileGroup(tf('messageFiles', { who: (m.author && m.author.name) || '', when: when(m.created_at_ms) }), m.attachments, m.id) }))
      .concat(teamEntries.map((d) => ({ at: Number(d.added_at_ms),
        node: fileGroup(tf('entryFiles', { who: d.author_name || '', when: when(d.added_at_ms) }), d.attachments, d.entry_id) })))
      .sort((a, b) => a.at - b.at).map((group) => group.node));
  const history = el('div', { id: 'history', tabindex: '-1' });
  const earlier = el('button', { type: 'button', id: 'show-earlier', class: 'secondary', 'aria-controls': 'history',
    title: t('showEarlierHint'), text: t('showEarlier') });
  earlier.addEventListener('click', async () => {
    earlier.disabled = true;
    try {
      await conversation.loadEarlier();
      status.replaceChildren();
    } catch (error) { status.replaceChildren(errorBox(error)); }
    earlier.disabled = false;
    drawHistory();
    // Keyboard users stay on the button while there is more; else on the history they asked for.
    (earlier.hidden ? history : earlier).focus();
  });

  const page = [
    el('h1', { id: 'ticket-title' }, el('span', { class: 'muted', text: (intake.code || id) + ' · ' }), intake.subject || row.subject || ''),
    view.workflow_unavailable ? el('p', { id: 'workflow-unavailable', class: 'error', role: 'alert', text: t('workflowUnavailable') }) : null,
    el('p', {}, el('span', { class: 'badge', id: 'ticket-stage', text: stage }), ' ', el('span', { class: 'muted', text: `${t('opened')} ${when(intake.opened_at_ms)}` }),
      ' ', el('button', { type: 'button', class: 'secondary', id: 'print-ticket', text: t('print'), onclick: async () => {
        try { await conversation.loadAll(); } catch (error) { return status.replaceChildren(errorBox(error)); }
        drawHistory();
        window.print();
      } })),
    ticketFacts(intake, row, await channelLabels()), isCustomer() ? null : ticketSLA(intake.id || id),
    el('h2', { text: t('request') }), el('p', { id: 'ticket-request', text: intake.request || (workflow && workflow.request) || '' }),
    technicalFacts(intake), await customFieldFacts(intake, visit),
    attachmentGroups.length ? el('div', { id: 'ticket-attachments' }, el('h2', { text: t('attachments') }), attachmentGroups) : null,
    workflow && workflow.solution ? el('div', {}, el('h2', { text: t('solution') }), markdownText(workflow.solution, { id: 'ticket-solution' })) : null,
    verdict, survey,
    el('h2', { text: t('history') }), earlier, history,
    status,
  ];
  // One entry of the history.
  function historyEntry(e) {
    return el('div', { class: 'entry' + (e.internal ? ' internal' : ''), 'data-entry': e.entryId || null },
      el('div', { class: 'meta', text: [when(e.at), e.who || '', (t('entryKinds') || {})[e.kind] || e.kind, e.internal ? t('internalMark') : '',
        e.publishable ? t('publishableMark') : ''].filter(Boolean).join(' · ') }),
      // A solution is written in Markdown (drawn as its safe subset); other entries as typed.
      e.kind === 'solution' || e.kind === 'possible_solution' ? markdownText(e.text) : el('p', { text: e.text }),
      e.files && e.files.length ? el('ul', { class: 'entry-files', 'aria-label': t('attachments') }, e.files.map((a) => el('li', {}, attachmentLink(a)))) : null,
      // Staff send a public answer to the knowledge editors' queue for the forum (anonymised
      // there); internal entries are not offered.
      !isCustomer() && e.entryId && !e.internal && !e.publishable ? el('button', { type: 'button', class: 'link mark-publishable', text: t('markPublishable'),
        'aria-label': tf('markPublishableOf', { who: e.who || '' }),
        onclick: (event) => act('POST', `/v1/tickets/${encodeURIComponent(id)}/discussion/${encodeURIComponent(e.entryId)}/publishable`, {}, { event }) }) : null);
  }
  // The entries loaded so far that nothing older is missing between (see ticketConversation),
  // and the button while there are earlier ones.
  function drawHistory() {
    history.replaceChildren(...conversation.entries().map(historyEntry));
    earlier.hidden = !conversation.hasEarlier();
  }
  drawHistory();

  if (isCustomer()) {
    // The reply: text, files or both (small files inside the reply, larger ones uploaded first),
    // with the same picker as the new ticket's.
    const reply = el('form', { id: 'reply-form' });
    const replyFiles = filePicker(reply, { input: 'reply-file-input', drop: 'reply-drop', list: 'reply-files' });
    const replyButton = el('button', { type: 'submit', id: 'reply-submit', text: t('send') });
    reply.append(el('label', {}, t('reply'), el('textarea', { name: 'text', id: 'reply-text' })), replyFiles.node, replyButton);
    const replyDraft = keptDraft(reply, `reply.${id}`, ['text']);
    reply.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = reply.elements.text.value;
      if (!text.trim() && !replyFiles.files.length) return announce(status, errorBox(new Error(t('replyEmpty'))));
      sendWithFiles({ path: `/v1/tickets/${encodeURIComponent(id)}/replies`, body: { text }, picker: replyFiles, button: replyButton, status,
        keyPrefix: 'portal-reply-', done: () => { replyDraft.clear(); reload(t('saved')); } });
    });
    const cancel = el('form', { id: 'cancel-form' },
      el('label', {}, t('reason'), el('input', { name: 'reason', id: 'cancel-reason', required: true })),
      el('button', { type: 'submit', id: 'cancel-submit', class: 'secondary', text: t('cancel') }));
    cancel.addEventListener('submit', (e) => { e.preventDefault(); act('POST', `/v1/tickets/${encodeURIComponent(id)}/cancel`, { reason: cancel.elements.reason.value }, { event: e }); });
    // Nothing to answer or cancel once either service closed the ticket. Cancelling, and accepting
    // or rejecting a proposed solution, are offered only to whom intake and workflow let decide for
    // the ticket (ServiceKit's TicketDecisionRule): its contact, its representative's people and
    // the company's administrators (a colleague reads and answers it).
    const finished = workflowFinal || closedAtIntake;
    const mayDecide = isRepresentative()
      ? !!(intake.representative && intake.representative.id && intake.representative.id === me.principal.representative_id)
      : !!(intake.contact && intake.contact.id === me.principal.id) || !!me.principal.organization_admin;
    if (!finished) page.push(reply, mayDecide ? cancel : null);
    // Accept / reject a proposed solution, in any flow: workflow says when the ticket awaits the
    // customer's acceptance (its flow's customer moves, or status "cliente_informado").
    if (workflow && workflow.awaiting_acceptance && mayDecide) {
      const answer = (accept, event) => act('POST', `/v1/tickets/${encodeURIComponent(id)}/solution/answer`, { accept, reason: reason.value }, { event });
      const reason = el('textarea', { name: 'reason', id: 'reject-reason' });
      verdict.replaceChildren(el('h2', { text: t('proposedSolution') }),
        el('form', { id: 'verdict-form' },
          el('button', { type: 'button', id: 'accept-solution', text: t('acceptSolution'), onclick: (event) => answer(true, event) }),
          el('label', {}, t('rejectReason'), reason),
          el('button', { type: 'button', class: 'secondary', id: 'reject-solution', text: t('rejectSolution'), onclick: (event) => answer(false, event) })));
    }
    // The satisfaction survey of a finished ticket, answered here by the signed-in customer.
    if (finished) {
      api('GET', `/v1/tickets/${encodeURIComponent(id)}/survey`).then((answer) => {
        if (answer.answered) {
          survey.replaceChildren(el('h2', { text: t('survey') }),
            el('p', { id: 'survey-answer' }, `${t('yourAnswer')}: ${answer.score}/5`, answer.comment ? ` — ${answer.comment}` : ''));
        } else if (answer.token) {
          survey.replaceChildren(el('h2', { text: t('survey') }), surveyForm(answer.token, 'ticket-survey-form', () => reload(t('thanks'))));
        }
      }).catch(() => null);
    }
  } else {
    const take = el('button', { type: 'button', id: 'take', text: t('take'), onclick: (event) => act('POST', `/v1/tickets/${encodeURIComponent(id)}/take`, undefined, { event }) });
    // The allowed moves; the note or the text for the customer a move needs is asked for
    // (required, and its label says so) while that move is chosen.
    const moves = el('select', { name: 'to_stage', id: 'move-stage' });
    const moveNote = el('input', { name: 'note', id: 'move-note' });
    const movePublicNote = el('input', { name: 'public_note', id: 'move-public-note' });
    const noteCaption = document.createTextNode(t('note'));
    const publicNoteCaption = document.createTextNode(t('publicNote'));
    const askNotes = () => {
      const chosen = moves.selectedOptions[0];
      moveNote.required = !!(chosen && chosen.dataset.requiresNote);
      movePublicNote.required = !!(chosen && chosen.dataset.requiresPublicNote);
      noteCaption.textContent = moveNote.required ? `${t('note')} ${t('noteRequired')}` : t('note');
      publicNoteCaption.textContent = movePublicNote.required ? `${t('publicNote')} ${t('publicNoteRequired')}` : t('publicNote');
    };
    moves.addEventListener('change', askNotes);
    api('GET', `/v1/tickets/${encodeURIComponent(id)}/moves`).then((m) => {
      (m.moves || []).forEach((move) => moves.append(el('option', { value: move.to_stage,
        text: stageName(move, move.to_stage) + (move.outcome ? ` — ${label(OUTCOMES, move.outcome)}` : ''), 'data-outcome': move.outcome || null,
        'data-requires-note': move.requires_note ? '1' : null, 'data-requires-public-note': move.requires_public_note ? '1' : null })));
      askNotes();
    }).catch(() => null);
    const move = el('form', { id: 'move-form' },
      el('label', {}, t('move'), moves),
      el('label', {}, noteCaption, moveNote),
      el('label', {}, publicNoteCaption, movePublicNote),
      el('button', { type: 'submit', text: t('move') }));
    move.addEventListener('submit', (e) => {
      e.preventDefault();
      act('POST', `/v1/tickets/${encodeURIComponent(id)}/move`, { to_stage: moves.value, note: move.elements.note.value, public_note: move.elements.public_note.value,
        expected: ticketExpectation(row) }, { event: e });
    });
    const current = (row.status && row.status.status) || '';
    const statusSelect = el('select', { name: 'status', id: 'status-select' }, el('option', { value: '', text: t('statusNone') }),
      Object.keys(STAGE_STATUSES).map((key) => el('option', { value: key, selected: key === current, text: label(STAGE_STATUSES, key) })));
    const statusForm = el('form', { id: 'status-form' },
      el('p', {}, t('stageStatus') + ': ', el('span', { class: 'badge', id: 'ticket-status', 'data-status': current,
        text: current ? `${label(STAGE_STATUSES, current)} · ${row.status.set_by_name || ''}` : t('statusNone') })),
      el('label', {}, t('stageStatus'), statusSelect),
      el('label', {}, t('reason'), el('input', { name: 'reason', id: 'status-reason' })),
      el('button', { type: 'submit', id: 'status-submit', class: 'secondary', text: t('setStatus') }));
    statusForm.addEventListener('submit', (e) => {
      e.preventDefault();
      act('POST', `/v1/tickets/${encodeURIComponent(id)}/status`, { status: statusSelect.value, reason: statusForm.elements.reason.value,
        expected: ticketExpectation(row) }, { event: e });
    });
    // A discussion entry with files, picked, dropped or pasted as in the customer's reply; an
    // internal entry's files are internal (customers never see them).
    const discussion = el('form', { id: 'discussion-form' });
    const discussionFiles = filePicker(discussion, { input: 'discussion-file-input', drop: 'discussion-drop', list: 'discussion-files' });
    const discussionButton = el('button', { type: 'submit', id: 'discussion-submit', text: t('add') });
    discussion.append(el('label', {}, t('discussion'), el('textarea', { name: 'text', id: 'discussion-text', required: true })),
      el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'is_public', id: 'discussion-public' }), t('isPublic')),
      discussionFiles.node, discussionButton);
    const discussionDraft = keptDraft(discussion, `discussion.${id}`, ['text']);
    discussion.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = discussion.elements.text.value;
      if (!text.trim()) return announce(status, errorBox(new Error(t('discussionEmpty'))));
      // Refused by the ticket's state (it changed hands while the page was open: "você não é mais
      // o responsável…"), the page is drawn again as the ticket is now, with the refusal, as the
      // other actions are (act); the typed text is kept (its draft). Not while files are picked:
      // a page drawn again would drop them, so the refusal is shown in place.
      sendWithFiles({ path: `/v1/tickets/${encodeURIComponent(id)}/discussion`, body: { text, is_public: discussion.elements.is_public.checked },
        picker: discussionFiles, button: discussionButton, status, keyPrefix: 'portal-discussion-', done: () => { discussionDraft.clear(); reload(t('saved')); },
        refused: (error) => [403, 409, 422].includes(error.status) && !discussionFiles.files.length && (reload(error), true) });
    });
    const solution = el('form', { id: 'solution-form' },
      el('label', {}, t('solution'), el('textarea', { name: 'text', id: 'solution-text', required: true })),
      el('button', { type: 'submit', id: 'solution-submit', text: t('setSolution') }));
    solution.addEventListener('submit', (e) => {
      e.preventDefault();
      act('POST', `/v1/tickets/${encodeURIComponent(id)}/solution`, { text: solution.elements.text.value }, { event: e });
    });
    const hits = el('ul', { id: 'article-hits' });
    const articles = el('form', { id: 'article-form', 'aria-label': t('linkArticle') },
      el('label', {}, t('searchArticles'), el('input', { name: 'q', id: 'article-query', required: true })),
      el('button', { type: 'submit', id: 'article-search', class: 'secondary', text: t('search') }), hits);
    articles.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const found = await api('GET', '/v1/knowledge/search?q=' + encodeURIComponent(articles.elements.q.value));
        // Only articles can be linked to a ticket; forum entries are answered questions.
        const linkable = (found.hits || []).filter((hit) => !hit.forum_entry);
        hits.replaceChildren(...linkable.map((hit) => el('li', { class: 'row' }, el('span', { text: hit.title }),
          el('button', { type: 'button', class: 'article-link', 'data-article': hit.id, text: t('link'),
            onclick: (event) => act('POST', `/v1/tickets/${encodeURIComponent(id)}/articles`, { article_id: hit.id }, { event }) }))));
        if (!linkable.length) hits.replaceChildren(el('li', { class: 'muted', text: t('none') }));
      } catch (error) { status.replaceChildren(errorBox(error)); }
    });
    const contact = view.intake && view.intake.contact ? view.intake.contact.email || '' : '';
    const email = el('form', { id: 'email-form', 'aria-label': t('emailAbout') },
      el('label', {}, t('emailTo'), el('input', { name: 'to', id: 'email-to', required: true, value: contact })),
      el('label', {}, t('emailSubject'), el('input', { name: 'subject', id: 'email-subject' })),
      el('label', {}, t('emailBody'), el('textarea', { name: 'body', id: 'email-body', required: true })),
      el('button', { type: 'submit', id: 'email-submit', text: t('emailSend') }));
    email.addEventListener('submit', async (e) => {
      e.preventDefault();
      const to = email.elements.to.value.split(',').map((a) => a.trim()).filter((a) => a);
      try {
        await api('POST', `/v1/tickets/${encodeURIComponent(id)}/email`,
          { to, subject: email.elements.subject.value, body: email.elements.body.value, ticket_code: intake.code || '' }, { idempotencyKey: newId() });
        email.reset();
        status.replaceChildren(el('p', { class: 'ok', id: 'email-sent', text: t('emailSent') }));
      } catch (error) {
        // No longer the holder (someone took the ticket meanwhile): the page is drawn again as
        // the ticket is now, with the refusal, and the message typed put back, as for the moves.
        if (error.status === 422) {
          const typed = typedValues(email);
          await reload(error);
          return restoreTyped(typed);
        }
        status.replaceChildren(errorBox(error));
      }
    });
    // Workflow finishes a ticket only once its customer messages are read: say how many are not,
    // with the button marking them read (MarkMessagesRead).
    const unread = Number(row.unread_messages || 0);
    const unreadNote = unread > 0 ? el('p', { id: 'unread-messages', class: 'row' }, el('span', { text: tf('unreadMessages', { count: unread }) }),
      el('button', { type: 'button', id: 'mark-read', class: 'secondary', text: t('markRead'),
        onclick: (event) => act('POST', `/v1/tickets/${encodeURIComponent(id)}/read`, {}, { event }) })) : null;
    // The actions in a section of their own, left out of the printed ticket (portal.css).
    page.push(el('section', { id: 'ticket-actions', class: 'no-print' },
      el('h2', { text: t('actions') }), unreadNote, el('p', {}, take), move, statusForm, ...handlingForms(id, row, intake, act, visit), discussion, solution,
      el('h2', { text: t('linkArticle') }), articles, el('h2', { text: t('emailAbout') }), email,
      workflow && workflow.solution ? faqRequestForm(id, intake, row, workflow, status) : null));
  }
  show(...page);
  // Drawn again after an action: its outcome ("Salvo.", or the refusal) is focused, so it is in
  // view where the person was working (not the top of the page) and read out next.
  if (notice) announce(status, ...status.childNodes);
}

// An agent's request for a FAQ from a solved ticket: its question and solution (editable here)
// go to the knowledge editors' queue with what the service needs to anonymise them.
function faqRequestForm(id, intake, row, workflow, status) {
  const form = el('form', { id: 'faq-request-form', 'aria-labelledby': 'faq-request-title' },
    el('p', { class: 'muted', text: t('requestFaqHint') }),
    el('label', {}, t('faqSolution'), el('textarea', { name: 'solution', id: 'faq-request-solution', required: true, text: workflow.solution })),
    el('label', {}, t('requestFaqNote'), el('input', { name: 'note', id: 'faq-request-note', maxlength: 500, autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'faq-request-submit', class: 'secondary', text: t('requestFaq') }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', `/v1/tickets/${encodeURIComponent(id)}/faq-request`, {
        ticket_code: intake.code || '', organization_name: (intake.organization && intake.organization.name) || row.organization_name || '',
        contact_name: (intake.contact && intake.contact.name) || row.contact_name || '',
        request_text: [intake.subject || row.subject, intake.request || workflow.request].filter(Boolean).join('\n\n'),
        solution_text: form.elements.solution.value, product: intake.product || row.product || '', module: intake.module || row.module || '',
        category: row.category || intake.category || '', note: form.elements.note.value }, { idempotencyKey: `portal-faq-${id}-${newId()}` });
      form.elements.note.value = '';
      status.replaceChildren(el('p', { class: 'ok', id: 'faq-requested', text: t('faqRequested') }));
    } catch (error) { status.replaceChildren(errorBox(error)); }
  });
  return el('div', {}, el('h2', { id: 'faq-request-title', text: t('requestFaq') }), form);
}

// ---------------------------------------------------------------- agent queue

async function queuePage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const keep = (name) => params.get(name) || '';
  show(el('h1', { text: t('queue') }), el('p', { text: t('loading') }));
  // Stages with their names and open counts (workflow's CountByStage), groups for the filter, and
  // the organization the queue is narrowed to (from its page on #/clientes), named.
  const organizationID = keep('organization_id');
  const [counts, groups, organization] = await Promise.all([api('GET', '/v1/tickets/counts').catch(() => ({})), api('GET', '/v1/groups').catch(() => ({})),
    organizationID ? api('GET', '/v1/organizations/' + encodeURIComponent(organizationID)).catch(() => ({ id: organizationID })) : null]);
  // "Todas" (etapa, prioridade, categoria) or "Todos" (grupo, SLA): `all` names the first option.
  const choice = (name, entries, all = 'all') => el('select', { name, id: `queue-${name}` }, el('option', { value: '', text: t(all) }),
    entries.map(([value, text]) => el('option', { value, selected: keep(name) === value, text })));
  const filters = el('form', { id: 'queue-filters', class: 'row', 'aria-label': t('filters') },
    el('label', {}, t('stage'), choice('stage', (counts.counts || []).map((c) => [c.stage, `${stageName(c, c.stage)} (${c.count || 0})`]))),
    el('label', {}, t('priority'), choice('priority', Object.keys(PRIORITIES).map((key) => [key, label(PRIORITIES, key)]))),
    el('label', {}, t('category'), choice('category', Object.keys(CATEGORIES).map((key) => [key, label(CATEGORIES, key)]))),
    el('label', {}, t('group'), choice('group_id', (groups.groups || []).map((g) => [g.id, g.name]), 'allMasculine')),
    el('label', {}, t('sla'), choice('sla_state', [['breached', t('slaBreached')], ['at_risk', t('slaAtRisk')], ['paused', t('slaPaused')], ['on_track', t('slaOnTime')]],
      'allMasculine')),
    el('label', {}, t('searchText'), el('input', { type: 'search', name: 'text', id: 'queue-text', value: keep('text') })),
    el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'mine', id: 'queue-mine', checked: keep('mine') === 'true' }), t('onlyMine')),
    organization ? el('input', { type: 'hidden', name: 'organization_id', value: organization.id }) : null,
    el('button', { type: 'submit', id: 'queue-filter', text: t('filters') }));
  // Only this organization's tickets, kept by the filters; a link lists every organization's again.
  const everyOrganization = new URLSearchParams(params);
  everyOrganization.delete('organization_id');
  everyOrganization.delete('cursor');
  const organizationNote = organization ? el('p', { id: 'queue-organization' }, tf('queueOfOrganization', { name: organization.name || organization.id }), ' ',
    el('a', { href: '#/?' + everyOrganization.toString(), id: 'queue-every-organization', text: t('queueEveryOrganization') })) : null;
  const names = ['stage', 'priority', 'category', 'group_id', 'sla_state', 'text', 'organization_id'];
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const name of names) if (filters.elements[name] && filters.elements[name].value.trim()) query.set(name, filters.elements[name].value.trim());
    if (filters.elements.mine.checked) query.set('mine', 'true');
    location.hash = '#/?' + query.toString();
  });
  show(el('h1', { text: t('queue') }), filters, organizationNote, el('p', { text: t('loading') }));
  try {
    const query = new URLSearchParams({ page_size: '50' });
    for (const name of names.concat(['mine', 'cursor'])) if (keep(name)) query.set(name, keep(name));
    const list = await api('GET', '/v1/tickets?' + query.toString());
    show(el('h1', { text: t('queue') }), filters, organizationNote, ticketTable(list.tickets || [], 'queue', true, true), pageLinks(params, list.next_cursor, 'queue'));
  } catch (error) { show(el('h1', { text: t('queue') }), filters, organizationNote, errorBox(error)); }
}

// ---------------------------------------------------------------- agent dashboard: dashboard.js

// ---------------------------------------------------------------- satisfaction survey (link from the e-mail)

// The survey form: a score 1–5 and a comment, sent with the signed token to /v1/surveys/answer.
function surveyForm(token, id, done) {
  const status = el('div', { id: `${id}-status`, role: 'status' });
  const scores = el('fieldset', {}, el('legend', { text: t('score') }),
    [1, 2, 3, 4, 5].map((n) => el('label', { class: 'row' }, el('input', { type: 'radio', name: 'score', value: n, id: `${id}-score-${n}`, required: true }), String(n))));
  const button = el('button', { type: 'submit', id: `${id}-submit`, text: t('submit') });
  const form = el('form', { id }, scores, el('label', {}, t('comment'), el('textarea', { name: 'comment', id: `${id}-comment` })), button, status);
  // Sent once: the button waits while the answer goes (a second press answered a survey already
  // answered and showed that refusal under the thanks).
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.replaceChildren(el('p', { class: 'muted', text: t('sending') }));
    try {
      await api('POST', '/v1/surveys/answer', { token, score: Number(form.elements.score.value), comment: form.elements.comment.value });
      done();
    } catch (error) {
      status.replaceChildren(errorBox(error));
      button.disabled = false;
    }
  });
  return form;
}

// The page the e-mail's link opens: which ticket the survey is about (code, subject, when it was
// finished: all the link's token reveals), then the form; an answered or expired survey says so.
async function surveyPage(token) {
  const heading = el('h1', { text: t('survey') });
  const thanks = () => show(heading, el('p', { class: 'ok', text: t('thanks') }));
  try {
    const about = await api('GET', `/v1/surveys/about?token=${encodeURIComponent(token)}`);
    const ticket = el('p', { id: 'survey-ticket' }, el('strong', { text: about.code || '' }), ` — ${about.subject || ''}`);
    const finished = el('p', { id: 'survey-finished', class: 'muted', text: `${t('surveyFinished')} ${when(about.finished_at_ms)}` });
    if (about.answered) return show(heading, ticket, finished, el('p', { id: 'survey-answered', text: t('surveyAnswered') }));
    show(heading, ticket, finished, surveyForm(token, 'survey-form', thanks));
  } catch (error) { show(heading, errorBox(error)); }
}

// ---------------------------------------------------------------- start

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'en' ? 'pt-BR' : 'en';
    localStorage.setItem('ocorrencias.lang', lang);
    route();
  });
  window.addEventListener('hashchange', route);
  route();
});

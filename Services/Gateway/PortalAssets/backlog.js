'use strict';
// The development page (#/desenvolvimento): workflow's development backlog. The items in Análise
// produto, Para desenvolver and Em desenvolvimento (GET /v1/backlog, in workflow's order: category
// rank, priority, estimated effort, age), by version, with their priority, product, estimated
// effort and current step; filters by stage, version and product (the route's own). Product
// management (product.decide, as workflow checks) keeps the versions, plans items into a version
// (which moves an item of Para desenvolver into Em desenvolvimento), deletes a version no item is
// planned into, delivers a version (its items still in development are finished, "Entregue na
// versão X" shown to their customers: the outcome lists them) and sets an item's estimated effort
// and promised delivery date. Step sequences per ticket type are listed to all staff and kept by
// routing.manage; an item in development shows its steps, its required fields and advances to
// the next step (workflow checks the fields and assigns the next step's holder). Every write is
// workflow's to refuse: its per-field reasons show beside the form and nothing is stored.
// Staff see the page (workflow lets every staff member read the backlog and whoever holds an item
// advance its steps); customers get no link, no page, and 403 from the routes.
// Loaded after portal.js and team.js and built from their helpers (el, api, show, t, tf, label,
// when, errorBox, changeThen, rowsTable, PRIORITIES, CATEGORIES, isCustomer, isAdministrator); its link and
// path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  blgTitle: 'Desenvolvimento', blgIntro: 'Itens em análise de produto, aceitos para desenvolver e em desenvolvimento, na ordem do backlog (categoria, prioridade, esforço estimado, idade), por versão.',
  blgReadOnly: 'Planejar e entregar versões pede a permissão de decisão de produto (product.decide); as sequências de passos, a de roteamento (routing.manage).',
  blgStageAll: '(todas as etapas do desenvolvimento)', blgVersionAny: '(qualquer versão)', blgVersionNone: 'Sem versão', blgProductAny: 'Produto (vazio: todos)',
  blgFilter: 'Filtrar', blgVersion: 'Versão', blgEffort: 'Esforço (h)', blgStep: 'Passo', blgNoItems: 'Nenhum item neste filtro.',
  blgStepOf: '{n}/{count} {name}', blgStepDone: 'concluídos ({count})', blgPlan: 'Planejar', blgPlanIn: 'Versão para {code}', blgPlanOf: 'Planejar {code} na versão escolhida',
  blgPlanned: '{code} planejada na versão {version}.', blgSteps: 'Passos', blgDetails: 'Detalhes', blgDetailsOf: 'Planejamento e passos de {code}', blgNextPage: 'Próxima página', blgFirstPage: 'Primeira página',
  blgTarget: 'Data prevista', blgPlannedItems: 'Itens planejados', blgDeliveredAt: 'Entregue em', blgDeliver: 'Entregar', blgDeliverOf: 'Entregar a versão {name}',
  blgConfirmDeliver: 'Entregar a versão {name}? Os itens ainda em desenvolvimento nela são finalizados e os clientes veem “Entregue na versão {name}”.',
  blgDelivered: 'Versão {name} entregue: {count} ocorrência(s) finalizada(s).', blgDeliveredNone: 'Versão {name} entregue: nenhum item estava em desenvolvimento nela.',
  blgVersions: 'Versões', blgVersionsIntro: 'Planejadas mensalmente pela gestão de produto. Entregar uma versão finaliza os seus itens ainda em desenvolvimento.',
  blgNoVersions: 'Nenhuma versão.', blgNewVersion: 'Nova versão', blgEditVersion: 'Editar a versão {name}', blgVersionName: 'Nome da versão', blgSaveVersion: 'Salvar versão',
  blgVersionSaved: 'Versão {name} salva.', blgEdit: 'Editar', blgEditOf: 'Editar {name}', blgCancelEdit: 'Cancelar edição', blgOpenVersion: 'aberta',
  blgDeleteVersion: 'Excluir', blgDeleteVersionOf: 'Excluir a versão {name}', blgConfirmDeleteVersion: 'Excluir a versão {name}? Nenhum item está planejado nela.',
  blgVersionDeleted: 'Versão {name} excluída.',
  blgSequences: 'Sequências de passos', blgSequencesIntro: 'Cada tipo de ocorrência pode ter uma sequência de passos; cada passo tem um responsável (agente e/ou grupo) e campos obrigatórios para avançar. Uma ocorrência aberta com o campo ticket_type (ou tipo) começa no primeiro passo.',
  blgNoSequences: 'Nenhuma sequência.', blgTicketType: 'Tipo de ocorrência', blgNewSequence: 'Nova sequência', blgEditSequence: 'Editar a sequência {type}',
  blgSaveSequence: 'Salvar sequência', blgSequenceSaved: 'Sequência {type} salva.', blgSequenceRemoved: 'Sequência {type} removida.',
  blgRemoveSequence: 'Remover', blgRemoveSequenceOf: 'Remover a sequência {type}', blgConfirmRemoveSequence: 'Remover a sequência {type}? As ocorrências já nela não avançam mais.',
  blgStepName: 'Nome do passo {n}', blgStepAgent: 'Agente do passo {n}', blgStepGroup: 'Grupo do passo {n}', blgStepFields: 'Campos obrigatórios do passo {n} (separados por vírgula)',
  blgAgent: 'Agente', blgRequiredFields: 'Campos obrigatórios', blgAddStep: 'Adicionar passo', blgRemoveStep: 'Remover o passo {n}', blgNobody: '(nenhum)', blgRequired: 'obrigatórios: {fields}',
  blgPlanning: 'Planejamento', blgEffortHours: 'Esforço estimado (horas)', blgPromised: 'Entrega prometida ao cliente',
  blgPromisedHint: 'Para Exigência fiscal: o cliente vê a data. Vazio mantém a data já prometida.', blgSavePlanning: 'Salvar planejamento',
  blgPlanningSaved: 'Planejamento de {code} salvo.', blgTicketNoSteps: 'Esta ocorrência não está em uma sequência de passos.', blgStartSteps: 'Iniciar passos',
  blgStarted: '{code} começou o passo {step}.', blgCurrent: 'atual', blgFieldsTitle: 'Campos do passo atual', blgSaveFields: 'Salvar campos', blgFieldsSaved: 'Campos de {code} salvos.',
  blgAdvance: 'Avançar para o próximo passo', blgAdvanced: '{code} avançou para {step}.', blgAllDone: 'Todos os passos concluídos.',
  blgOpenTicket: 'Abrir a ocorrência', blgClose: 'Fechar',
});
Object.assign(TEXT.en, {
  blgTitle: 'Development', blgIntro: 'Items in product analysis, accepted for development and in development, in backlog order (category, priority, estimated effort, age), by version.',
  blgReadOnly: 'Planning and delivering versions needs the product decision permission (product.decide); step sequences need routing (routing.manage).',
  blgStageAll: '(every development stage)', blgVersionAny: '(any version)', blgVersionNone: 'No version', blgProductAny: 'Product (empty: all)',
  blgFilter: 'Filter', blgVersion: 'Version', blgEffort: 'Effort (h)', blgStep: 'Step', blgNoItems: 'No items in this filter.',
  blgStepOf: '{n}/{count} {name}', blgStepDone: 'done ({count})', blgPlan: 'Plan', blgPlanIn: 'Version for {code}', blgPlanOf: 'Plan {code} in the chosen version',
  blgPlanned: '{code} planned in version {version}.', blgSteps: 'Steps', blgDetails: 'Details', blgDetailsOf: 'Planning and steps of {code}', blgNextPage: 'Next page', blgFirstPage: 'First page',
  blgTarget: 'Target date', blgPlannedItems: 'Planned items', blgDeliveredAt: 'Delivered on', blgDeliver: 'Deliver', blgDeliverOf: 'Deliver version {name}',
  blgConfirmDeliver: 'Deliver version {name}? Its items still in development are finished and their customers are told they were delivered in version {name}.',
  blgDelivered: 'Version {name} delivered: {count} ticket(s) finished.', blgDeliveredNone: 'Version {name} delivered: no item of it was in development.',
  blgVersions: 'Versions', blgVersionsIntro: 'Planned monthly by product management. Delivering a version finishes its items still in development.',
  blgNoVersions: 'No versions.', blgNewVersion: 'New version', blgEditVersion: 'Edit version {name}', blgVersionName: 'Version name', blgSaveVersion: 'Save version',
  blgVersionSaved: 'Version {name} saved.', blgEdit: 'Edit', blgEditOf: 'Edit {name}', blgCancelEdit: 'Cancel editing', blgOpenVersion: 'open',
  blgDeleteVersion: 'Delete', blgDeleteVersionOf: 'Delete version {name}', blgConfirmDeleteVersion: 'Delete version {name}? No item is planned in it.',
  blgVersionDeleted: 'Version {name} deleted.',
  blgSequences: 'Step sequences', blgSequencesIntro: 'Each ticket type may have a sequence of steps; each step has a holder (agent and/or group) and fields required to advance. A ticket opened with the field ticket_type (or tipo) starts on the first step.',
  blgNoSequences: 'No sequences.', blgTicketType: 'Ticket type', blgNewSequence: 'New sequence', blgEditSequence: 'Edit sequence {type}',
  blgSaveSequence: 'Save sequence', blgSequenceSaved: 'Sequence {type} saved.', blgSequenceRemoved: 'Sequence {type} removed.',
  blgRemoveSequence: 'Remove', blgRemoveSequenceOf: 'Remove sequence {type}', blgConfirmRemoveSequence: 'Remove sequence {type}? Tickets already on it no longer advance.',
  blgStepName: 'Name of step {n}', blgStepAgent: 'Agent of step {n}', blgStepGroup: 'Group of step {n}', blgStepFields: 'Required fields of step {n} (comma-separated)',
  blgAgent: 'Agent', blgRequiredFields: 'Required fields', blgAddStep: 'Add a step', blgRemoveStep: 'Remove step {n}', blgNobody: '(none)', blgRequired: 'required: {fields}',
  blgPlanning: 'Planning', blgEffortHours: 'Estimated effort (hours)', blgPromised: 'Delivery promised to the customer',
  blgPromisedHint: 'For tax requirements: the customer sees the date. Empty keeps the date already promised.', blgSavePlanning: 'Save planning',
  blgPlanningSaved: 'Planning of {code} saved.', blgTicketNoSteps: 'This ticket is not on a step sequence.', blgStartSteps: 'Start steps',
  blgStarted: '{code} started step {step}.', blgCurrent: 'current', blgFieldsTitle: 'Fields of the current step', blgSaveFields: 'Save fields', blgFieldsSaved: 'Fields of {code} saved.',
  blgAdvance: 'Advance to the next step', blgAdvanced: '{code} advanced to {step}.', blgAllDone: 'Every step done.',
  blgOpenTicket: 'Open the ticket', blgClose: 'Close',
});

// The stages the backlog lists (workflow's ListBacklog), with their names.
const BLG_STAGES = Object.fromEntries(['analise_produto', 'para_desenvolver', 'em_desenvolvimento'].map((code) => [code, SHIPPED_STAGES[code]]));

// Whether the signed-in person holds `permission`: administrators hold all; the gateway's
// principal, or the role workflow's directory gives the agent (`self.permissions`).
const blgHas = (self, permission) => isAdministrator() || (me.principal.permissions || []).includes(permission) || (self.permissions || []).includes(permission);
const blgDay = (ms) => (Number(ms || 0) ? new Date(Number(ms)).toLocaleDateString(lang === 'en' ? 'en-GB' : 'pt-BR') : '');
// A "YYYY-MM-DD" date input as epoch milliseconds (noon, so the day stays the day in any zone), and back.
const blgDateMs = (day) => new Date(`${day}T12:00:00`).getTime();
const blgDateInput = (ms) => {
  if (!Number(ms || 0)) return '';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
const blgAddress = (params) => '#/desenvolvimento' + (params.toString() ? '?' + params.toString() : '');

// Runs a write (portal.js's changeThen): on success draws the page again with the notice
// `done(answer)`, on refusal shows workflow's reasons in `status` (beside the form, which keeps
// what was typed). The button waits meanwhile.
async function blgSave(state, status, button, work, done) {
  if (button) button.disabled = true;
  status.replaceChildren();
  await changeThen(status, (notice) => blgPage(state.params, notice, state.openTicket))(work, (answer) => [done(answer || {})]);
  if (button) button.disabled = false;
}

async function blgPage(params, notice, openTicket) {
  show(el('h1', { text: t('blgTitle') }), el('p', { text: t('loading') }));
  const stage = params.get('etapa') || '', version = params.get('versao') || '', product = params.get('produto') || '';
  const page = Math.max(0, Number(params.get('pagina') || 0) || 0);
  const query = new URLSearchParams({ stage: stage || Object.keys(BLG_STAGES).join(','), page: String(page), page_size: '50' });
  if (version) query.set('version', version);
  if (product) query.set('product', product);
  let backlog, versions, sequences, agents, groups, self;
  try {
    [backlog, versions, sequences, agents, groups, self] = await Promise.all([api('GET', '/v1/backlog?' + query.toString()),
      api('GET', '/v1/versions?include_delivered=true'), api('GET', '/v1/step-sequences'), api('GET', '/v1/agents'), api('GET', '/v1/groups'),
      // The agent's own permissions; a sign-in that is no agent (the administrator) has none to read.
      me.user && !me.user.agent_id ? {} : api('GET', `/v1/agents/${encodeURIComponent(me.principal.id)}`).catch(() => ({}))]);
  } catch (error) { show(el('h1', { text: t('blgTitle') }), errorBox(error)); return; }
  const state = { params, openTicket, rows: backlog.tickets || [], next: backlog.next_cursor || '', page, versions: versions.versions || [],
    sequences: sequences.sequences || [], agents: agents.agents || [], groups: groups.groups || [],
    decide: blgHas(self, 'product.decide'), manage: blgHas(self, 'routing.manage') };
  state.agentName = (id) => ((state.agents.find((a) => a.id === id) || {}).name || id);
  state.groupName = (id) => ((state.groups.find((g) => g.id === id) || {}).name || id);
  const status = el('div', { id: 'blg-status', role: 'status' });
  if (notice) status.append(...[].concat(notice).map((n) => (n instanceof Node ? n : el('p', { class: 'ok', text: n }))));
  const ticketSlot = el('div', { id: 'blg-ticket-slot' });
  state.showTicket = (row) => blgTicketPanel(state, ticketSlot, row);
  show(el('h1', { text: t('blgTitle') }), el('p', { class: 'muted', text: t('blgIntro') }),
    state.decide && state.manage ? null : el('p', { class: 'muted', id: 'blg-read-only', text: t('blgReadOnly') }), status,
    blgFilters(state, stage, version, product), ...blgBacklog(state), ticketSlot, ...blgVersionSection(state), ...blgSequenceSection(state));
  if (openTicket) {
    const row = state.rows.find((r) => r.ticket_id === openTicket);
    if (row) state.showTicket(row);
  }
}

// ---------------------------------------------------------------- the backlog

function blgFilters(state, stage, version, product) {
  const stages = el('select', { name: 'etapa', id: 'blg-filter-stage' }, el('option', { value: '', text: t('blgStageAll') }),
    Object.keys(BLG_STAGES).map((code) => el('option', { value: code, selected: code === stage, text: label(BLG_STAGES, code) })));
  const versions = el('select', { name: 'versao', id: 'blg-filter-version' }, el('option', { value: '', text: t('blgVersionAny') }),
    el('option', { value: '-', selected: version === '-', text: t('blgVersionNone') }),
    state.versions.map((v) => el('option', { value: v.id, selected: v.id === version, text: v.name })));
  const products = el('input', { name: 'produto', id: 'blg-filter-product', maxlength: 200, autocomplete: 'off', value: product });
  const form = el('form', { id: 'blg-filters', class: 'row', 'aria-label': t('filters') },
    el('label', {}, t('stage'), stages), el('label', {}, t('blgVersion'), versions), el('label', {}, t('blgProductAny'), products),
    el('button', { type: 'submit', id: 'blg-filter-submit', text: t('blgFilter') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (stages.value) next.set('etapa', stages.value);
    if (versions.value) next.set('versao', versions.value);
    if (products.value.trim()) next.set('produto', products.value.trim());
    location.hash = blgAddress(next);
  });
  return form;
}

// The current step as "2/3 Codificação" (or done), '' when the item is on no sequence.
function blgStepText(row) {
  const position = Number(row.step_position || 0), count = Number(row.step_count || 0);
  if (!row.ticket_type || position < 0) return '';
  return position >= count ? tf('blgStepDone', { count }) : tf('blgStepOf', { n: position + 1, count, name: row.step_name || '' });
}

// The items, one group of rows per version (open versions by target date, then "Sem versão").
function blgBacklog(state) {
  const status = el('div', { id: 'blg-backlog-status', role: 'status' });
  const open = state.versions.filter((v) => !Number(v.delivered_at_ms || 0));
  const groups = new Map();
  for (const row of state.rows) {
    const key = row.version_id || '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  const order = Array.from(groups.keys()).sort((a, b) => {
    const rank = (id) => (id ? (state.versions.findIndex((v) => v.id === id) + 1 || 9999) : 10000);
    return rank(a) - rank(b);
  });
  const headers = [t('code'), t('subject'), t('product'), t('category'), t('priority'), t('stage'), t('blgEffort'), t('blgStep'), t('actions')];
  const body = [];
  for (const key of order) {
    const version = state.versions.find((v) => v.id === key);
    const title = key ? `${t('blgVersion')} ${(version && version.name) || groups.get(key)[0].version_name || key}${version ? ` · ${blgDay(version.target_date_ms)}` : ''}` : t('blgVersionNone');
    body.push(el('tr', { class: 'blg-group', 'data-version': key || '-' }, el('th', { scope: 'colgroup', colspan: headers.length, text: title })));
    for (const row of groups.get(key)) body.push(blgRow(state, row, open, status));
  }
  const table = state.rows.length ? el('table', { id: 'blg-backlog' }, el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, body)) : el('p', { class: 'muted', id: 'blg-backlog-empty', text: t('blgNoItems') });
  const pageAt = (n) => { const next = new URLSearchParams(state.params); if (n) next.set('pagina', String(n)); else next.delete('pagina'); return blgAddress(next); };
  const links = el('p', { class: 'row' }, state.page ? el('a', { href: pageAt(0), id: 'blg-first', text: t('blgFirstPage') }) : null,
    state.next ? el('a', { href: pageAt(state.page + 1), id: 'blg-next', text: t('blgNextPage') }) : null);
  return [status, table, links];
}

function blgRow(state, row, openVersions, status) {
  const code = row.code || row.ticket_id;
  const actions = el('td', { class: 'actions' });
  // Planning: an item accepted (Para desenvolver) or in development, into an open version.
  if (state.decide && openVersions.length && (row.stage === 'para_desenvolver' || row.stage === 'em_desenvolvimento')) {
    const choice = el('select', { class: 'blg-plan-version', 'aria-label': tf('blgPlanIn', { code }) },
      openVersions.map((v) => el('option', { value: v.id, selected: v.id === row.version_id, text: v.name })));
    // A select and a button (not a form: a form's frame would crowd the table's cell).
    const submit = el('button', { type: 'button', class: 'secondary blg-plan-submit', 'aria-label': tf('blgPlanOf', { code }), text: t('blgPlan'),
      onclick: () => {
        const name = choice.selectedOptions[0] ? choice.selectedOptions[0].textContent : choice.value;
        blgSave(state, status, submit, () => api('POST', `/v1/tickets/${encodeURIComponent(row.ticket_id)}/plan`, { version_id: choice.value }),
          () => tf('blgPlanned', { code, version: name }));
      } });
    actions.append(el('span', { class: 'row blg-plan' }, choice, submit));
  }
  // The item's planning (effort, promised date) and steps, below the list.
  if (state.decide || row.stage === 'em_desenvolvimento' || row.ticket_type) {
    actions.append(el('button', { type: 'button', class: 'link blg-details', 'aria-label': tf('blgDetailsOf', { code }), text: t('blgDetails'),
      onclick: () => state.showTicket(row) }));
  }
  return el('tr', { 'data-ticket': row.ticket_id },
    el('td', {}, el('a', { href: '#/t/' + encodeURIComponent(row.ticket_id), text: code })), el('td', { text: row.subject || '' }),
    el('td', { text: row.product || '' }), el('td', { text: label(CATEGORIES, row.category) }), el('td', { text: label(PRIORITIES, row.priority) }),
    el('td', {}, el('span', { class: 'badge', text: stageName(row, row.stage) })),
    el('td', { class: 'blg-effort', text: Number(row.estimated_effort_hours || 0) ? String(row.estimated_effort_hours) : '' }),
    el('td', { class: 'blg-step', text: blgStepText(row) }), actions);
}

// ---------------------------------------------------------------- one item: planning and steps

// Below the list: `row`'s planning (estimated effort and promised delivery date, for product
// management) and, on an item in development or on a sequence, its steps.
async function blgTicketPanel(state, slot, row) {
  const code = row.code || row.ticket_id;
  state.openTicket = row.ticket_id;
  slot.replaceChildren(el('p', { text: t('loading') }));
  let view;
  try {
    view = (await api('GET', `/v1/tickets/${encodeURIComponent(row.ticket_id)}`)).workflow || {};
  } catch (error) { slot.replaceChildren(errorBox(error)); return; }
  const status = el('div', { id: 'blg-ticket-status', role: 'status' });
  const close = el('button', { type: 'button', class: 'secondary', id: 'blg-ticket-close', text: t('blgClose'),
    onclick: () => { state.openTicket = ''; slot.replaceChildren(); } });
  const parts = [el('h2', { id: 'blg-ticket-title', text: `${code} · ${row.subject || ''}` }),
    el('p', { class: 'row' }, el('a', { href: '#/t/' + encodeURIComponent(row.ticket_id), text: t('blgOpenTicket') }), close), status];
  if (state.decide) parts.push(blgPlanningForm(state, status, row, view));
  if (row.stage === 'em_desenvolvimento' || view.ticket_type) parts.push(...blgStepsPart(state, status, row, view));
  slot.replaceChildren(el('section', { id: 'blg-ticket', 'aria-labelledby': 'blg-ticket-title' }, ...parts));
}

// The estimated effort (part of the backlog's order) and the delivery date promised to the
// customer (workflow's SetDevelopmentPlan; an empty date keeps the one given before).
function blgPlanningForm(state, status, row, view) {
  const code = row.code || row.ticket_id;
  const effort = el('input', { type: 'number', name: 'estimated_effort_hours', id: 'blg-effort', min: 0, step: 1, required: true,
    value: Number(view.estimated_effort_hours || 0) });
  const promised = el('input', { type: 'date', name: 'promised', id: 'blg-promised', value: blgDateInput(view.promised_delivery_ms),
    'aria-describedby': 'blg-promised-hint' });
  const form = el('form', { id: 'blg-planning-form', 'aria-labelledby': 'blg-planning-title' }, el('h3', { id: 'blg-planning-title', text: t('blgPlanning') }),
    el('label', {}, t('blgEffortHours'), effort), el('label', {}, t('blgPromised'), promised),
    el('p', { class: 'muted', id: 'blg-promised-hint', text: t('blgPromisedHint') }),
    el('p', {}, el('button', { type: 'submit', class: 'secondary', id: 'blg-planning-submit', text: t('blgSavePlanning') })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { estimated_effort_hours: Number(effort.value), promised_delivery_ms: promised.value ? blgDateMs(promised.value) : 0 };
    blgSave(state, status, form.querySelector('button'), () => api('POST', `/v1/tickets/${encodeURIComponent(row.ticket_id)}/development-plan`, body),
      () => tf('blgPlanningSaved', { code }));
  });
  return form;
}

// The steps of the item's ticket type with the current one marked, the current step's required
// fields (saved with SetTicketFields) and the button advancing it; or, on no sequence, starting one.
function blgStepsPart(state, status, row, view) {
  const code = row.code || row.ticket_id;
  const type = view.ticket_type || '';
  const sequence = state.sequences.find((s) => s.ticket_type === type);
  const steps = (sequence && sequence.steps) || [];
  const position = Number(view.step_position || 0);
  const parts = [el('h3', { id: 'blg-ticket-steps-title', text: t('blgSteps') })];
  if (!type || position < 0 || !sequence) {
    parts.push(el('p', { class: 'muted', id: 'blg-ticket-no-steps', text: t('blgTicketNoSteps') }));
    if (state.sequences.length) {
      const choice = el('select', { name: 'ticket_type', id: 'blg-start-type' }, state.sequences.map((s) => el('option', { value: s.ticket_type, text: s.ticket_type })));
      const start = el('form', { id: 'blg-start-form', class: 'row' }, el('label', {}, t('blgTicketType'), choice),
        el('button', { type: 'submit', id: 'blg-start-submit', text: t('blgStartSteps') }));
      start.addEventListener('submit', (event) => {
        event.preventDefault();
        blgSave(state, status, start.querySelector('button'), () => api('POST', `/v1/tickets/${encodeURIComponent(row.ticket_id)}/steps`, { ticket_type: choice.value }),
          (answer) => tf('blgStarted', { code, step: answer.step_name || '' }));
      });
      parts.push(start);
    }
    return parts;
  }
  parts.push(el('p', {}, `${t('blgTicketType')}: `, el('strong', { text: type })));
  parts.push(el('ol', { id: 'blg-ticket-steps' }, steps.map((step, index) => el('li', { 'data-step': index, class: index === position ? 'blg-current' : null,
    'aria-current': index === position ? 'step' : null },
    index === position ? el('strong', { text: step.name }) : step.name,
    ` · ${blgHolderText(state, step)}`,
    (step.required_fields || []).length ? ` · ${tf('blgRequired', { fields: step.required_fields.join(', ') })}` : '',
    index === position ? el('span', { class: 'badge', text: t('blgCurrent') }) : null))));
  if (position >= steps.length) {
    parts.push(el('p', { class: 'ok', id: 'blg-ticket-done', text: t('blgAllDone') }));
  } else {
    // A map field travels as a list of { key, value } (the gateway's JSON of protobuf maps).
    const fields = Object.fromEntries((view.fields || []).map((entry) => [entry.key, entry.value]));
    const required = steps[position].required_fields || [];
    if (required.length) {
      const inputs = required.map((name) => el('label', {}, name, el('input', { class: 'blg-field', 'data-field': name, maxlength: 500, autocomplete: 'off', value: fields[name] || '' })));
      const save = el('form', { id: 'blg-fields-form' }, el('h3', { text: t('blgFieldsTitle') }), ...inputs,
        el('p', {}, el('button', { type: 'submit', class: 'secondary', id: 'blg-fields-submit', text: t('blgSaveFields') })));
      save.addEventListener('submit', (event) => {
        event.preventDefault();
        const values = Array.from(save.querySelectorAll('.blg-field'), (input) => ({ key: input.dataset.field, value: input.value.trim() }));
        blgSave(state, status, save.querySelector('button'), () => api('POST', `/v1/tickets/${encodeURIComponent(row.ticket_id)}/fields`, { fields: values }),
          () => tf('blgFieldsSaved', { code }));
      });
      parts.push(save);
    }
    parts.push(el('p', {}, el('button', { type: 'button', id: 'blg-advance', text: t('blgAdvance'), onclick: (event) => blgSave(state, status, event.target,
      () => api('POST', `/v1/tickets/${encodeURIComponent(row.ticket_id)}/steps/advance`, {}),
      (answer) => tf('blgAdvanced', { code, step: answer.step_name || '' })) })));
  }
  return parts;
}

const blgHolderText = (state, step) => [step.agent_id ? state.agentName(step.agent_id) : '', step.group_id ? state.groupName(step.group_id) : '']
  .filter(Boolean).join(' · ');

// ---------------------------------------------------------------- versions

function blgVersionSection(state) {
  const slot = el('div', {});
  const open = (version) => {
    slot.replaceChildren(blgVersionForm(state, version, () => open(null)));
    if (version) slot.querySelector('input').focus();
  };
  if (state.decide) open(null);
  const status = el('div', { id: 'blg-versions-status', role: 'status' });
  const rows = state.versions.map((version) => {
    const delivered = Number(version.delivered_at_ms || 0);
    const deliver = () => {
      if (!confirm(tf('blgConfirmDeliver', { name: version.name }))) return;
      blgSave(state, status, null, () => api('POST', `/v1/versions/${encodeURIComponent(version.id)}/deliver`, {}), (answer) => blgDeliveredNotice(state, answer, version));
    };
    // Only a version no item is planned into (workflow refuses the others, saying how many).
    const remove = () => {
      if (!confirm(tf('blgConfirmDeleteVersion', { name: version.name }))) return;
      blgSave(state, status, null, () => api('DELETE', `/v1/versions/${encodeURIComponent(version.id)}`), () => tf('blgVersionDeleted', { name: version.name }));
    };
    const removable = !Number(version.planned_items || 0);
    return el('tr', { 'data-version': version.id },
      el('td', { text: version.name }), el('td', { text: blgDay(version.target_date_ms) }),
      el('td', { class: 'blg-planned-items', text: String(Number(version.planned_items || 0)) }),
      el('td', { class: 'blg-delivered', text: delivered ? when(delivered) : t('blgOpenVersion') }),
      state.decide ? el('td', { class: 'actions' }, delivered ? null : [
        el('button', { type: 'button', class: 'link blg-edit-version', 'aria-label': tf('blgEditOf', { name: version.name }), text: t('blgEdit'), onclick: () => open(version) }), ' ',
        el('button', { type: 'button', class: 'link blg-deliver', 'aria-label': tf('blgDeliverOf', { name: version.name }), text: t('blgDeliver'), onclick: deliver }), ' '],
        removable ? el('button', { type: 'button', class: 'link blg-delete-version', 'aria-label': tf('blgDeleteVersionOf', { name: version.name }),
          text: t('blgDeleteVersion'), onclick: remove }) : null) : null);
  });
  const headers = [t('blgVersionName'), t('blgTarget'), t('blgPlannedItems'), t('blgDeliveredAt')].concat(state.decide ? [t('actions')] : []);
  return [el('h2', { id: 'blg-versions-title', text: t('blgVersions') }), el('p', { class: 'muted', text: t('blgVersionsIntro') }), status,
    rowsTable('blg-versions', headers, rows, 'blg-versions-empty', t('blgNoVersions')), slot];
}

// What delivering a version did: the notice and the finished tickets, linked.
function blgDeliveredNotice(state, answer, version) {
  const finished = answer.finished_ticket_ids || [];
  const name = (answer.version && answer.version.name) || version.name;
  const codeOf = (id) => ((state.rows.find((r) => r.ticket_id === id) || {}).code || id);
  return el('div', { id: 'blg-delivered' }, el('p', { class: 'ok', text: tf(finished.length ? 'blgDelivered' : 'blgDeliveredNone', { name, count: finished.length }) }),
    finished.length ? el('ul', { id: 'blg-delivered-tickets' }, finished.map((id) => el('li', { 'data-ticket': id },
      el('a', { href: '#/t/' + encodeURIComponent(id), text: codeOf(id) })))) : null);
}

function blgVersionForm(state, version, cancel) {
  const editing = !!version;
  const name = el('input', { name: 'name', id: 'blg-version-name', required: true, maxlength: 120, autocomplete: 'off', value: editing ? version.name : '' });
  const target = el('input', { type: 'date', name: 'target', id: 'blg-version-target', required: true, value: editing ? blgDateInput(version.target_date_ms) : '' });
  const status = el('div', { id: 'blg-version-form-status', role: 'status' });
  const submit = el('button', { type: 'submit', id: 'blg-version-form-submit', text: t('blgSaveVersion') });
  const form = el('form', { id: 'blg-version-form', 'aria-labelledby': 'blg-version-form-title', novalidate: true },
    el('h3', { id: 'blg-version-form-title', text: editing ? tf('blgEditVersion', { name: version.name }) : t('blgNewVersion') }),
    el('label', {}, t('blgVersionName'), name), el('label', {}, t('blgTarget'), target), status,
    el('p', { class: 'row' }, submit, editing ? el('button', { type: 'button', class: 'secondary', id: 'blg-version-form-cancel', text: t('blgCancelEdit'), onclick: cancel }) : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Workflow checks the name and the date (its reasons show here); an empty date is sent as 0.
    const body = { version: { name: name.value.trim(), target_date_ms: target.value ? blgDateMs(target.value) : 0 } };
    if (editing) body.version.id = version.id;
    blgSave(state, status, submit, () => api('POST', '/v1/versions', body), () => tf('blgVersionSaved', { name: body.version.name }));
  });
  return form;
}

// ---------------------------------------------------------------- step sequences

function blgSequenceSection(state) {
  const slot = el('div', {});
  const open = (sequence) => {
    slot.replaceChildren(blgSequenceForm(state, sequence, () => open(null)));
    if (sequence) slot.querySelector('input:not([readonly])').focus();
  };
  if (state.manage) open(null);
  const status = el('div', { id: 'blg-sequences-status', role: 'status' });
  const rows = state.sequences.map((sequence) => {
    const type = sequence.ticket_type;
    const remove = () => {
      if (!confirm(tf('blgConfirmRemoveSequence', { type }))) return;
      blgSave(state, status, null, () => api('POST', '/v1/step-sequences', { ticket_type: type, steps: [] }), () => tf('blgSequenceRemoved', { type }));
    };
    return el('tr', { 'data-sequence': type }, el('td', { text: type }),
      el('td', {}, el('ol', { class: 'blg-sequence-steps' }, (sequence.steps || []).map((step) => el('li', {}, step.name, ` · ${blgHolderText(state, step)}`,
        (step.required_fields || []).length ? ` · ${tf('blgRequired', { fields: step.required_fields.join(', ') })}` : '')))),
      state.manage ? el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'link blg-edit-sequence', 'aria-label': tf('blgEditSequence', { type }), text: t('blgEdit'), onclick: () => open(sequence) }), ' ',
        el('button', { type: 'button', class: 'link blg-remove-sequence', 'aria-label': tf('blgRemoveSequenceOf', { type }), text: t('blgRemoveSequence'), onclick: remove })) : null);
  });
  const headers = [t('blgTicketType'), t('blgSteps')].concat(state.manage ? [t('actions')] : []);
  return [el('h2', { id: 'blg-sequences-title', text: t('blgSequences') }), el('p', { class: 'muted', text: t('blgSequencesIntro') }), status,
    rowsTable('blg-sequences', headers, rows, 'blg-sequences-empty', t('blgNoSequences')), slot];
}

function blgSequenceForm(state, sequence, cancel) {
  const editing = !!sequence;
  const type = el('input', { name: 'ticket_type', id: 'blg-sequence-type', required: true, maxlength: 64, autocomplete: 'off',
    value: editing ? sequence.ticket_type : '', readonly: editing });
  const list = el('ol', { id: 'blg-sequence-step-list' });
  const number = () => Array.from(list.children).forEach((item, index) => {
    const n = index + 1;
    item.querySelector('.blg-step-name').setAttribute('aria-label', tf('blgStepName', { n }));
    item.querySelector('.blg-step-agent').setAttribute('aria-label', tf('blgStepAgent', { n }));
    item.querySelector('.blg-step-group').setAttribute('aria-label', tf('blgStepGroup', { n }));
    item.querySelector('.blg-step-fields').setAttribute('aria-label', tf('blgStepFields', { n }));
    item.querySelector('.blg-remove-step').setAttribute('aria-label', tf('blgRemoveStep', { n }));
  });
  const add = (step) => {
    const spec = step || {};
    // Visible short labels; the numbered aria-labels (number()) say which step each belongs to.
    const item = el('li', { class: 'row blg-step-row' },
      el('label', {}, t('name'), el('input', { class: 'blg-step-name', maxlength: 120, autocomplete: 'off', value: spec.name || '' })),
      el('label', {}, t('blgAgent'), el('select', { class: 'blg-step-agent' }, el('option', { value: '', text: t('blgNobody') }),
        state.agents.filter((a) => a.active || a.id === spec.agent_id).map((a) => el('option', { value: a.id, selected: a.id === spec.agent_id, text: a.name || a.id })))),
      el('label', {}, t('group'), el('select', { class: 'blg-step-group' }, el('option', { value: '', text: t('blgNobody') }),
        state.groups.map((g) => el('option', { value: g.id, selected: g.id === spec.group_id, text: g.name || g.id })))),
      el('label', {}, t('blgRequiredFields'), el('input', { class: 'blg-step-fields', maxlength: 500, autocomplete: 'off', value: (spec.required_fields || []).join(', ') })),
      el('button', { type: 'button', class: 'link blg-remove-step', text: '×', onclick: () => { item.remove(); number(); } }));
    list.append(item);
    number();
    return item;
  };
  for (const step of (editing ? sequence.steps || [] : [null])) add(step);
  const status = el('div', { id: 'blg-sequence-form-status', role: 'status' });
  const submit = el('button', { type: 'submit', id: 'blg-sequence-form-submit', text: t('blgSaveSequence') });
  const form = el('form', { id: 'blg-sequence-form', 'aria-labelledby': 'blg-sequence-form-title', novalidate: true },
    el('h3', { id: 'blg-sequence-form-title', text: editing ? tf('blgEditSequence', { type: sequence.ticket_type }) : t('blgNewSequence') }),
    el('label', {}, t('blgTicketType'), type), el('fieldset', {}, el('legend', { text: t('blgSteps') }), list,
      el('p', {}, el('button', { type: 'button', class: 'secondary', id: 'blg-add-step', text: t('blgAddStep'), onclick: () => add(null).querySelector('input').focus() }))),
    status, el('p', { class: 'row' }, submit, editing ? el('button', { type: 'button', class: 'secondary', id: 'blg-sequence-form-cancel', text: t('blgCancelEdit'), onclick: cancel }) : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Sent as typed: workflow names a step without a name or a holder (steps[n]) and refuses it whole.
    const steps = Array.from(list.children).map((item) => ({ name: item.querySelector('.blg-step-name').value.trim(),
      agent_id: item.querySelector('.blg-step-agent').value, group_id: item.querySelector('.blg-step-group').value,
      required_fields: item.querySelector('.blg-step-fields').value.split(/[;\n]|,\s*/).map((f) => f.trim()).filter(Boolean) }));
    const body = { ticket_type: type.value.trim(), steps };
    blgSave(state, status, submit, () => api('POST', '/v1/step-sequences', body), () => tf('blgSequenceSaved', { type: body.ticket_type }));
  });
  return form;
}

addPage({
  path: '/desenvolvimento', visible: () => !!me && !isCustomer(), nav: { id: 'nav-development', text: 'blgTitle' },
  render: (rest) => blgPage(new URLSearchParams(rest.split('?')[1] || '')),
});

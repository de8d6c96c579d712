'use strict';
// The agent's handling forms on a ticket page, below the moves: repasse (transfer to an agent or a
// group the agent may reach, with a note and copies) and devolver (send back to whoever passed it,
// with the required justification); reclassifying category, priority and service type with a
// reason; the confidentiality level (chefes and administrators); and logging worked time. Workflow checks each again (who may
// act, where a ticket may go); a refusal shows its message above the forms and changes nothing.
// Also: changing the ticket's contact (intake) and the related tickets, linked with a note.
// Loaded after portal.js and built from its helpers (el, api, t, tf, label, CATEGORIES,
// PRIORITIES, me, errorBox, ticketTable, ticketExpectation); the ticket page (portal.js) calls handlingForms for staff.

Object.assign(TEXT['pt-BR'], {
  handlingTransfer: 'Repassar', handlingTransferTo: 'Para', handlingTransferNote: 'Nota do repasse (fica no histórico interno)',
  handlingCopyTo: 'Cópia por e-mail para (opcional, separados por vírgulas)',
  handlingCopyHint: 'Endereços de fora da equipe recebem o aviso do repasse sem a nota interna; só agentes da equipe com nível de acesso suficiente a leem.',
  handlingGroupOption: 'Grupo {name}', handlingAgentOption: '{name}',
  handlingGroups: 'Grupos', handlingAgents: 'Agentes', handlingSendBack: 'Devolver', handlingJustification: 'Justificativa da devolução',
  handlingSendBackHint: 'Devolve a ocorrência a quem a repassou; a justificativa é obrigatória e fica no histórico.',
  handlingReclassify: 'Reclassificar', handlingServiceType: 'Tipo de atendimento', handlingSupport: 'Suporte', handlingConsulting: 'Consultoria',
  handlingUnchanged: '(sem mudança)', handlingReason: 'Motivo', handlingAccessLevel: 'Nível de sigilo',
  handlingAccessHint: 'Só quem tem nível de acesso igual ou maior vê a ocorrência (0 = todos da equipe).', handlingSetLevel: 'Alterar sigilo',
  handlingTime: 'Apontar horas', handlingMinutes: 'Tempo (minutos)', handlingMode: 'Forma', handlingRemote: 'Remoto', handlingPhone: 'Telefone',
  handlingOnSite: 'Presencial', handlingWhen: 'Quando', handlingLogTime: 'Apontar',
  handlingContact: 'Trocar o contato', handlingContactHint: 'Só com a ocorrência aberta, por quem a atende (ou seu chefe) com a permissão de vincular clientes.',
  handlingNewContact: 'Novo contato', handlingChangeContact: 'Trocar contato',
  handlingRelated: 'Ocorrências relacionadas', handlingLinked: 'Ligadas a esta', handlingSameCustomer: 'Outras do mesmo cliente',
  handlingLinkTo: 'Ligar a', handlingLinkNote: 'Por que estão ligadas (opcional)', handlingLink: 'Ligar', handlingNoRelated: 'Nenhuma.',
});
Object.assign(TEXT.en, {
  handlingTransfer: 'Transfer', handlingTransferTo: 'To', handlingTransferNote: 'Transfer note (kept in the internal history)',
  handlingCopyTo: 'Copy by e-mail to (optional, comma separated)',
  handlingCopyHint: 'Addresses outside the team get the transfer notice without its internal note; only team agents with enough access level read it.',
  handlingGroupOption: 'Group {name}', handlingAgentOption: '{name}',
  handlingGroups: 'Groups', handlingAgents: 'Agents', handlingSendBack: 'Send back', handlingJustification: 'Why it is sent back',
  handlingSendBackHint: 'Returns the ticket to whoever transferred it; the justification is required and kept in the history.',
  handlingReclassify: 'Reclassify', handlingServiceType: 'Service type', handlingSupport: 'Support', handlingConsulting: 'Consulting',
  handlingUnchanged: '(unchanged)', handlingReason: 'Reason', handlingAccessLevel: 'Confidentiality level',
  handlingAccessHint: 'Only staff with an equal or higher access level see the ticket (0 = the whole team).', handlingSetLevel: 'Change confidentiality',
  handlingTime: 'Log time', handlingMinutes: 'Time (minutes)', handlingMode: 'How', handlingRemote: 'Remote', handlingPhone: 'Phone',
  handlingOnSite: 'On site', handlingWhen: 'When', handlingLogTime: 'Log',
  handlingContact: 'Change the contact', handlingContactHint: 'Only while the ticket is open, by whoever works it (or their supervisor) with the permission to link customers.',
  handlingNewContact: 'New contact', handlingChangeContact: 'Change contact',
  handlingRelated: 'Related tickets', handlingLinked: 'Linked to this one', handlingSameCustomer: 'Others of the same customer',
  handlingLinkTo: 'Link to', handlingLinkNote: 'Why they are linked (optional)', handlingLink: 'Link', handlingNoRelated: 'None.',
});

// Where the signed-in agent may transfer ticket `id` to: workflow lists exactly the destinations a
// transfer would accept (its listed ones, their groups and members, or everyone with
// `tickets.transfer_any`), without those that may not receive this ticket (an agent below its
// confidentiality level, unless the caller is an administrator).
async function handlingDestinations(id) {
  const reach = await api('GET', `/v1/agents/${encodeURIComponent(me.principal.id)}/transfer-destinations?ticket_id=${encodeURIComponent(id)}`);
  return { agents: reach.agents || [], groups: reach.groups || [] };
}

// The forms for a ticket `id` whose workflow row is `row` and intake part `intake`;
// `act(method, path, body, { changes, event })` sends one from its submit event, shows the outcome
// and draws the page again.
// What no action here changes (the destinations, the organization's contacts) is read once per
// visit of the page (`visit`, portal.js's ticketVisit); the related tickets again after a link.
function handlingForms(id, row, intake, act, visit) {
  const path = (action) => `/v1/tickets/${encodeURIComponent(id)}/${action}`;
  const list = (text) => text.split(',').map((part) => part.trim()).filter(Boolean);

  const destination = el('select', { name: 'to', id: 'transfer-to', required: true });
  // Read again when the level changes (who may receive the ticket changes with it).
  visit.once(`transfer-destinations:${row.access_level || 0}`, () => handlingDestinations(id)).then(({ agents, groups }) => destination.append(
    el('optgroup', { label: t('handlingGroups') }, groups.map((g) => el('option', { value: 'group:' + g.id, text: tf('handlingGroupOption', { name: g.name }) }))),
    el('optgroup', { label: t('handlingAgents') }, agents.map((a) => el('option', { value: 'agent:' + a.id, text: tf('handlingAgentOption', { name: a.name || a.id }) })))))
    .catch(() => null);
  const transfer = el('form', { id: 'transfer-form', 'aria-labelledby': 'transfer-title' },
    el('label', {}, t('handlingTransferTo'), destination),
    el('label', {}, t('handlingTransferNote'), el('textarea', { name: 'note', id: 'transfer-note', rows: 3 })),
    el('label', {}, t('handlingCopyTo'), el('input', { name: 'copy_to', id: 'transfer-copy', autocomplete: 'off', 'aria-describedby': 'transfer-copy-hint' })),
    el('p', { class: 'muted', id: 'transfer-copy-hint', text: t('handlingCopyHint') }),
    el('button', { type: 'submit', id: 'transfer-submit', text: t('handlingTransfer') }));
  transfer.addEventListener('submit', (event) => {
    event.preventDefault();
    const [kind, target] = destination.value.split(/:(.*)/);
    act('POST', path('transfer'), { [kind === 'group' ? 'to_group_id' : 'to_agent_id']: target, note: transfer.elements.note.value,
      copy_to: list(transfer.elements.copy_to.value), expected: ticketExpectation(row) }, { event });
  });

  const sendBack = el('form', { id: 'send-back-form', 'aria-labelledby': 'send-back-title' },
    el('p', { class: 'muted', text: t('handlingSendBackHint') }),
    el('label', {}, t('handlingJustification'), el('textarea', { name: 'justification', id: 'send-back-justification', rows: 3, required: true })),
    el('button', { type: 'submit', id: 'send-back-submit', class: 'secondary', text: t('handlingSendBack') }));
  sendBack.addEventListener('submit', (event) => {
    event.preventDefault();
    act('POST', path('send-back'), { justification: sendBack.elements.justification.value, expected: ticketExpectation(row) }, { event });
  });

  const choice = (name, table, current) => el('select', { name, id: `reclassify-${name}` },
    Object.keys(table).map((key) => el('option', { value: key, selected: key === current, text: label(table, key) })));
  const reclassify = el('form', { id: 'reclassify-form', 'aria-labelledby': 'reclassify-title' },
    el('div', { class: 'row' }, el('label', {}, t('category'), choice('category', CATEGORIES, row.category)),
      el('label', {}, t('priority'), choice('priority', PRIORITIES, row.priority)),
      el('label', {}, t('handlingServiceType'), el('select', { name: 'service_type', id: 'reclassify-service' },
        [['', 'handlingUnchanged'], ['support', 'handlingSupport'], ['consulting', 'handlingConsulting']].map(([value, key]) => el('option', { value, text: t(key) }))))),
    el('label', {}, t('handlingReason'), el('input', { name: 'reason', id: 'reclassify-reason', required: true, maxlength: 500, autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'reclassify-submit', class: 'secondary', text: t('handlingReclassify') }));
  reclassify.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = reclassify.elements;
    act('POST', path('reclassify'), { category: fields.category.value, priority: fields.priority.value, service_type: fields.service_type.value,
      reason: fields.reason.value }, { event });
  });

  const level = el('form', { id: 'access-level-form', 'aria-labelledby': 'access-level-title' },
    el('p', { class: 'muted', id: 'access-level-hint', text: t('handlingAccessHint') }),
    el('div', { class: 'row' }, el('label', {}, t('handlingAccessLevel'), el('input', { type: 'number', name: 'access_level', id: 'access-level',
      min: 0, max: 99, value: row.access_level || 0, required: true, 'aria-describedby': 'access-level-hint' })),
    el('label', {}, t('handlingReason'), el('input', { name: 'reason', id: 'access-level-reason', required: true, maxlength: 500, autocomplete: 'off' }))),
    el('button', { type: 'submit', id: 'access-level-submit', class: 'secondary', text: t('handlingSetLevel') }));
  level.addEventListener('submit', (event) => {
    event.preventDefault();
    act('POST', path('access-level'), { access_level: Number(level.elements.access_level.value), reason: level.elements.reason.value }, { event });
  });

  const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const time = el('form', { id: 'time-form', 'aria-labelledby': 'time-title' },
    el('div', { class: 'row' },
      el('label', {}, t('handlingMinutes'), el('input', { type: 'number', name: 'minutes', id: 'time-minutes', min: 1, max: 1440, required: true })),
      el('label', {}, t('handlingMode'), el('select', { name: 'mode', id: 'time-mode' },
        [['remote', 'handlingRemote'], ['phone', 'handlingPhone'], ['on_site', 'handlingOnSite']].map(([value, key]) => el('option', { value, text: t(key) })))),
      el('label', {}, t('handlingServiceType'), el('select', { name: 'service_type', id: 'time-service' },
        [['support', 'handlingSupport'], ['consulting', 'handlingConsulting']].map(([value, key]) => el('option', { value, text: t(key) })))),
      el('label', {}, t('handlingWhen'), el('input', { type: 'datetime-local', name: 'worked_at', id: 'time-when', value: now, max: now }))),
    el('label', {}, t('note'), el('input', { name: 'note', id: 'time-note', maxlength: 500, autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'time-submit', class: 'secondary', text: t('handlingLogTime') }));
  time.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = time.elements;
    act('POST', path('time-entries'), { minutes: Number(fields.minutes.value), mode: fields.mode.value, service_type: fields.service_type.value,
      note: fields.note.value, worked_at_ms: fields.worked_at.value ? new Date(fields.worked_at.value).getTime() : 0 }, { event });
  });

  // Intake's contacts of the ticket's organization: the authorized, active ones may be chosen.
  const contacts = el('select', { name: 'contact_id', id: 'contact-new', required: true });
  const organizationId = (intake.organization && intake.organization.id) || row.organization_id;
  if (organizationId) {
    visit.once(`contacts:${organizationId}`, () => api('GET', `/v1/organizations/${encodeURIComponent(organizationId)}/contacts`)).then((list) => contacts.append(
      ...(list.contacts || []).filter((c) => c.active && c.authorized && c.id !== (intake.contact && intake.contact.id))
        .map((c) => el('option', { value: c.id, text: c.email ? `${c.name} <${c.email}>` : c.name })))).catch(() => null);
  }
  const contact = el('form', { id: 'contact-form', 'aria-labelledby': 'contact-title' },
    el('p', { class: 'muted', text: t('handlingContactHint') }), el('label', {}, t('handlingNewContact'), contacts),
    el('button', { type: 'submit', id: 'contact-submit', class: 'secondary', text: t('handlingChangeContact') }));
  contact.addEventListener('submit', (event) => {
    event.preventDefault();
    act('POST', path('contact'), { contact_id: contacts.value }, { event });
  });

  // Chefes and administrators change the confidentiality level (workflow refuses anyone else).
  const setsLevels = !!(me.principal.chefe || me.principal.administrator);
  return [el('h2', { id: 'transfer-title', text: t('handlingTransfer') }), transfer,
    el('h2', { id: 'send-back-title', text: t('handlingSendBack') }), sendBack,
    el('h2', { id: 'reclassify-title', text: t('handlingReclassify') }), reclassify,
    setsLevels ? el('h2', { id: 'access-level-title', text: t('handlingAccessLevel') }) : null, setsLevels ? level : null,
    el('h2', { id: 'time-title', text: t('handlingTime') }), time,
    el('h2', { id: 'contact-title', text: t('handlingContact') }), contact,
    el('h2', { id: 'related-title', text: t('handlingRelated') }), handlingRelated(id, act, visit)];
}

// Tickets linked to `id` and the same customer's others (as far as the agent may see them), and a
// form linking one of those to this ticket with a note (which reads them again).
function handlingRelated(id, act, visit) {
  const section = el('div', { id: 'related' }, el('p', { class: 'muted', text: t('loading') }));
  visit.once('related', () => api('GET', `/v1/tickets/${encodeURIComponent(id)}/related`)).then((related) => {
    const linked = related.linked || [], others = (related.same_customer || []).filter((r) => r.ticket_id !== id);
    const candidates = others.filter((r) => !linked.some((l) => l.ticket_id === r.ticket_id));
    const other = el('select', { name: 'other', id: 'link-other', required: true },
      candidates.map((r) => el('option', { value: r.ticket_id, text: `${r.code || r.ticket_id} · ${r.subject || ''}` })));
    const link = el('form', { id: 'link-form', class: 'row' }, el('label', {}, t('handlingLinkTo'), other),
      el('label', {}, t('handlingLinkNote'), el('input', { name: 'note', id: 'link-note', maxlength: 500, autocomplete: 'off' })),
      el('button', { type: 'submit', id: 'link-submit', class: 'secondary', text: t('handlingLink') }));
    link.addEventListener('submit', (event) => {
      event.preventDefault();
      act('POST', `/v1/tickets/${encodeURIComponent(id)}/links`, { other_ticket_id: other.value, note: link.elements.note.value },
        { changes: ['related'], event });
    });
    section.replaceChildren(el('h3', { text: t('handlingLinked') }),
      linked.length ? ticketTable(linked, 'related-linked', false, false) : el('p', { class: 'muted', text: t('handlingNoRelated') }),
      el('h3', { text: t('handlingSameCustomer') }),
      others.length ? ticketTable(others, 'related-customer', false, false) : el('p', { class: 'muted', text: t('handlingNoRelated') }),
      // (replaceChildren prints a null as the text "null": the form only when there is one.)
      ...(candidates.length ? [link] : []));
  }).catch((error) => section.replaceChildren(errorBox(error)));
  return section;
}

'use strict';
// Agents' page of intake's e-mail quarantine (#/correio): mail that was not taken in, what was
// read of it, and the three things an agent does with it (take it in, as a reply on a named
// ticket or for a chosen organization, or a corrected message uploaded instead; download it;
// discard it with a reason). Loaded after
// portal.js and built from its helpers (el, api, show, t, when, errorBox); its link and path are
// added with addPage.

Object.assign(TEXT['pt-BR'], {
  mailQuarantine: 'E-mails retidos', mailQuarantineIntro: 'Mensagens que não viraram ocorrência nem resposta. Registre-as depois de corrigir a causa (por exemplo, cadastrar o contato) ou descarte-as.',
  mqReceived: 'Recebida', mqSender: 'Remetente', mqKind: 'Tipo', mqAnswer: 'Resposta ao remetente', mqShowResolved: 'Mostrar também as resolvidas',
  mqMore: 'Mais', mqNoHeldMail: 'Nenhuma mensagem retida.', mqHeaders: 'Cabeçalhos', mqDownloadRaw: 'Baixar a mensagem (.eml)',
  mqTakeIn: 'Registrar', mqReplacement: 'Mensagem corrigida (.eml, opcional; obrigatória para uma grande demais, da qual só o cabeçalho foi guardado)', mqTicketOptional: 'Como resposta na ocorrência (código, opcional)', mqOrganizationOptional: 'Para a organização (id, opcional)',
  mqDiscard: 'Descartar', mqDiscardReason: 'Motivo do descarte', mqOutcome: 'Resultado', mqBack: 'Voltar', mqSize: 'Tamanho', mqStatus: 'Estado',
});
Object.assign(TEXT.en, {
  mailQuarantine: 'Held e-mail', mailQuarantineIntro: 'Messages that became neither a ticket nor a reply. Take them in after fixing the cause (e.g. adding the contact) or discard them.',
  mqReceived: 'Received', mqSender: 'Sender', mqKind: 'Kind', mqAnswer: 'Answer to the sender', mqShowResolved: 'Also show resolved ones',
  mqMore: 'More', mqNoHeldMail: 'No held mail.', mqHeaders: 'Headers', mqDownloadRaw: 'Download the message (.eml)',
  mqTakeIn: 'Take in', mqReplacement: 'Corrected message (.eml, optional; required for a too large one, of which only the header was kept)', mqTicketOptional: 'As a reply on ticket (code, optional)', mqOrganizationOptional: 'For organization (id, optional)',
  mqDiscard: 'Discard', mqDiscardReason: 'Why it is discarded', mqOutcome: 'Outcome', mqBack: 'Back', mqSize: 'Size', mqStatus: 'Status',
});

const QUARANTINE_KINDS = {
  QUARANTINE_UNPARSABLE: ['Ilegível', 'Unreadable'], QUARANTINE_REJECTED: ['Recusada', 'Rejected'], QUARANTINE_FAILED: ['Falhou', 'Failed'],
  QUARANTINE_AMBIGUOUS_SENDER: ['Várias organizações', 'Several organizations'], QUARANTINE_OVERSIZED: ['Grande demais', 'Too large'],
};
const QUARANTINE_STATES = { QUARANTINE_HELD: ['Retida', 'Held'], QUARANTINE_REPROCESSED: ['Registrada', 'Taken in'], QUARANTINE_DISCARDED: ['Descartada', 'Discarded'] };
const BOUNCE_STATES = {
  BOUNCE_NONE: ['—', '—'], BOUNCE_PENDING: ['Pendente', 'Pending'], BOUNCE_SENT: ['Enviada', 'Sent'], BOUNCE_FAILED: ['Falhou', 'Failed'],
  BOUNCE_SUPPRESSED: ['Não enviada', 'Not sent'], BOUNCE_CANCELLED: ['Cancelada', 'Cancelled'],
};

async function quarantinePage(resolved) {
  const title = el('h1', { text: t('mailQuarantine') });
  const toggle = el('label', { class: 'row' }, el('input', { type: 'checkbox', id: 'quarantine-resolved', checked: resolved,
    onchange: (e) => { location.hash = e.target.checked ? '#/correio?resolvidas=1' : '#/correio'; } }), t('mqShowResolved'));
  const body = el('tbody');
  const table = el('table', { id: 'quarantine' }, el('thead', {}, el('tr', {},
    [t('mqReceived'), t('mqSender'), t('subject'), t('mqKind'), t('reason'), t('mqAnswer')].concat(resolved ? [t('mqStatus')] : []).map((h) => el('th', { text: h })))), body);
  const more = el('button', { type: 'button', class: 'secondary', id: 'quarantine-more', text: t('mqMore'), hidden: true });
  const status = el('div');
  let token = '';
  const load = async () => {
    try {
      const query = new URLSearchParams({ page_size: '50' });
      if (resolved) query.set('include_resolved', 'true');
      if (token) query.set('page_token', token);
      const page = await api('GET', '/v1/mail-quarantine?' + query.toString());
      (page.messages || []).forEach((m) => body.append(el('tr', { 'data-id': m.id },
        el('td', { text: when(m.received_at) }), el('td', { text: m.from_address || '—' }),
        el('td', {}, el('a', { href: `#/correio/${encodeURIComponent(m.id)}`, text: m.subject || '(sem assunto / no subject)' })),
        el('td', { text: label(QUARANTINE_KINDS, m.kind) }), el('td', { text: ownPart(m.reason) }),
        el('td', { text: label(BOUNCE_STATES, m.bounce_status || 'BOUNCE_NONE') }),
        resolved ? el('td', { text: label(QUARANTINE_STATES, m.status) }) : null)));
      token = page.next_page_token || '';
      more.hidden = !token;
      if (!body.children.length) status.replaceChildren(el('p', { class: 'muted', id: 'quarantine-empty', text: t('mqNoHeldMail') }));
    } catch (error) { status.replaceChildren(errorBox(error)); }
  };
  more.addEventListener('click', load);
  show(title, el('p', { class: 'muted', text: t('mailQuarantineIntro') }), toggle, table, more, status);
  await load();
}

async function quarantinedMailPage(id) {
  const back = el('a', { href: '#/correio', text: t('mqBack') });
  let mail;
  try { mail = await api('GET', `/v1/mail-quarantine/${encodeURIComponent(id)}`); } catch (error) { return show(back, errorBox(error)); }
  const status = el('div', { id: 'quarantine-status' });
  const facts = el('table', { id: 'quarantine-facts' }, el('tbody', {},
    [[t('mqReceived'), when(mail.received_at)], [t('mqSender'), mail.from_address || '—'], [t('mqKind'), label(QUARANTINE_KINDS, mail.kind)],
      [t('mqStatus'), label(QUARANTINE_STATES, mail.status)], [t('reason'), ownPart(mail.reason)], [t('mqSize'), `${mail.size_bytes || 0} B`],
      [t('mqAnswer'), [label(BOUNCE_STATES, mail.bounce_status || 'BOUNCE_NONE'), mail.bounce_note, mail.bounce_error].filter(Boolean).join(' · ')],
      [t('mqOutcome'), [mail.resolution, mail.ticket_code].filter(Boolean).join(' · ')]]
      .map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: v || '—' })))));
  const headers = el('table', { id: 'quarantine-headers' }, el('tbody', {},
    (mail.headers || []).map((h) => el('tr', {}, el('th', { text: h.name }), el('td', { text: h.value })))));
  const actions = [];
  if (mail.status === 'QUARANTINE_HELD') {
    const takeIn = el('form', { id: 'quarantine-reprocess' },
      el('label', {}, t('mqTicketOptional'), el('input', { name: 'ticket_id', id: 'quarantine-ticket', autocomplete: 'off' })),
      el('label', {}, t('mqOrganizationOptional'), el('input', { name: 'organization_id', id: 'quarantine-organization', autocomplete: 'off' })),
      el('label', {}, t('mqReplacement'), el('input', { type: 'file', name: 'replacement', id: 'quarantine-replacement', accept: '.eml,message/rfc822,text/plain' })),
      el('button', { type: 'submit', id: 'quarantine-reprocess-submit', text: t('mqTakeIn') }));
    takeIn.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const request = { ticket_id: takeIn.elements.ticket_id.value.trim(), organization_id: takeIn.elements.organization_id.value.trim() };
        const file = takeIn.elements.replacement.files[0];
        if (file) request.replacement_raw = await base64(file);
        const result = await api('POST', `/v1/mail-quarantine/${encodeURIComponent(id)}/reprocess`, request);
        if (result.mail && result.mail.status === 'QUARANTINE_REPROCESSED') return quarantinedMailPage(id);
        status.replaceChildren(el('p', { class: 'error', role: 'alert', text: `${result.outcome}: ${ownPart(result.mail && result.mail.reason)}` }));
      } catch (error) { formRefused(takeIn, status, error); }
    });
    const discard = el('form', { id: 'quarantine-discard' },
      el('label', {}, t('mqDiscardReason'), el('input', { name: 'reason', id: 'quarantine-discard-reason', required: true, maxlength: 2000 })),
      el('button', { type: 'submit', class: 'secondary', id: 'quarantine-discard-submit', text: t('mqDiscard') }));
    discard.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('POST', `/v1/mail-quarantine/${encodeURIComponent(id)}/discard`, { reason: discard.elements.reason.value });
        quarantinedMailPage(id);
      } catch (error) { formRefused(discard, status, error); }
    });
    actions.push(el('h2', { text: t('mqTakeIn') }), takeIn, el('h2', { text: t('mqDiscard') }), discard);
  }
  show(back, el('h1', { id: 'quarantine-title', text: mail.subject || '(sem assunto / no subject)' }), facts, status,
    el('p', {}, el('a', { href: `/v1/mail-quarantine/${encodeURIComponent(id)}/raw`, id: 'quarantine-raw', text: t('mqDownloadRaw') })),
    el('h2', { text: t('mqHeaders') }), headers, ...actions);
}

// Staff only: the list (#/correio, ?resolvidas=1 with the resolved ones) and one message (#/correio/<id>).
addPage({
  path: '/correio', visible: () => !isCustomer(), nav: { id: 'nav-quarantine', text: 'mailQuarantine' },
  render: (rest) => rest.startsWith('/') ? quarantinedMailPage(decodeURIComponent(rest.slice(1)))
    : quarantinePage(new URLSearchParams(rest.split('?')[1] || '').get('resolvidas') === '1'),
});

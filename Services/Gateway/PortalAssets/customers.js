'use strict';
// The support staff's customer directory (#/clientes): intake's organizations found by code, name,
// CPF/CNPJ or a contact's e-mail, or paged through by name, and a form creating one; an
// organization's page (#/clientes/{id}) with its record edited (the gateway lays the fields sent
// over the stored record: the form sends every field it shows, the (de)activation `active` alone),
// deactivated or reactivated, a link to its tickets in the queue, and its contacts: added, edited, deactivated or reactivated, deleted (intake refuses a
// contact a ticket names, and the page shows why) and, for administrators, invited to sign in with
// their sign-in's state. Intake and the gateway decide who may do what; the page leaves out what
// the caller cannot use (sign-ins and invitations are the administrators') and shows a refusal's
// reasons beside the form's fields. Loaded after portal.js, account.js and team.js and built from
// their helpers (el, api, show, t, tf, errorBox, formRefused, changeThen, rowsTable, pageLinks,
// findOrganizations, contactsTable, inviteButton, activeToggle, signInsByContact,
// isAdministrator); its link and paths are added with addPage.

Object.assign(TEXT['pt-BR'], {
  custTitle: 'Clientes', custIntro: 'As organizações atendidas, seus contatos e quem deles entra no portal.',
  custIncludeInactive: 'Incluir inativas', custTaxId: 'CNPJ/CPF', custKind: 'Tipo', custPlanIncludes: 'O que o plano inclui',
  custAccountOwner: 'Responsável pela conta', custNoOwner: '(nenhum)', custEmail: 'E-mail da organização',
  custEmailHint: 'Usado quando um contato não tem e-mail.', custTaxIdHint: 'CNPJ (14 caracteres) ou CPF (11 dígitos), com ou sem pontuação; pessoa física usa CPF.',
  custActive: 'Ativa', custInactive: 'Inativa', custNoneFound: 'Nenhuma organização encontrada.', custAll: 'Todas as organizações, por nome.',
  custFoundFor: 'Organizações encontradas para "{query}".', custClearSearch: 'Limpar a busca',
  custNew: 'Nova organização', custCreate: 'Criar organização', custCreated: 'Organização {name} criada.',
  custDetails: 'Dados da organização', custSaved: 'Dados de {name} salvos.', custCreatedAt: 'Cadastrada em',
  custDeactivateOf: 'Desativar a organização {name}', custReactivateOf: 'Reativar a organização {name}',
  custDeactivated: 'A organização {name} foi desativada.', custReactivated: 'A organização {name} foi reativada.',
  custTickets: 'Ocorrências desta organização', custBack: 'Voltar aos clientes', custReadOnly: 'Você pode consultar o cadastro, mas não alterá-lo.',
  custContacts: 'Contatos', custContactsIntro: 'Contatos autorizados abrem e acompanham ocorrências; o administrador da empresa cuida dos contatos dela. Um contato ligado a uma ocorrência não pode ser excluído: desative-o.',
  custInviteHint: 'Convidar envia ao contato autorizado um e-mail para ele definir a senha.',
  custNewContact: 'Novo contato', custAddContact: 'Adicionar contato', custContactAdded: 'Contato {name} adicionado.',
  custAuthorized: 'Autorizado a abrir ocorrências', custCompanyAdmin: 'Administrador da empresa',
  custEdit: 'Alterar', custEditOf: 'Alterar {name}', custEditContact: 'Alterar o contato {name}', custContactSaved: 'Contato {name} salvo.',
  custDelete: 'Excluir', custDeleteOf: 'Excluir {name}', custConfirmDelete: 'Excluir o contato {name}? Só é possível se nenhuma ocorrência o citar.',
  custDeleted: 'Contato {name} excluído.',
});
Object.assign(TEXT.en, {
  custTitle: 'Customers', custIntro: 'The organizations served, their contacts and which of them sign in to the portal.',
  custIncludeInactive: 'Include inactive ones', custTaxId: 'CNPJ/CPF', custKind: 'Kind', custPlanIncludes: 'What the plan includes',
  custAccountOwner: 'Account owner', custNoOwner: '(none)', custEmail: 'Organization e-mail',
  custEmailHint: 'Used when a contact has no e-mail.', custTaxIdHint: 'CNPJ (14 characters) or CPF (11 digits), with or without punctuation; a person has a CPF.',
  custActive: 'Active', custInactive: 'Inactive', custNoneFound: 'No organization found.', custAll: 'Every organization, by name.',
  custFoundFor: 'Organizations found for "{query}".', custClearSearch: 'Clear the search',
  custNew: 'New organization', custCreate: 'Create organization', custCreated: 'Organization {name} created.',
  custDetails: 'Organization details', custSaved: '{name}\'s details saved.', custCreatedAt: 'Registered on',
  custDeactivateOf: 'Deactivate organization {name}', custReactivateOf: 'Reactivate organization {name}',
  custDeactivated: 'Organization {name} was deactivated.', custReactivated: 'Organization {name} was reactivated.',
  custTickets: 'This organization\'s tickets', custBack: 'Back to customers', custReadOnly: 'You may read the directory, not change it.',
  custContacts: 'Contacts', custContactsIntro: 'Authorized contacts open and follow tickets; the company\'s administrator manages its contacts. A contact a ticket names cannot be deleted: deactivate it.',
  custInviteHint: 'Inviting e-mails the authorized contact a link to choose a password.',
  custNewContact: 'New contact', custAddContact: 'Add contact', custContactAdded: 'Contact {name} added.',
  custAuthorized: 'Authorized to open tickets', custCompanyAdmin: 'Company administrator',
  custEdit: 'Change', custEditOf: 'Change {name}', custEditContact: 'Change contact {name}', custContactSaved: 'Contact {name} saved.',
  custDelete: 'Delete', custDeleteOf: 'Delete {name}', custConfirmDelete: 'Delete contact {name}? Only possible while no ticket names them.',
  custDeleted: 'Contact {name} deleted.',
});

// Intake's kinds of organization (OrganizationKind), in the page's language.
const ORGANIZATION_KINDS = { ORGANIZATION_CUSTOMER: ['Cliente', 'Customer'], ORGANIZATION_PROSPECT: ['Prospect', 'Prospect'],
  ORGANIZATION_SUPPLIER: ['Fornecedor', 'Supplier'], ORGANIZATION_PERSON: ['Pessoa física', 'Person'] };

// Staff read the directory; changing it takes `tickets.work` (every staff role has it; intake
// checks again).
const custCanRead = () => !!me && !isCustomer();
const custCanWrite = () => custCanRead() && (me.principal.permissions || []).includes('tickets.work');

// A CPF (000.000.000-00) or CNPJ (00.000.000/0000-00, letters allowed in the first 12) as people
// write it; anything else as stored.
function taxIdText(taxId) {
  const value = String(taxId || '');
  if (/^\d{11}$/.test(value)) return value.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4');
  if (/^[0-9A-Z]{12}\d{2}$/.test(value)) return value.replace(/^(.{2})(.{3})(.{3})(.{4})(.{2})$/, '$1.$2.$3/$4-$5');
  return value;
}

// The notice the next drawing of a page shows (set before an address change redraws it).
let custNotice = null;
const custTakeNotice = () => { const notice = custNotice; custNotice = null; return notice; };

// ---------------------------------------------------------------- the list (#/clientes)

async function customersPage(query) {
  const params = new URLSearchParams(query.replace(/^\?/, ''));
  const words = (params.get('q') || '').trim();
  const inactive = params.get('inativas') === '1';
  show(el('h1', { text: t('custTitle') }), el('p', { text: t('loading') }));
  let organizations, next = '', agents;
  try {
    let listed;
    [listed, agents] = await Promise.all([
      words ? findOrganizations(words, 50).then((found) => ({ organizations: found.filter((o) => inactive || o.active) }))
        : api('GET', '/v1/organizations?' + new URLSearchParams(Object.assign({ page_size: '50', include_inactive: String(inactive) },
          params.get('cursor') ? { page_token: params.get('cursor') } : {})).toString()),
      custCanWrite() ? api('GET', '/v1/agents').catch(() => ({ agents: [] })) : { agents: [] }]);
    organizations = listed.organizations || [];
    next = listed.next_page_token || '';
  } catch (error) { show(el('h1', { text: t('custTitle') }), errorBox(error)); return; }
  const search = el('form', { id: 'cust-search', role: 'search', class: 'row', 'aria-label': t('customerSearch') },
    el('label', {}, t('customerSearch'), el('input', { type: 'search', name: 'q', id: 'cust-q', value: words, maxlength: 200,
      autocomplete: 'off', 'aria-describedby': 'cust-q-hint' })),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'inativas', id: 'cust-inactive', checked: inactive }), t('custIncludeInactive')),
    el('button', { type: 'submit', id: 'cust-search-submit', class: 'secondary', text: t('search') }),
    el('p', { class: 'muted', id: 'cust-q-hint', text: t('customerSearchHint') }));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (search.elements.q.value.trim()) next.set('q', search.elements.q.value.trim());
    if (search.elements.inativas.checked) next.set('inativas', '1');
    location.hash = '#/clientes?' + next.toString();
  });
  const status = el('div', { id: 'cust-status', role: 'status' });
  const notice = custTakeNotice();
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const rows = organizations.map((o) => el('tr', { 'data-organization': o.id, class: o.active ? null : 'inactive' },
    el('td', {}, el('a', { href: '#/clientes/' + encodeURIComponent(o.id), text: o.code || o.id })),
    el('td', { class: 'name', text: o.name }), el('td', { class: 'tax-id', text: taxIdText(o.tax_id) }),
    el('td', { text: label(ORGANIZATION_KINDS, o.kind) }), el('td', { text: o.plan || '' }),
    el('td', { class: 'state', text: t(o.active ? 'custActive' : 'custInactive') })));
  const table = rowsTable('customers', [t('code'), t('name'), t('custTaxId'), t('custKind'), t('plan'), t('state')], rows, 'customers-empty', t('custNoneFound'));
  const scope = words ? el('p', { class: 'muted', id: 'cust-scope' }, tf('custFoundFor', { query: words }), ' ',
    el('a', { href: '#/clientes' + (inactive ? '?inativas=1' : ''), text: t('custClearSearch') })) : el('p', { class: 'muted', id: 'cust-scope', text: t('custAll') });
  let creation = [];
  if (custCanWrite()) {
    const { form, errors } = organizationForm('org-new', null, agents.agents || [], t('custCreate'), (body, fail) => {
      api('POST', '/v1/organizations', Object.assign(body, { active: true })).then((created) => {
        custNotice = tf('custCreated', { name: created.name });
        location.hash = '#/clientes/' + encodeURIComponent(created.id);
      }, fail);
    });
    creation = [el('h2', { id: 'org-new-title', text: t('custNew') }), form, errors];
    form.setAttribute('aria-labelledby', 'org-new-title');
  }
  show(el('h1', { text: t('custTitle') }), el('p', { class: 'muted', text: t('custIntro') }), search, status, scope, table,
    words ? null : pageLinks(params, next, 'customers', '#/clientes'), ...creation);
}

// The form of an organization's record (`organization`, or a new one when null): name, CPF/CNPJ,
// kind, plan and what it includes, e-mail and account owner (an active agent, or the one it has).
// `submit(body, fail)` gets every field of the form (an emptied one as "", which clears it);
// `fail(error)` shows the refusal beside the fields.
function organizationForm(prefix, organization, agents, submitText, submit) {
  const o = organization || { kind: 'ORGANIZATION_CUSTOMER' };
  const id = (name) => `${prefix}-${name.replace(/_/g, '-')}`;
  const text = (name, caption, attributes) => el('label', {}, caption,
    el('input', Object.assign({ name, id: id(name), value: o[name] || '', autocomplete: 'off' }, attributes)));
  const owners = agents.filter((agent) => agent.active || agent.id === o.account_owner_agent_id);
  if (o.account_owner_agent_id && !owners.some((agent) => agent.id === o.account_owner_agent_id)) owners.push({ id: o.account_owner_agent_id });
  const form = el('form', { id: `${prefix}-form` },
    text('name', t('name'), { required: true, maxlength: 200 }),
    el('label', {}, t('custTaxId'), el('input', { name: 'tax_id', id: id('tax_id'), value: taxIdText(o.tax_id), maxlength: 18, autocomplete: 'off',
      'aria-describedby': id('tax-hint') })),
    el('p', { class: 'muted', id: id('tax-hint'), text: t('custTaxIdHint') }),
    el('label', {}, t('custKind'), el('select', { name: 'kind', id: id('kind') },
      Object.keys(ORGANIZATION_KINDS).map((kind) => el('option', { value: kind, text: label(ORGANIZATION_KINDS, kind), selected: kind === o.kind })))),
    text('plan', t('plan'), { maxlength: 120 }),
    el('label', {}, t('custPlanIncludes'), el('textarea', { name: 'plan_includes', id: id('plan_includes'), maxlength: 2000, rows: 3, text: o.plan_includes || '' })),
    text('email', t('custEmail'), { type: 'email', maxlength: 254, 'aria-describedby': id('email-hint') }),
    el('p', { class: 'muted', id: id('email-hint'), text: t('custEmailHint') }),
    el('label', {}, t('custAccountOwner'), el('select', { name: 'account_owner_agent_id', id: id('owner') },
      [el('option', { value: '', text: t('custNoOwner') })].concat(owners.map((agent) =>
        el('option', { value: agent.id, text: agent.name || agent.id, selected: agent.id === o.account_owner_agent_id }))))),
    el('button', { type: 'submit', id: `${prefix}-submit`, text: submitText }));
  const errors = el('div', { id: `${prefix}-errors` });
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = form.elements;
    const body = {};
    for (const name of ['name', 'tax_id', 'kind', 'plan', 'plan_includes', 'email', 'account_owner_agent_id']) body[name] = fields[name].value.trim();
    button.disabled = true;
    submit(body, (error) => { button.disabled = false; formRefused(form, errors, error); });
  });
  return { form, errors };
}

// ---------------------------------------------------------------- an organization (#/clientes/{id})

async function customerPage(id, notice = custTakeNotice()) {
  show(el('h1', { text: t('custTitle') }), el('p', { text: t('loading') }));
  const admin = isAdministrator();
  let organization, contacts, agents, users;
  try {
    [organization, contacts, agents, users] = await Promise.all([
      api('GET', '/v1/organizations/' + encodeURIComponent(id)),
      api('GET', `/v1/organizations/${encodeURIComponent(id)}/contacts?include_inactive=true`),
      api('GET', '/v1/agents?include_inactive=true').catch(() => ({ agents: [] })),
      // Sign-ins are the administrators' to read (and to give: invitations).
      admin ? api('GET', '/v1/users') : null]);
  } catch (error) {
    show(el('h1', { text: t('custTitle') }), el('p', {}, el('a', { href: '#/clientes', text: t('custBack') })), errorBox(error));
    return;
  }
  const writer = custCanWrite();
  const status = el('div', { id: 'cust-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const redraw = (done) => customerPage(id, done);
  const act = changeThen(status, redraw);
  const owner = (agents.agents || []).find((agent) => agent.id === organization.account_owner_agent_id);
  const facts = el('dl', { class: 'facts', id: 'cust-facts' },
    el('dt', { text: t('code') }), el('dd', { text: organization.code || '' }),
    el('dt', { text: t('custTaxId') }), el('dd', { text: taxIdText(organization.tax_id) }),
    el('dt', { text: t('custKind') }), el('dd', { text: label(ORGANIZATION_KINDS, organization.kind) }),
    el('dt', { text: t('plan') }), el('dd', { text: organization.plan || '' }),
    el('dt', { text: t('custAccountOwner') }), el('dd', { text: owner ? owner.name : organization.account_owner_agent_id || '' }),
    el('dt', { text: t('custCreatedAt') }), el('dd', { text: when(organization.created_at_ms) }),
    el('dt', { text: t('state') }), el('dd', { id: 'cust-state' }, t(organization.active ? 'custActive' : 'custInactive'), ' ',
      writer ? el('button', { type: 'button', class: 'link', id: 'cust-toggle-active',
        'aria-label': tf(organization.active ? 'custDeactivateOf' : 'custReactivateOf', { name: organization.name }),
        text: t(organization.active ? 'deactivate' : 'reactivate'),
        onclick: () => act(() => api('POST', '/v1/organizations/' + encodeURIComponent(id), { active: !organization.active }),
          tf(organization.active ? 'custDeactivated' : 'custReactivated', { name: organization.name })) }) : null));
  let details = [el('p', { class: 'muted', id: 'cust-read-only', text: t('custReadOnly') })];
  if (writer) {
    const { form, errors } = organizationForm('org-edit', organization, agents.agents || [], t('save'), (body, fail) => {
      api('POST', '/v1/organizations/' + encodeURIComponent(id), body).then((saved) => redraw(tf('custSaved', { name: saved.name })), fail);
    });
    form.setAttribute('aria-labelledby', 'org-edit-title');
    details = [el('h2', { id: 'org-edit-title', text: t('custDetails') }), form, errors];
  }
  show(el('h1', { text: organization.name }), el('p', { class: 'row' }, el('a', { href: '#/clientes', id: 'cust-back', text: t('custBack') }),
    el('a', { href: '#/?organization_id=' + encodeURIComponent(id), id: 'cust-tickets', text: t('custTickets') })),
  status, facts, ...contactsSection(organization, contacts.contacts || [], users, writer, status, act, redraw), ...details);
}

// The organization's contacts (the shared table, account.js) with what the caller may do on each
// row, the form changing one (opened by its row's button) and the form adding one.
function contactsSection(organization, contacts, users, writer, status, act, redraw) {
  const editSlot = el('div', { id: 'contact-edit' });
  const signIns = users ? signInsByContact(users.users) : null;
  const table = contactsTable(contacts, signIns, (contact, user) => !writer ? [] : [
    el('button', { type: 'button', class: 'link edit-contact', 'aria-label': tf('custEditOf', { name: contact.name }), text: t('custEdit'),
      onclick: () => {
        const { form, errors } = contactForm('contact-edit', contact, t('save'), (body, fail) => {
          api('POST', '/v1/contacts/' + encodeURIComponent(contact.id), body).then((saved) => redraw(tf('custContactSaved', { name: saved.name })), fail);
        }, () => editSlot.replaceChildren());
        form.setAttribute('aria-labelledby', 'contact-edit-title');
        editSlot.replaceChildren(el('h3', { id: 'contact-edit-title', text: tf('custEditContact', { name: contact.name }) }), form, errors);
        form.querySelector('input').focus();
      } }),
    // Invitations are the administrators' (the gateway refuses anyone else); intake's contact must
    // be active and authorized, and the sign-in is the company's administrator's when it is one.
    signIns && !user && contact.active && contact.authorized && contact.email
      ? inviteButton(contact, act, { organization_id: organization.id, role: contact.admin ? 'customer_admin' : 'customer_contact' }) : null,
    activeToggle(contact, act),
    el('button', { type: 'button', class: 'link delete-contact', 'aria-label': tf('custDeleteOf', { name: contact.name }), text: t('custDelete'),
      onclick: () => {
        if (!confirm(tf('custConfirmDelete', { name: contact.name }))) return;
        act(() => api('DELETE', '/v1/contacts/' + encodeURIComponent(contact.id)), tf('custDeleted', { name: contact.name }));
      } })]);
  const parts = [el('h2', { id: 'contacts-title', text: t('custContacts') }), el('p', { class: 'muted', text: t('custContactsIntro') }),
    signIns && writer ? el('p', { class: 'muted', text: t('custInviteHint') }) : null, table, editSlot];
  if (writer) {
    const { form, errors } = contactForm('contact-new', null, t('custAddContact'), (body, fail) => {
      api('POST', `/v1/organizations/${encodeURIComponent(organization.id)}/contacts`, Object.assign({ organization_id: organization.id, active: true }, body))
        .then((added) => redraw(tf('custContactAdded', { name: added.name })), fail);
    });
    form.setAttribute('aria-labelledby', 'contact-new-title');
    parts.push(el('h3', { id: 'contact-new-title', text: t('custNewContact') }), form, errors);
  }
  return parts;
}

// The form of a contact (`contact`, or a new one when null): name, e-mail, phone, authorized to
// open tickets (new ones are), the company's administrator. `submit(body, fail)` as for
// organizationForm; `cancel`, when given, adds a button closing the form.
function contactForm(prefix, contact, submitText, submit, cancel) {
  const c = contact || { authorized: true };
  const form = el('form', { id: `${prefix}-form` },
    el('label', {}, t('name'), el('input', { name: 'name', id: `${prefix}-name`, required: true, maxlength: 200, value: c.name || '', autocomplete: 'off' })),
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: `${prefix}-email`, maxlength: 254, value: c.email || '', autocomplete: 'off' })),
    el('label', {}, t('phone'), el('input', { type: 'tel', name: 'phone', id: `${prefix}-phone`, maxlength: 40, value: c.phone || '', autocomplete: 'off' })),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'authorized', id: `${prefix}-authorized`, checked: !!c.authorized }), t('custAuthorized')),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'admin', id: `${prefix}-admin`, checked: !!c.admin }), t('custCompanyAdmin')),
    el('div', { class: 'row' }, el('button', { type: 'submit', id: `${prefix}-submit`, text: submitText }),
      cancel ? el('button', { type: 'button', class: 'secondary', text: t('cancelEdit'), onclick: cancel }) : null));
  const errors = el('div', { id: `${prefix}-errors` });
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = form.elements;
    button.disabled = true;
    submit({ name: fields.name.value.trim(), email: fields.email.value.trim(), phone: fields.phone.value.trim(),
      authorized: fields.authorized.checked, admin: fields.admin.checked }, (error) => { button.disabled = false; formRefused(form, errors, error); });
  });
  return { form, errors };
}

addPage({
  path: '/clientes', visible: custCanRead, nav: { id: 'nav-customers', text: 'custTitle' },
  render: (rest) => (rest.startsWith('/') ? customerPage(decodeURIComponent(rest.slice(1).split('?')[0])) : customersPage(rest)),
});

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
// findOrganizations, contactsTable, inviteButton, resendButton, activeToggle, signInsByContact,
// isAdministrator); its link and paths are added with addPage. Also an organization's
// representatives (listed, created, linked, unlinked, (de)activated) and a representative's page
// (#/representantes/{id}) with its own people.

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
  repTitle: 'Representantes', repIntro: 'Revendas e consultores que abrem ocorrências em nome desta organização.',
  repOthers: 'Também representa', repNoneYet: 'Nenhum representante age por esta organização.',
  repNew: 'Novo representante', repCreate: 'Criar representante', repCreated: 'Representante {name} criado.',
  repLink: 'Vincular um representante existente', repFind: 'Representante (nome, e-mail ou id)', repFindHint: 'Busca como a dos clientes; um id encontra o representante pelo id.',
  repNoneFound: 'Nenhum representante encontrado.', repLinkOf: 'Vincular {name}', repLinked: 'Representante {name} vinculado a {organization}.',
  repAlreadyLinked: 'já vinculado', repUnlink: 'Desvincular', repUnlinkOf: 'Desvincular {name} desta organização',
  repUnlinked: 'Representante {name} desvinculado de {organization}.',
  repDeactivateOf: 'Desativar o representante {name}', repReactivateOf: 'Reativar o representante {name}',
  repDeactivated: 'O representante {name} foi desativado.', repReactivated: 'O representante {name} foi reativado.',
  repOpen: 'Representante {name}', repOrganizations: 'Organizações representadas', repNoOrganizations: 'Nenhuma organização.',
  repDetails: 'Dados do representante', repSaved: 'Dados de {name} salvos.',
  repContacts: 'Contatos do representante', repContactsIntro: 'As pessoas do representante; com um acesso, abrem ocorrências pelas organizações representadas.',
  repNoContacts: 'Nenhum contato.', repNewContact: 'Novo contato do representante',
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
  repTitle: 'Representatives', repIntro: 'Resellers and consultants who open tickets on behalf of this organization.',
  repOthers: 'Also represents', repNoneYet: 'No representative acts for this organization.',
  repNew: 'New representative', repCreate: 'Create representative', repCreated: 'Representative {name} created.',
  repLink: 'Link an existing representative', repFind: 'Representative (name, e-mail or id)', repFindHint: 'Searches like the customers\' search; an id finds the representative by id.',
  repNoneFound: 'No representative found.', repLinkOf: 'Link {name}', repLinked: 'Representative {name} linked to {organization}.',
  repAlreadyLinked: 'already linked', repUnlink: 'Unlink', repUnlinkOf: 'Unlink {name} from this organization',
  repUnlinked: 'Representative {name} unlinked from {organization}.',
  repDeactivateOf: 'Deactivate representative {name}', repReactivateOf: 'Reactivate representative {name}',
  repDeactivated: 'Representative {name} was deactivated.', repReactivated: 'Representative {name} was reactivated.',
  repOpen: 'Representative {name}', repOrganizations: 'Organizations represented', repNoOrganizations: 'No organization.',
  repDetails: 'Representative details', repSaved: '{name}\'s details saved.',
  repContacts: 'Representative\'s contacts', repContactsIntro: 'The representative\'s people; with a sign-in they open tickets for the organizations represented.',
  repNoContacts: 'No contact.', repNewContact: 'New contact of the representative',
});

// Intake's kinds of organization (OrganizationKind), in the page's language.
const ORGANIZATION_KINDS = { ORGANIZATION_CUSTOMER: ['Cliente', 'Customer'], ORGANIZATION_PROSPECT: ['Prospect', 'Prospect'],
  ORGANIZATION_SUPPLIER: ['Fornecedor', 'Supplier'], ORGANIZATION_PERSON: ['Pessoa física', 'Person'] };

// Staff read the directory; changing it takes `tickets.work` (every staff role has it; intake
// checks again).
const custCanRead = () => !!me && !isCustomer();
const custCanWrite = () => custCanRead() && (me.principal.permissions || []).includes('tickets.work');


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
  let organization, contacts, agents, users, representatives;
  try {
    [organization, contacts, agents, users, representatives] = await Promise.all([
      api('GET', '/v1/organizations/' + encodeURIComponent(id)),
      api('GET', `/v1/organizations/${encodeURIComponent(id)}/contacts?include_inactive=true`),
      api('GET', '/v1/agents?include_inactive=true').catch(() => ({ agents: [] })),
      // Sign-ins are the administrators' to read (and to give: invitations).
      admin ? api('GET', '/v1/users') : null,
      api('GET', `/v1/organizations/${encodeURIComponent(id)}/representatives?include_inactive=true`)]);
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
    // What the plan includes and the organization's e-mail, when known: an agent on the phone
    // reads them here (they were in the edit form only).
    ...(organization.plan_includes ? [el('dt', { text: t('custPlanIncludes') }), el('dd', { text: organization.plan_includes })] : []),
    ...(organization.email ? [el('dt', { text: t('custEmail') }), el('dd', { text: organization.email })] : []),
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
  status, facts, ...contactsSection(organization, contacts.contacts || [], users, writer, status, act, redraw),
  ...representativesSection(organization, representatives, writer, act, redraw), ...details);
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
    signIns && contact.active ? resendButton(user, contact.name, act) : null,
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
// organizationForm; `cancel`, when given, adds a button closing the form. `access: false` leaves
// out the two checkboxes (a representative, or one of its people: name, e-mail and phone only).
function contactForm(prefix, contact, submitText, submit, cancel, { access = true } = {}) {
  const c = contact || { authorized: true };
  const form = el('form', { id: `${prefix}-form` },
    el('label', {}, t('name'), el('input', { name: 'name', id: `${prefix}-name`, required: true, maxlength: 200, value: c.name || '', autocomplete: 'off' })),
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: `${prefix}-email`, maxlength: 254, value: c.email || '', autocomplete: 'off' })),
    el('label', {}, t('phone'), el('input', { type: 'tel', name: 'phone', id: `${prefix}-phone`, maxlength: 40, value: c.phone || '', autocomplete: 'off' })),
    access ? el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'authorized', id: `${prefix}-authorized`, checked: !!c.authorized }), t('custAuthorized')) : null,
    access ? el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'admin', id: `${prefix}-admin`, checked: !!c.admin }), t('custCompanyAdmin')) : null,
    el('div', { class: 'row' }, el('button', { type: 'submit', id: `${prefix}-submit`, text: submitText }),
      cancel ? el('button', { type: 'button', class: 'secondary', text: t('cancelEdit'), onclick: cancel }) : null));
  const errors = el('div', { id: `${prefix}-errors` });
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = form.elements;
    button.disabled = true;
    const body = { name: fields.name.value.trim(), email: fields.email.value.trim(), phone: fields.phone.value.trim() };
    if (access) Object.assign(body, { authorized: fields.authorized.checked, admin: fields.admin.checked });
    submit(body, (error) => { button.disabled = false; formRefused(form, errors, error); });
  });
  return { form, errors };
}

// ---------------------------------------------------------------- representatives

// A representative's (de)activation (the gateway lays `active` alone over the record), run
// through `act` (changeThen).
const representativeToggle = (representative, act) => el('button', { type: 'button', class: 'link toggle-representative',
  'aria-label': tf(representative.active ? 'repDeactivateOf' : 'repReactivateOf', { name: representative.name }),
  text: t(representative.active ? 'deactivate' : 'reactivate'),
  onclick: () => act(() => api('POST', '/v1/representatives/' + encodeURIComponent(representative.id), { active: !representative.active }),
    tf(representative.active ? 'repDeactivated' : 'repReactivated', { name: representative.name })) });

// Sets the organizations `representativeId` acts for to `change(current ids)`, from the record
// as stored now (another agent may have changed it since the page was drawn).
async function changeRepresented(representativeId, change) {
  const path = '/v1/representatives/' + encodeURIComponent(representativeId);
  const current = await api('GET', path);
  return api('POST', path, { organization_ids: change(current.organization_ids || []) });
}

// Links to organizations by name (`named`: id → organization, from the listing).
const organizationLinks = (ids, named) => ids.flatMap((other, index) => [index ? ', ' : null,
  el('a', { href: '#/clientes/' + encodeURIComponent(other), text: (named[other] && named[other].name) || other })]);

// The organization's representatives (GET /v1/organizations/{id}/representatives, inactive ones
// too) with the other organizations each acts for, and, for writers: (de)activate, unlink from
// this organization, a form creating one for it and a search linking an existing one.
function representativesSection(organization, listing, writer, act, redraw) {
  const named = {};
  for (const o of listing.organizations || []) named[o.id] = o;
  const representatives = listing.representatives || [];
  const rows = representatives.map((r) => el('tr', { 'data-representative': r.id, class: r.active ? null : 'inactive' },
    el('td', { class: 'name' }, el('a', { href: '#/representantes/' + encodeURIComponent(r.id), 'aria-label': tf('repOpen', { name: r.name }), text: r.name })),
    el('td', { text: r.email || '' }), el('td', { text: r.phone || '' }),
    el('td', { class: 'state', text: t(r.active ? 'contactActive' : 'contactInactive') }),
    el('td', { class: 'others' }, organizationLinks((r.organization_ids || []).filter((other) => other !== organization.id), named)),
    writer ? el('td', { class: 'actions' }, representativeToggle(r, act), ' ',
      el('button', { type: 'button', class: 'link unlink-representative', 'aria-label': tf('repUnlinkOf', { name: r.name }), text: t('repUnlink'),
        onclick: () => act(() => changeRepresented(r.id, (ids) => ids.filter((other) => other !== organization.id)),
          tf('repUnlinked', { name: r.name, organization: organization.name })) })) : null));
  const headers = [t('name'), t('email'), t('phone'), t('state'), t('repOthers')].concat(writer ? [t('actions')] : []);
  const parts = [el('h2', { id: 'representatives-title', text: t('repTitle') }), el('p', { class: 'muted', text: t('repIntro') }),
    rowsTable('representatives', headers, rows, 'representatives-empty', t('repNoneYet'))];
  if (!writer) return parts;
  const { form, errors } = contactForm('rep-new', null, t('repCreate'), (body, fail) => {
    api('POST', '/v1/representatives', Object.assign(body, { active: true, organization_ids: [organization.id] }))
      .then((created) => redraw(tf('repCreated', { name: created.name })), fail);
  }, null, { access: false });
  form.setAttribute('aria-labelledby', 'rep-new-title');
  const found = el('div', { id: 'rep-found', role: 'status' });
  const search = el('form', { id: 'rep-find', role: 'search', class: 'row', 'aria-labelledby': 'rep-link-title' },
    el('label', {}, t('repFind'), el('input', { type: 'search', name: 'q', id: 'rep-q', required: true, maxlength: 200, autocomplete: 'off',
      'aria-describedby': 'rep-q-hint' })),
    el('button', { type: 'submit', id: 'rep-find-submit', class: 'secondary', text: t('search') }),
    el('p', { class: 'muted', id: 'rep-q-hint', text: t('repFindHint') }));
  search.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = search.elements.q.value.trim();
    let candidates;
    try {
      const [byLookup, byId] = await Promise.all([api('GET', '/v1/customers?limit=20&q=' + encodeURIComponent(query)),
        api('GET', '/v1/representatives/' + encodeURIComponent(query)).catch(() => null)]);
      candidates = (byId ? [byId] : []).concat((byLookup.representatives || []).filter((r) => !byId || r.id !== byId.id));
    } catch (error) { found.replaceChildren(errorBox(error)); return; }
    found.replaceChildren(candidates.length ? el('ul', { id: 'rep-candidates' }, candidates.map((r) => el('li', { 'data-representative': r.id },
      [r.name, r.email].filter(Boolean).join(' · '), ' ',
      (r.organization_ids || []).includes(organization.id) ? el('span', { class: 'muted', text: t('repAlreadyLinked') })
        : el('button', { type: 'button', class: 'link link-representative', 'aria-label': tf('repLinkOf', { name: r.name }), text: t('link'),
          onclick: () => act(() => changeRepresented(r.id, (ids) => ids.concat([organization.id])),
            tf('repLinked', { name: r.name, organization: organization.name })) }))))
      : el('p', { class: 'muted', id: 'rep-none-found', text: t('repNoneFound') }));
  });
  parts.push(el('h3', { id: 'rep-new-title', text: t('repNew') }), form, errors,
    el('h3', { id: 'rep-link-title', text: t('repLink') }), search, found);
  return parts;
}

// A representative (#/representantes/{id}): its details (edited by writers), the organizations it
// acts for, and its own people, added, edited, deactivated or reactivated.
async function representativePage(id, notice = custTakeNotice()) {
  show(el('h1', { text: t('repTitle') }), el('p', { text: t('loading') }));
  const path = '/v1/representatives/' + encodeURIComponent(id);
  let representative, organizations, contacts;
  try {
    [representative, organizations, contacts] = await Promise.all([api('GET', path),
      api('GET', path + '/organizations?include_inactive=true'), api('GET', path + '/contacts?include_inactive=true')]);
  } catch (error) {
    show(el('h1', { text: t('repTitle') }), el('p', {}, el('a', { href: '#/clientes', text: t('custBack') })), errorBox(error));
    return;
  }
  const writer = custCanWrite();
  const status = el('div', { id: 'cust-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const redraw = (done) => representativePage(id, done);
  const act = changeThen(status, redraw);
  const named = {};
  for (const o of organizations.organizations || []) named[o.id] = o;
  const facts = el('dl', { class: 'facts', id: 'rep-facts' },
    el('dt', { text: t('email') }), el('dd', { text: representative.email || '' }),
    el('dt', { text: t('phone') }), el('dd', { text: representative.phone || '' }),
    el('dt', { text: t('state') }), el('dd', { id: 'rep-state' }, t(representative.active ? 'contactActive' : 'contactInactive'), ' ',
      writer ? representativeToggle(representative, act) : null),
    el('dt', { text: t('repOrganizations') }), el('dd', { id: 'rep-organizations' },
      (organizations.organizations || []).length ? organizationLinks(organizations.organizations.map((o) => o.id), named) : t('repNoOrganizations')));
  const editSlot = el('div', { id: 'rep-contact-edit' });
  const rows = (contacts.contacts || []).map((contact) => el('tr', { 'data-contact': contact.id, class: contact.active ? null : 'inactive' },
    el('td', { class: 'name', text: contact.name }), el('td', { text: contact.email || '' }), el('td', { text: contact.phone || '' }),
    el('td', { class: 'state', text: t(contact.active ? 'contactActive' : 'contactInactive') }),
    writer ? el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'link edit-contact', 'aria-label': tf('custEditOf', { name: contact.name }), text: t('custEdit'),
        onclick: () => {
          const { form, errors } = contactForm('rep-contact-edit', contact, t('save'), (body, fail) => {
            api('POST', '/v1/representative-contacts/' + encodeURIComponent(contact.id), body)
              .then((saved) => redraw(tf('custContactSaved', { name: saved.name })), fail);
          }, () => editSlot.replaceChildren(), { access: false });
          form.setAttribute('aria-labelledby', 'rep-contact-edit-title');
          editSlot.replaceChildren(el('h3', { id: 'rep-contact-edit-title', text: tf('custEditContact', { name: contact.name }) }), form, errors);
          form.querySelector('input').focus();
        } }), ' ',
      activeToggle(contact, act, (active) => api('POST', '/v1/representative-contacts/' + encodeURIComponent(contact.id), { active }))) : null));
  const headers = [t('name'), t('email'), t('phone'), t('state')].concat(writer ? [t('actions')] : []);
  const parts = [el('h2', { id: 'rep-contacts-title', text: t('repContacts') }), el('p', { class: 'muted', text: t('repContactsIntro') }),
    rowsTable('rep-contacts', headers, rows, 'rep-contacts-empty', t('repNoContacts')), editSlot];
  if (writer) {
    const added = contactForm('rep-contact-new', null, t('custAddContact'), (body, fail) => {
      api('POST', path + '/contacts', Object.assign(body, { representative_id: id, active: true }))
        .then((contact) => redraw(tf('custContactAdded', { name: contact.name })), fail);
    }, null, { access: false });
    added.form.setAttribute('aria-labelledby', 'rep-contact-new-title');
    const edited = contactForm('rep-edit', representative, t('save'), (body, fail) => {
      api('POST', path, body).then((saved) => redraw(tf('repSaved', { name: saved.name })), fail);
    }, null, { access: false });
    edited.form.setAttribute('aria-labelledby', 'rep-edit-title');
    parts.push(el('h3', { id: 'rep-contact-new-title', text: t('repNewContact') }), added.form, added.errors,
      el('h2', { id: 'rep-edit-title', text: t('repDetails') }), edited.form, edited.errors);
  }
  show(el('h1', { text: representative.name }), el('p', { class: 'row' }, el('a', { href: '#/clientes', id: 'cust-back', text: t('custBack') })),
    status, facts, ...parts);
}

// #/representantes alone: the customers' list, where representatives are reached from.
addPage({ path: '/representantes', visible: custCanRead, render: (rest) => {
  const id = decodeURIComponent(rest.replace(/^\//, '').split('?')[0]);
  return id ? representativePage(id) : customersPage('');
} });

addPage({
  path: '/clientes', visible: custCanRead, nav: { id: 'nav-customers', text: 'custTitle' },
  render: (rest) => (rest.startsWith('/') ? customerPage(decodeURIComponent(rest.slice(1).split('?')[0])) : customersPage(rest)),
});

'use strict';
// Everyone's account page (#/conta: who is signed in, changing the password) and the company
// administrator's contacts page (#/contatos: the organization's contacts, who has a sign-in, inviting
// a colleague, deactivating a contact). Loaded after portal.js and built from its helpers (el,
// api, show, t, tf, errorBox); its links and paths are added with addPage.

Object.assign(TEXT['pt-BR'], {
  account: 'Minha conta', accountIntro: 'Seus dados de acesso.', name: 'Nome', role: 'Papel', changePassword: 'Trocar a senha',
  currentPassword: 'Senha atual', repeatPassword: 'Repita a nova senha', passwordsDiffer: 'As duas senhas novas não são iguais.',
  passwordChanged: 'Senha alterada. Entre de novo com a nova senha.', passwordRules: 'Pelo menos 12 caracteres; evite partes do seu e-mail e senhas comuns.',
  sessions: 'Sessões', sessionsIntro: 'Encerra todas as suas sessões e tokens, neste e em outros dispositivos (o portal em outro computador, a linha de comando). A senha continua a mesma.',
  logoutEverywhere: 'Sair de todos os dispositivos', loggedOutEverywhere: 'Você saiu de todos os dispositivos. Entre de novo para continuar.',
  contacts: 'Contatos da empresa', contactsIntro: 'Quem da sua empresa pode abrir e acompanhar ocorrências. Convide um colega: ele recebe um e-mail para definir a senha.',
  phone: 'Telefone', access: 'Acesso', accessActive: 'Ativo', accessInvited: 'Convidado', accessDisabled: 'Bloqueado', accessNone: 'Sem acesso',
  contactActive: 'Ativo', contactInactive: 'Inativo', authorizedShort: 'Autorizado', adminShort: 'Administrador', yes: 'Sim', no: 'Não',
  invite: 'Convidar', inviteColleague: 'Convidar um colega', inviteSent: 'Convite enviado para {email}.', deactivate: 'Desativar',
  resendInvite: 'Reenviar convite', resendInviteOf: 'Reenviar o convite de {name}', inviteResent: 'Convite reenviado para {email}; o link anterior deixou de valer.',
  reactivate: 'Reativar', deactivated: '{name} foi desativado.', reactivated: '{name} foi reativado.', noContactsYet: 'Nenhum contato cadastrado.',
  administrationWithdrawn: 'O suporte retirou de você a administração da empresa: você acompanha as ocorrências como os demais contatos. Fale com o suporte se isso for um engano.',
  roles: { customer_contact: 'Contato do cliente', customer_admin: 'Administrador da empresa', representative: 'Representante', agent: 'Agente',
    chefe: 'Chefe', admin: 'Administrador' },
});
Object.assign(TEXT.en, {
  account: 'My account', accountIntro: 'Your sign-in details.', name: 'Name', role: 'Role', changePassword: 'Change password',
  currentPassword: 'Current password', repeatPassword: 'Repeat the new password', passwordsDiffer: 'The two new passwords differ.',
  passwordChanged: 'Password changed. Sign in again with the new password.', passwordRules: 'At least 12 characters; avoid parts of your e-mail and common passwords.',
  sessions: 'Sessions', sessionsIntro: 'Ends all your sessions and tokens, on this and other devices (the portal on another computer, the command line). Your password stays the same.',
  logoutEverywhere: 'Sign out everywhere', loggedOutEverywhere: 'You signed out on every device. Sign in again to go on.',
  contacts: 'Company contacts', contactsIntro: 'Who in your company may open and follow tickets. Invite a colleague: they get an e-mail to choose a password.',
  phone: 'Phone', access: 'Sign-in', accessActive: 'Active', accessInvited: 'Invited', accessDisabled: 'Blocked', accessNone: 'None',
  contactActive: 'Active', contactInactive: 'Inactive', authorizedShort: 'Authorized', adminShort: 'Administrator', yes: 'Yes', no: 'No',
  invite: 'Invite', inviteColleague: 'Invite a colleague', inviteSent: 'Invitation sent to {email}.', deactivate: 'Deactivate',
  resendInvite: 'Resend invitation', resendInviteOf: 'Resend the invitation of {name}', inviteResent: 'Invitation sent again to {email}; the earlier link no longer works.',
  reactivate: 'Reactivate', deactivated: '{name} was deactivated.', reactivated: '{name} was reactivated.', noContactsYet: 'No contacts yet.',
  administrationWithdrawn: 'Support has withdrawn your company administration: you follow tickets as the other contacts do. Contact support if this is a mistake.',
  roles: { customer_contact: 'Customer contact', customer_admin: 'Company administrator', representative: 'Representative', agent: 'Agent',
    chefe: 'Supervisor', admin: 'Administrator' },
});

// A role's name in the page's language (`roles` above; team.js adds the staff's), or the role.
const roleName = (role) => (TEXT[lang].roles || {})[role] || role;

// A company's administrator (not a representative's person) manages its contacts.
const isCompanyAdmin = () => isCustomer() && !isRepresentative() && !!me.principal.organization_admin;

// A sign-in's state in words (Ativo, Convidado, Bloqueado; Sem acesso without one).
const signInText = (user) => !user ? t('accessNone')
  : t({ active: 'accessActive', invited: 'accessInvited', disabled: 'accessDisabled' }[user.status] || 'accessNone');

// The sign-ins of `users` (GET /v1/users) by the intake contact each one is.
const signInsByContact = (users) => Object.fromEntries((users || []).filter((user) => user.contact_id).map((user) => [user.contact_id, user]));

// The table of an organization's contacts (the company administrator's #/contatos, the staff's
// #/clientes/{id}): name, e-mail, phone, state, authorized, administrator, the sign-in when the
// caller may read them (`signIns` by contact id; null leaves the column out) and the buttons
// `actions(contact, user)` gives (nulls skipped).
function contactsTable(contacts, signIns, actions) {
  const rows = contacts.map((contact) => {
    const user = signIns ? signIns[contact.id] : null;
    return el('tr', { 'data-contact': contact.id, 'data-email': contact.email || '', class: contact.active ? null : 'inactive' },
      el('td', { class: 'name', text: contact.name }), el('td', { text: contact.email || '' }), el('td', { text: contact.phone || '' }),
      el('td', { class: 'state', text: t(contact.active ? 'contactActive' : 'contactInactive') }),
      el('td', { text: t(contact.authorized ? 'yes' : 'no') }), el('td', { text: t(contact.admin ? 'yes' : 'no') }),
      signIns ? el('td', { class: 'access', text: signInText(user) }) : null,
      el('td', { class: 'actions' }, actions(contact, user).filter(Boolean).flatMap((button) => [button, ' '])));
  });
  const headers = [t('name'), t('email'), t('phone'), t('state'), t('authorizedShort'), t('adminShort')]
    .concat(signIns ? [t('access')] : []).concat([t('actions')]);
  return rowsTable('contacts', headers, rows, 'contacts-empty', t('noContactsYet'));
}

// The button inviting `contact` to sign in (POST /v1/invitations naming it; `extra`: the rest of
// an administrator's invitation, organization and role), run through `act` (changeThen).
const inviteButton = (contact, act, extra) => el('button', { type: 'button', class: 'invite', 'aria-label': `${t('invite')} ${contact.name}`,
  text: t('invite'), onclick: () => act(() => api('POST', '/v1/invitations',
    Object.assign({ email: contact.email, display_name: contact.name, contact_id: contact.id }, extra)), tf('inviteSent', { email: contact.email })) });

// The button sending `user`'s pending invitation again (a sign-in still `invited`; null
// otherwise): POST /v1/users/{id}/resend-invitation makes a new link, spends the earlier one and
// e-mails it; run through `act` (changeThen, or the team page's changer).
const resendButton = (user, name, act) => !user || user.status !== 'invited' ? null
  : el('button', { type: 'button', class: 'link resend-invite', 'aria-label': tf('resendInviteOf', { name }), text: t('resendInvite'),
    onclick: () => act(() => api('POST', `/v1/users/${encodeURIComponent(user.id)}/resend-invitation`), tf('inviteResent', { email: user.email })) });

// The button deactivating or reactivating `contact`, run through `act` (changeThen). The gateway
// blocks a deactivated contact's sign-in (its sessions end) and unblocks it when it is reactivated.
// `change(active)`, when given, sends the change instead (a representative's person).
function activeToggle(contact, act, change) {
  const active = !contact.active;
  return el('button', { type: 'button', class: 'link toggle-active', 'aria-label': `${t(active ? 'reactivate' : 'deactivate')} ${contact.name}`,
    text: t(active ? 'reactivate' : 'deactivate'),
    onclick: () => act(() => (change ? change(active) : api('POST', `/v1/contacts/${encodeURIComponent(contact.id)}/active`, { active })),
      tf(active ? 'reactivated' : 'deactivated', { name: contact.name })) });
}

function accountPage() {
  const user = me.user || {};
  const status = el('div', { id: 'password-status' });
  const sessions = el('div', { id: 'sessions-status', role: 'status' });
  const input = (name, label, autocomplete) => el('label', {}, label,
    el('input', { type: 'password', name, id: name, required: true, autocomplete, minlength: name === 'current_password' ? null : 12,
      'aria-describedby': name === 'current_password' ? null : 'password-rules' }));
  // The account's address, unseen, beside the passwords: a password manager knows whose password
  // it saves (Chrome warned of a password form without one).
  const form = el('form', { id: 'password-form', 'aria-labelledby': 'password-title' },
    el('input', { type: 'email', name: 'username', autocomplete: 'username', value: user.email || '', readonly: true, hidden: true }),
    input('current_password', t('currentPassword'), 'current-password'),
    input('new_password', t('newPassword'), 'new-password'),
    input('repeat_password', t('repeatPassword'), 'new-password'),
    el('p', { class: 'muted', id: 'password-rules', text: t('passwordRules') }),
    el('button', { type: 'submit', id: 'password-submit', text: t('changePassword') }), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = form.elements;
    if (fields.new_password.value !== fields.repeat_password.value) {
      status.replaceChildren(el('div', { class: 'error', role: 'alert', text: t('passwordsDiffer') }));
      return;
    }
    try {
      // The gateway ends every session of the user (this one too) when the password changes.
      await api('POST', '/v1/me/password', { current_password: fields.current_password.value, new_password: fields.new_password.value });
      me = null;
      renderNav();
      loginPage();
      document.getElementById('main').prepend(el('p', { class: 'ok', id: 'password-changed', text: t('passwordChanged') }));
      say(t('passwordChanged'));
    } catch (error) { status.replaceChildren(errorBox(error)); }
  });
  // The role acted with (GET /v1/me): a company's administrator whose contact lost the flag is a
  // customer contact, and is told why.
  const role = roleName(user.role) || me.principal.kind;
  show(el('h1', { text: t('account') }), el('p', { class: 'muted', text: t('accountIntro') }),
    el('dl', { class: 'facts', id: 'account-facts' },
      el('dt', { text: t('name') }), el('dd', { text: user.display_name || me.principal.display_name }),
      el('dt', { text: t('email') }), el('dd', { text: user.email || '' }),
      el('dt', { text: t('role') }), el('dd', { text: role })),
    user.company_administrator_withdrawn ? el('p', { class: 'muted', id: 'administration-withdrawn', text: t('administrationWithdrawn') }) : null,
    el('h2', { id: 'password-title', text: t('changePassword') }), form,
    el('h2', { id: 'sessions-title', text: t('sessions') }), el('p', { class: 'muted', text: t('sessionsIntro') }),
    el('button', { type: 'button', class: 'secondary', id: 'logout-everywhere', text: t('logoutEverywhere'),
      onclick: () => logoutEverywhere(sessions) }),
    sessions);
}

// Every session and token of the user ends (POST /v1/auth/logout?everywhere=true), this one too;
// a refusal is shown in `status`.
async function logoutEverywhere(status) {
  try {
    await api('POST', '/v1/auth/logout?everywhere=true');
  } catch (error) { status.replaceChildren(errorBox(error)); return; }
  me = null;
  clearDrafts();
  renderNav();
  loginPage();
  document.getElementById('main').prepend(el('p', { class: 'ok', id: 'logged-out-everywhere', text: t('loggedOutEverywhere') }));
  say(t('loggedOutEverywhere'));
}

async function contactsPage(notice) {
  show(el('p', { text: t('loading') }));
  const organization = me.principal.organization_id;
  let contacts, users;
  try {
    [contacts, users] = await Promise.all([
      api('GET', `/v1/organizations/${encodeURIComponent(organization)}/contacts?include_inactive=true`),
      api('GET', '/v1/users'),
    ]);
  } catch (error) { show(el('h1', { text: t('contacts') }), errorBox(error)); return; }
  const byContact = signInsByContact(users.users);
  const status = el('div', { id: 'contacts-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const act = changeThen(status, contactsPage);
  // Not one's own contact: the administrator would lock themselves out.
  const table = contactsTable(contacts.contacts || [], byContact, (contact, user) => [
    contact.active && !user && contact.email ? inviteButton(contact, act) : null,
    contact.active ? resendButton(user, contact.name, act) : null,
    contact.id !== me.principal.id ? activeToggle(contact, act) : null]);
  const form = el('form', { id: 'invite-form', 'aria-labelledby': 'invite-title' },
    el('label', {}, t('name'), el('input', { name: 'display_name', id: 'invite-name', required: true, maxlength: 200, autocomplete: 'off' })),
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: 'invite-email', required: true, maxlength: 254, autocomplete: 'off' })),
    el('label', {}, t('phone'), el('input', { type: 'tel', name: 'phone', id: 'invite-phone', maxlength: 40, autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'invite-submit', text: t('invite') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = form.elements;
    const body = { display_name: fields.display_name.value.trim(), email: fields.email.value.trim() };
    if (fields.phone.value.trim()) body.phone = fields.phone.value.trim();
    act(() => api('POST', '/v1/invitations', body), tf('inviteSent', { email: body.email }), form);
  });
  show(el('h1', { text: t('contacts') }), el('p', { class: 'muted', text: t('contactsIntro') }), status, table,
    el('h2', { id: 'invite-title', text: t('inviteColleague') }), form);
}

addPage({ path: '/contatos', visible: isCompanyAdmin, nav: { id: 'nav-contacts', text: 'contacts' }, render: () => contactsPage() });
addPage({ path: '/conta', visible: () => !!me, nav: { id: 'nav-account', text: 'account' }, render: accountPage });

'use strict';
// The administrators' integrations page (#/integracoes): the API keys other systems use over
// HTTP (Authorization: Bearer) and on the gateway's RPC port, creating one (its secret is shown
// once, never stored in the clear) and revoking one. Loaded after portal.js, account.js and
// team.js and built from their helpers (el, api, show, t, tf, errorBox, when, rowsTable,
// roleName, isAdministrator, STAFF_ROLES: a key takes a staff role; customer roles need an
// organization and are created through the API);
// its link and path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  integrations: 'Integrações', integrationsIntro: 'Chaves de API para outros sistemas (cabeçalho Authorization: Bearer na API HTTP, ou a porta RPC do gateway). A chave age com o papel, o nível de acesso e as permissões dados aqui.',
  keyName: 'Nome da chave', keyPermissions: 'Permissões (opcional, separadas por vírgulas; vazio = as do papel)', createKey: 'Criar chave',
  keyCreated: 'Chave {name} criada. Copie-a agora: ela não será mostrada de novo.', revoke: 'Revogar', revokeKey: 'Revogar a chave {name}',
  keyRevoked: 'A chave {name} foi revogada: quem a usa deixa de ter acesso.', createdAt: 'Criada em', revokedAt: 'Revogada em',
  noKeys: 'Nenhuma chave criada.', keyActive: 'Ativa', newKey: 'Nova chave', permissionsOfRole: '(as do papel)',
  confirmRevoke: 'Revogar a chave {name}? Os sistemas que a usam perdem o acesso na hora.', permissions: 'Permissões', secretOnce: 'Chave (mostrada só agora)',
  keyNoMaker: 'sem criador registrado: revise (criada com outra chave; não para quando alguém é desativado)',
});
Object.assign(TEXT.en, {
  integrations: 'Integrations', integrationsIntro: 'API keys for other systems (Authorization: Bearer header on the HTTP API, or the gateway\'s RPC port). A key acts with the role, access level and permissions given here.',
  keyName: 'Key name', keyPermissions: 'Permissions (optional, comma separated; empty = the role\'s)', createKey: 'Create key',
  keyCreated: 'Key {name} created. Copy it now: it will not be shown again.', revoke: 'Revoke', revokeKey: 'Revoke key {name}',
  keyRevoked: 'Key {name} was revoked: whoever uses it loses access.', createdAt: 'Created on', revokedAt: 'Revoked on',
  noKeys: 'No keys yet.', keyActive: 'Active', newKey: 'New key', permissionsOfRole: '(the role\'s)',
  confirmRevoke: 'Revoke key {name}? Systems using it lose access at once.', permissions: 'Permissions', secretOnce: 'Key (shown only now)',
  keyNoMaker: 'no recorded maker: review it (made with another key; it does not stop when someone is disabled)',
});

async function integrationsPage(notice, secret) {
  show(el('p', { text: t('loading') }));
  let keys;
  try { keys = await api('GET', '/v1/api-keys'); } catch (error) { show(el('h1', { text: t('integrations') }), errorBox(error)); return; }
  const status = el('div', { id: 'keys-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  // The new key's secret, once: selectable text in a read-only field.
  if (secret) status.append(el('label', {}, t('secretOnce'), el('input', { id: 'new-key', readonly: true, value: secret, onfocus: (e) => e.target.select() })));
  const rows = (keys.api_keys || []).slice().sort((a, b) => (b.created_at || 0) - (a.created_at || 0)).map((key) => el('tr', { 'data-key': key.id },
    el('td', { text: key.name }), el('td', { text: roleName(key.role) }), el('td', { text: String(key.access_level || 0) }),
    el('td', { text: (key.permissions || []).join(', ') || t('permissionsOfRole') }), el('td', { text: when(key.created_at) }),
    // A key with no recorded maker (made with another key before makers were recorded) is
    // marked for review: GET /v1/api-keys?maker=unknown lists the same.
    el('td', { class: 'key-state', text: key.revoked_at ? `${t('revokedAt')} ${when(key.revoked_at)}`
      : key.created_by ? t('keyActive') : `${t('keyActive')} · ${t('keyNoMaker')}` }),
    el('td', {}, key.revoked_at ? null : el('button', { type: 'button', class: 'link revoke-key', text: t('revoke'),
      'aria-label': tf('revokeKey', { name: key.name }), onclick: async () => {
        if (!confirm(tf('confirmRevoke', { name: key.name }))) return;
        try {
          await api('DELETE', `/v1/api-keys/${encodeURIComponent(key.id)}`);
          integrationsPage(tf('keyRevoked', { name: key.name }));
        } catch (error) { status.replaceChildren(errorBox(error)); }
      } }))));
  const table = rowsTable('api-keys', [t('name'), t('role'), t('accessLevel'), t('permissions'), t('createdAt'), t('state'), t('actions')],
    rows, 'keys-empty', t('noKeys'));
  const form = el('form', { id: 'key-form', 'aria-labelledby': 'key-title' },
    el('label', {}, t('keyName'), el('input', { name: 'name', id: 'key-name', required: true, maxlength: 100, autocomplete: 'off' })),
    el('label', {}, t('role'), el('select', { name: 'role', id: 'key-role' }, STAFF_ROLES.map((role) => el('option', { value: role, text: roleName(role) })))),
    el('label', {}, t('accessLevel'), el('input', { type: 'number', name: 'access_level', id: 'key-level', min: 0, max: 99, value: 0, required: true })),
    el('label', {}, t('keyPermissions'), el('input', { name: 'permissions', id: 'key-permissions', autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'key-submit', text: t('createKey') }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = form.elements;
    const permissions = fields.permissions.value.split(',').map((p) => p.trim()).filter(Boolean);
    const body = { name: fields.name.value.trim(), role: fields.role.value, access_level: Number(fields.access_level.value) };
    if (permissions.length) body.permissions = permissions;
    try {
      const created = await api('POST', '/v1/api-keys', body);
      integrationsPage(tf('keyCreated', { name: body.name }), created.key);
    } catch (error) { formRefused(form, status, error); }
  });
  show(el('h1', { text: t('integrations') }), el('p', { class: 'muted', text: t('integrationsIntro') }), status, table,
    el('h2', { id: 'key-title', text: t('newKey') }), form);
}

addPage({ path: '/integracoes', visible: isAdministrator, nav: { id: 'nav-integrations', text: 'integrations' }, render: () => integrationsPage() });

'use strict';
// The administrators' team page (#/equipe): everyone with a sign-in (the team by default, the
// customers' sign-ins on request), blocking and unblocking a sign-in, and adding a member of the
// team: the sign-in (gateway), and for agents and chefes their record in workflow's directory
// and their group. Loaded after portal.js and built from its helpers (el, api, show, t, tf,
// errorBox, newId); its link and path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  team: 'Equipe', teamIntro: 'Quem entra no portal. Bloquear encerra as sessões da pessoa; reativar permite que ela entre de novo.',
  showWho: 'Mostrar', whoTeam: 'Equipe', whoCustomers: 'Clientes e representantes', whoEveryone: 'Todos',
  groups: 'Grupos', accessLevel: 'Nível de acesso', block: 'Bloquear', unblock: 'Reativar', blocked: 'O acesso de {name} foi bloqueado.',
  unblocked: 'O acesso de {name} foi reativado.', noUsers: 'Ninguém com acesso neste filtro.', addMember: 'Adicionar à equipe',
  initialPassword: 'Senha inicial', noGroupChosen: '(nenhum)', add: 'Adicionar', memberAdded: '{name} foi adicionado à equipe e já pode entrar.',
  agentFailed: 'O acesso de {name} foi criado, mas o cadastro de agente falhou; salve de novo para tentar outra vez.',
  youMarker: '(você)', allLevels: 'todos',
  groupsTitle: 'Grupos', groupsIntro: 'Os grupos recebem as ocorrências pelas regras de roteamento; cada agente vê a fila dos seus grupos.',
  members: 'Membros', noMembers: 'Nenhum membro.', include: 'Incluir', chooseAgent: 'Escolha o agente', removeFrom: 'Remover {name} de {group}',
  newGroup: 'Novo grupo', groupName: 'Nome do grupo', createGroup: 'Criar grupo', groupCreated: 'Grupo {name} criado.',
  memberIncluded: '{name} agora é do grupo {group}.', memberRemoved: '{name} saiu do grupo {group}.',
  routingTitle: 'Roteamento', routingIntro: 'Cada ocorrência nova vai para o grupo da primeira regra (na ordem) cujos campos preenchidos coincidem com os dela; campo vazio vale para qualquer valor.',
  position: 'Ordem', plan: 'Plano', anyValue: '(qualquer)', deleteRule: 'Excluir', deleteRuleOf: 'Excluir a regra {position} ({group})',
  newRule: 'Nova regra', addRule: 'Adicionar regra', ruleAdded: 'Regra adicionada.', ruleDeleted: 'Regra excluída.', noRules: 'Nenhuma regra: as ocorrências novas ficam sem grupo.', accessLevelHint: 'Até que nível de sigilo a pessoa vê (0 = só o público).',
  editMember: 'Alterar', editMemberOf: 'Alterar {name}', editTitle: 'Alterar {name}', chefeOf: 'Chefe (supervisor)', noChefe: '(sem chefe)',
  save: 'Salvar', cancelEdit: 'Cancelar', memberChanged: 'Os dados de {name} foram alterados.', chefeColumn: 'Chefe',
  agentChangeFailed: 'O acesso de {name} foi alterado, mas o cadastro de agente falhou; salve de novo para tentar outra vez.',
  rename: 'Renomear', renameGroup: 'Novo nome de {group}', groupRenamed: 'O grupo agora se chama {name}.',
  deactivateGroup: 'Desativar', reactivateGroup: 'Reativar', deactivateGroupOf: 'Desativar o grupo {group}', reactivateGroupOf: 'Reativar o grupo {group}',
  groupDeactivated: 'O grupo {name} foi desativado: não recebe mais ocorrências nem aparece nas escolhas.', groupReactivated: 'O grupo {name} foi reativado.',
  groupInactive: '(desativado)', groupState: 'Situação',
  roles: Object.assign(TEXT['pt-BR'].roles || {}, { administrator: 'Administrador', knowledge_editor: 'Editor da base de conhecimento' }),
});
Object.assign(TEXT.en, {
  team: 'Team', teamIntro: 'Who signs in to the portal. Blocking ends the person\'s sessions; reactivating lets them sign in again.',
  showWho: 'Show', whoTeam: 'Team', whoCustomers: 'Customers and representatives', whoEveryone: 'Everyone',
  groups: 'Groups', accessLevel: 'Access level', block: 'Block', unblock: 'Reactivate', blocked: '{name}\'s sign-in was blocked.',
  unblocked: '{name}\'s sign-in was reactivated.', noUsers: 'Nobody with a sign-in in this filter.', addMember: 'Add to the team',
  initialPassword: 'Initial password', noGroupChosen: '(none)', add: 'Add', memberAdded: '{name} joined the team and can sign in now.',
  agentFailed: '{name}\'s sign-in was created, but their agent record failed; save again to retry.',
  youMarker: '(you)', allLevels: 'all',
  groupsTitle: 'Groups', groupsIntro: 'Groups receive tickets by the routing rules; each agent sees their groups\' queue.',
  members: 'Members', noMembers: 'No members.', include: 'Add', chooseAgent: 'Choose the agent', removeFrom: 'Remove {name} from {group}',
  newGroup: 'New group', groupName: 'Group name', createGroup: 'Create group', groupCreated: 'Group {name} created.',
  memberIncluded: '{name} is now in group {group}.', memberRemoved: '{name} left group {group}.',
  routingTitle: 'Routing', routingIntro: 'Each new ticket goes to the group of the first rule (in order) whose filled-in fields match it; an empty field matches any value.',
  position: 'Order', plan: 'Plan', anyValue: '(any)', deleteRule: 'Delete', deleteRuleOf: 'Delete rule {position} ({group})',
  newRule: 'New rule', addRule: 'Add rule', ruleAdded: 'Rule added.', ruleDeleted: 'Rule deleted.', noRules: 'No rules: new tickets get no group.', accessLevelHint: 'Up to which confidentiality level the person sees (0 = public only).',
  editMember: 'Change', editMemberOf: 'Change {name}', editTitle: 'Change {name}', chefeOf: 'Supervisor', noChefe: '(no supervisor)',
  save: 'Save', cancelEdit: 'Cancel', memberChanged: '{name}\'s details were changed.', chefeColumn: 'Supervisor',
  agentChangeFailed: '{name}\'s sign-in was changed, but their agent record failed; save again to retry.',
  rename: 'Rename', renameGroup: 'New name for {group}', groupRenamed: 'The group is now called {name}.',
  deactivateGroup: 'Deactivate', reactivateGroup: 'Reactivate', deactivateGroupOf: 'Deactivate group {group}', reactivateGroupOf: 'Reactivate group {group}',
  groupDeactivated: 'Group {name} was deactivated: it gets no new tickets and is no longer offered.', groupReactivated: 'Group {name} was reactivated.',
  groupInactive: '(inactive)', groupState: 'State',
  roles: Object.assign(TEXT.en.roles || {}, { administrator: 'Administrator', knowledge_editor: 'Knowledge editor' }),
});

const STAFF_ROLES = ['agent', 'chefe', 'knowledge_editor', 'administrator'];
// Roles that work tickets: their sign-in names an agent of workflow's directory.
const AGENT_ROLES = ['agent', 'chefe'];
const isAdministrator = () => !isCustomer() && !!(me && me.principal && me.principal.administrator);

async function teamPage(who, notice) {
  show(el('p', { text: t('loading') }));
  let users, agents, groups, routing;
  try {
    [users, agents, groups, routing] = await Promise.all([api('GET', '/v1/users'), api('GET', '/v1/agents?include_inactive=true'),
      api('GET', '/v1/groups?include_inactive=true'), api('GET', '/v1/routing-rules')]);
  } catch (error) { show(el('h1', { text: t('team') }), errorBox(error)); return; }
  const allGroups = groups.groups || [];
  // New members, rules and memberships go to active groups only.
  const activeGroups = allGroups.filter((group) => group.active);
  const groupNames = Object.fromEntries(allGroups.map((group) => [group.id, group.name]));
  const agentsById = Object.fromEntries((agents.agents || []).map((agent) => [agent.id, agent]));
  const agentGroups = {};
  for (const agent of agents.agents || []) agentGroups[agent.id] = (agent.group_ids || []).map((id) => groupNames[id] || id);
  const status = el('div', { id: 'team-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const change = changer(status, who);
  // The form changing one member, drawn here when the member's "Alterar" is pressed.
  const editSlot = el('div', { id: 'member-edit' });
  const shown = (users.users || []).filter((user) => who === 'todos' || (who === 'clientes') !== STAFF_ROLES.includes(user.role))
    .sort((a, b) => (a.display_name || a.email).localeCompare(b.display_name || b.email, 'pt-BR'));
  const rows = shown.map((user) => {
    const actions = el('td', { class: 'actions' });
    const name = user.display_name || user.email;
    // Not one's own sign-in (the gateway refuses it too: it would lock the administrator out).
    const own = !!me.user && user.id === me.user.id;
    if (STAFF_ROLES.includes(user.role)) {
      actions.append(el('button', { type: 'button', class: 'link edit-member', 'aria-label': tf('editMemberOf', { name }), text: t('editMember'),
        onclick: () => {
          editSlot.replaceChildren(el('h2', { id: 'edit-title', text: tf('editTitle', { name }) }),
            memberEditForm(user, agentsById[user.agent_id], agents.agents || [], own, status, who, () => editSlot.replaceChildren()));
          editSlot.querySelector('input').focus();
        } }), ' ');
    }
    // A pending invitation (no password chosen yet) can be sent again: a new link, the old one spent.
    const resend = resendButton(user, name, change);
    if (resend) actions.append(resend, ' ');
    if (!own) {
      const blocking = user.status !== 'disabled';
      actions.append(el('button', { type: 'button', class: 'link toggle-access', 'aria-label': `${t(blocking ? 'block' : 'unblock')} ${name}`,
        text: t(blocking ? 'block' : 'unblock'),
        onclick: () => change(() => api('POST', `/v1/users/${encodeURIComponent(user.id)}/${blocking ? 'disable' : 'enable'}`),
          tf(blocking ? 'blocked' : 'unblocked', { name })) }));
    }
    return el('tr', { 'data-user': user.id, 'data-email': user.email },
      el('td', { text: own ? `${name} ${t('youMarker')}` : name }), el('td', { text: user.email }),
      el('td', { text: roleName(user.role) }), el('td', { class: 'groups', text: (agentGroups[user.agent_id] || []).join(', ') }),
      el('td', { class: 'chefe', text: ((agentsById[(agentsById[user.agent_id] || {}).chefe_agent_id] || {}).name) || '' }),
      el('td', { text: (user.access_level || 0) >= 2147483647 ? t('allLevels') : String(user.access_level || 0) }), el('td', { class: 'access', text: signInText(user) }), actions);
  });
  const filter = el('label', {}, t('showWho'), el('select', { id: 'team-filter', onchange: (event) => { location.hash = `#/equipe?quem=${event.target.value}`; } },
    [['equipe', 'whoTeam'], ['clientes', 'whoCustomers'], ['todos', 'whoEveryone']]
      .map(([value, text]) => el('option', { value, text: t(text), selected: value === who }))));
  const table = rowsTable('team', [t('name'), t('email'), t('role'), t('groups'), t('chefeColumn'), t('accessLevel'), t('access'), t('actions')],
    rows, 'team-empty', t('noUsers'));
  show(el('h1', { text: t('team') }), el('p', { class: 'muted', text: t('teamIntro') }), filter, status, editSlot, table,
    el('h2', { id: 'member-title', text: t('addMember') }), memberForm(activeGroups, status, who),
    ...groupsSection(allGroups, agents.agents || [], change), ...routingSection(routing.rules || [], activeGroups, groupNames, change));
}

// Workflow's routing rules in their order, each deleted with a button, and a form adding one.
function routingSection(rules, groups, groupNames, change) {
  // Enumerations come by name, the unset value too (CATEGORY_UNSPECIFIED): any value.
  const any = t('anyValue');
  const rows = rules.map((rule) => el('tr', { 'data-rule': rule.id },
    el('td', { text: String(rule.position || 0) }), el('td', { text: rule.plan || any }), el('td', { text: rule.product || any }),
    el('td', { text: rule.module || any }), el('td', { text: CATEGORIES[rule.category] ? label(CATEGORIES, rule.category) : any }),
    el('td', { text: PRIORITIES[rule.priority] ? label(PRIORITIES, rule.priority) : any }), el('td', { text: groupNames[rule.group_id] || rule.group_id }),
    el('td', {}, el('button', { type: 'button', class: 'link delete-rule', text: t('deleteRule'),
      'aria-label': tf('deleteRuleOf', { position: rule.position || 0, group: groupNames[rule.group_id] || rule.group_id }),
      onclick: () => change(() => api('DELETE', `/v1/routing-rules/${encodeURIComponent(rule.id)}`), t('ruleDeleted')) }))));
  const table = rowsTable('routing', [t('position'), t('plan'), t('product'), t('module'), t('category'), t('priority'), t('group'), t('actions')],
    rows, 'routing-empty', t('noRules'));
  const choice = (name, table) => el('select', { name, id: `rule-${name}` },
    [el('option', { value: '', text: any })].concat(Object.keys(table).map((key) => el('option', { value: key, text: label(table, key) }))));
  const text = (name, labelKey) => el('label', {}, t(labelKey), el('input', { name, id: `rule-${name}`, maxlength: 120, autocomplete: 'off' }));
  const next = rules.reduce((most, rule) => Math.max(most, rule.position || 0), 0) + 10;
  const form = el('form', { id: 'rule-form', 'aria-labelledby': 'rule-title' },
    el('label', {}, t('position'), el('input', { type: 'number', name: 'position', id: 'rule-position', min: 0, value: next, required: true })),
    text('plan', 'plan'), text('product', 'product'), text('module', 'module'),
    el('label', {}, t('category'), choice('category', CATEGORIES)), el('label', {}, t('priority'), choice('priority', PRIORITIES)),
    el('label', {}, t('group'), el('select', { name: 'group_id', id: 'rule-group', required: true },
      groups.map((group) => el('option', { value: group.id, text: group.name })))),
    el('button', { type: 'submit', id: 'rule-submit', text: t('addRule') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = form.elements;
    const rule = { position: Number(fields.position.value), group_id: fields.group_id.value };
    for (const name of ['plan', 'product', 'module', 'category', 'priority']) if (fields[name].value.trim()) rule[name] = fields[name].value.trim();
    change(() => api('POST', '/v1/routing-rules', { rule }), t('ruleAdded'), form);
  });
  return [el('h2', { id: 'routing-title', text: t('routingTitle') }), el('p', { class: 'muted', text: t('routingIntro') }), table,
    el('h3', { id: 'rule-title', text: t('newRule') }), form];
}

// Writes workflow's group with `changes` (name, active) over what it was; members stay.
const putGroup = (group, changes) => api('POST', '/v1/groups', { group: Object.assign({ id: group.id, name: group.name, active: group.active }, changes) });

// Puts an agent in workflow's group (`member`), or takes them out.
const setMembership = (groupId, agentId, member) => api('POST', `/v1/groups/${encodeURIComponent(groupId)}/members`, { agent_id: agentId, member });

// Runs a change, then draws the page again with `done` as its notice (or the error in `status`).
const changer = (status, who) => changeThen(status, (notice) => teamPage(who, notice));

// Workflow's groups: their members (removed one by one, added from the active agents not in
// the group) and a form creating a group. Each change redraws the page with what was done.
function groupsSection(groups, agents, change) {
  const agentNames = Object.fromEntries(agents.map((agent) => [agent.id, agent.name || agent.id]));
  const rows = groups.map((group) => {
    const members = (group.agent_ids || []).map((id) => el('li', {}, agentNames[id] || id, ' ',
      el('button', { type: 'button', class: 'link remove-member', 'aria-label': tf('removeFrom', { name: agentNames[id] || id, group: group.name }),
        text: '×', onclick: () => change(() => setMembership(group.id, id, false), tf('memberRemoved', { name: agentNames[id] || id, group: group.name })) })));
    const candidates = agents.filter((agent) => agent.active && !(group.agent_ids || []).includes(agent.id));
    const picker = el('select', { 'aria-label': `${t('chooseAgent')} (${group.name})`, class: 'member-picker' },
      [el('option', { value: '', text: t('chooseAgent') })].concat(candidates.map((agent) => el('option', { value: agent.id, text: agent.name || agent.id }))));
    const include = el('form', { class: 'row include-member' }, picker, el('button', { type: 'submit', class: 'secondary', text: t('include') }));
    include.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!picker.value) return;
      const name = agentNames[picker.value] || picker.value;
      change(() => setMembership(group.id, picker.value, true), tf('memberIncluded', { name, group: group.name }));
    });
    const newName = el('input', { 'aria-label': tf('renameGroup', { group: group.name }), class: 'group-rename', value: group.name,
      required: true, maxlength: 120, autocomplete: 'off' });
    const rename = el('form', { class: 'row rename-group' }, newName, el('button', { type: 'submit', class: 'secondary', text: t('rename') }));
    rename.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = newName.value.trim();
      if (!name || name === group.name) return;
      change(() => putGroup(group, { name }), tf('groupRenamed', { name }));
    });
    const toggle = el('button', { type: 'button', class: 'link toggle-group', text: t(group.active ? 'deactivateGroup' : 'reactivateGroup'),
      'aria-label': tf(group.active ? 'deactivateGroupOf' : 'reactivateGroupOf', { group: group.name }),
      onclick: () => change(() => putGroup(group, { active: !group.active }), tf(group.active ? 'groupDeactivated' : 'groupReactivated', { name: group.name })) });
    return el('tr', { 'data-group': group.id, class: group.active ? null : 'inactive' },
      el('th', { scope: 'row', text: group.active ? group.name : `${group.name} ${t('groupInactive')}` }),
      el('td', {}, members.length ? el('ul', { class: 'members' }, members) : el('span', { class: 'muted', text: t('noMembers') })),
      el('td', {}, candidates.length && group.active ? include : null), el('td', {}, rename, toggle));
  });
  const table = el('table', { id: 'groups' }, el('thead', {}, el('tr', {},
    [t('group'), t('members'), t('include'), t('actions')].map((h) => el('th', { scope: 'col', text: h })))), el('tbody', {}, rows));
  const create = el('form', { id: 'group-form', 'aria-labelledby': 'group-title' },
    el('label', {}, t('groupName'), el('input', { name: 'name', id: 'group-name', required: true, maxlength: 120, autocomplete: 'off' })),
    el('button', { type: 'submit', id: 'group-submit', text: t('createGroup') }));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = create.elements.name.value.trim();
    if (!name) return;
    // A readable id from the name (accents and punctuation dropped), unique with a short suffix.
    const id = `${keyFromName(name, '-', 40) || 'grupo'}-${newId().slice(0, 6)}`;
    change(() => api('POST', '/v1/groups', { group: { id, name, active: true } }), tf('groupCreated', { name }), create);
  });
  return [el('h2', { id: 'groups-title', text: t('groupsTitle') }), el('p', { class: 'muted', text: t('groupsIntro') }), table,
    el('h3', { id: 'group-title', text: t('newGroup') }), create];
}

// The form adding a member of the team. The sign-in is created first: the gateway checks the
// password policy and that the e-mail is free before anything is written anywhere. An agent's
// record in workflow (and its group) follows; if that fails the sign-in exists, and saving again
// retries the agent part alone with the same agent id.
function memberForm(groups, status, who) {
  let created = null; // { email, agentId } of a sign-in whose agent record is still to be written
  const form = el('form', { id: 'member-form', 'aria-labelledby': 'member-title' },
    el('label', {}, t('name'), el('input', { name: 'display_name', id: 'member-name', required: true, maxlength: 200, autocomplete: 'off' })),
    el('label', {}, t('email'), el('input', { type: 'email', name: 'email', id: 'member-email', required: true, maxlength: 254, autocomplete: 'off' })),
    el('label', {}, t('role'), el('select', { name: 'role', id: 'member-role' },
      STAFF_ROLES.map((role) => el('option', { value: role, text: roleName(role) })))),
    el('label', {}, t('accessLevel'), el('input', { type: 'number', name: 'access_level', id: 'member-level', min: 0, max: 99, value: 0,
      required: true, 'aria-describedby': 'member-level-hint' })),
    el('p', { class: 'muted', id: 'member-level-hint', text: t('accessLevelHint') }),
    el('label', {}, t('group'), el('select', { name: 'group', id: 'member-group' },
      [el('option', { value: '', text: t('noGroupChosen') })].concat(groups.map((g) => el('option', { value: g.id, text: g.name }))))),
    el('label', {}, t('initialPassword'), el('input', { type: 'password', name: 'password', id: 'member-password', required: true,
      minlength: 12, autocomplete: 'new-password', 'aria-describedby': 'member-password-rules' })),
    el('p', { class: 'muted', id: 'member-password-rules', text: t('passwordRules') }),
    el('button', { type: 'submit', id: 'member-submit', text: t('add') }));
  const submit = form.querySelector('button[type=submit]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try { await addMember(); } finally { submit.disabled = false; }
  });
  async function addMember() {
    const fields = form.elements;
    const name = fields.display_name.value.trim(), email = fields.email.value.trim(), role = fields.role.value;
    const level = Number(fields.access_level.value);
    const works = AGENT_ROLES.includes(role);
    const agentId = created && created.email === email ? created.agentId : (works ? 'A-' + newId().slice(0, 16) : '');
    try {
      if (!created || created.email !== email) {
        await api('POST', '/v1/users', { email, display_name: name, role, password: fields.password.value, access_level: level,
          agent_id: agentId || undefined }, { idempotencyKey: newId() });
        created = { email, agentId };
      }
    } catch (error) {
      // The fields named by their labels on this form and marked; the refusal in view (announce).
      formRefused(form, status, error);
      announce(status, ...status.childNodes);
      return;
    }
    try {
      if (works) {
        await api('POST', '/v1/agents', { agent: { id: agentId, name, email, max_access_level: level, active: true, is_chefe: role === 'chefe' } });
        if (fields.group.value) await setMembership(fields.group.value, agentId, true);
      }
    } catch (error) {
      announce(status, el('p', { class: 'error', role: 'alert', text: tf('agentFailed', { name }) }), errorBox(error));
      return;
    }
    teamPage(who, tf('memberAdded', { name }));
  }
  return form;
}

// The form changing a member of the team: name, role and access level on the sign-in (gateway),
// then, for whoever has an agent record in workflow or now works tickets, that record: name,
// level, chefe and whether they are one. A failure after the sign-in changed is shown, and
// saving again writes both again (each write replaces the whole record, so repeating is safe).
// The name starts as the agent's (the one tickets show) and is saved on both.
function memberEditForm(user, agent, agents, own, status, who, close) {
  const chefes = agents.filter((other) => other.is_chefe && other.active && other.id !== user.agent_id);
  const level = (user.access_level || 0) >= 2147483647 ? 2147483647 : (user.access_level || 0);
  const form = el('form', { id: 'member-edit-form', 'aria-labelledby': 'edit-title', 'data-user': user.id },
    el('label', {}, t('name'), el('input', { name: 'display_name', id: 'edit-name', required: true, maxlength: 200,
      value: (agent && agent.name) || user.display_name || '', autocomplete: 'off' })),
    el('label', {}, t('role'), el('select', { name: 'role', id: 'edit-role', disabled: own && user.role === 'administrator' },
      STAFF_ROLES.map((role) => el('option', { value: role, text: roleName(role), selected: role === user.role })))),
    el('label', {}, t('accessLevel'), el('input', { type: 'number', name: 'access_level', id: 'edit-level', min: 0, max: 2147483647, value: level,
      required: true, 'aria-describedby': 'edit-level-hint' })),
    el('p', { class: 'muted', id: 'edit-level-hint', text: t('accessLevelHint') }),
    el('label', {}, t('chefeOf'), el('select', { name: 'chefe', id: 'edit-chefe' },
      [el('option', { value: '', text: t('noChefe') })].concat(chefes.map((chefe) =>
        el('option', { value: chefe.id, text: chefe.name || chefe.id, selected: !!agent && agent.chefe_agent_id === chefe.id }))))),
    el('div', { class: 'row' }, el('button', { type: 'submit', id: 'edit-submit', text: t('save') }),
      el('button', { type: 'button', class: 'secondary', text: t('cancelEdit'), onclick: close })));
  // An agent id chosen once, so a retried save writes the same agent record.
  const agentId = user.agent_id || 'A-' + newId().slice(0, 16);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = form.elements;
    const name = fields.display_name.value.trim(), role = fields.role.value, accessLevel = Number(fields.access_level.value);
    const works = AGENT_ROLES.includes(role);
    try {
      await api('POST', `/v1/users/${encodeURIComponent(user.id)}`, { display_name: name, role, access_level: accessLevel,
        agent_id: works && !user.agent_id ? agentId : undefined });
    } catch (error) { status.replaceChildren(errorBox(error)); return; }
    try {
      if (agent || works) {
        const record = Object.assign({ id: agentId, email: user.email }, agent || {}, { active: agent ? !!agent.active : true,
          name, max_access_level: accessLevel, is_chefe: role === 'chefe', chefe_agent_id: fields.chefe.value });
        // Read-only parts of workflow's answer are not written back.
        delete record.group_ids; delete record.permissions; delete record.transfer_destinations;
        await api('POST', '/v1/agents', { agent: record });
      }
    } catch (error) {
      status.replaceChildren(el('p', { class: 'error', role: 'alert', text: tf('agentChangeFailed', { name }) }), errorBox(error));
      return;
    }
    teamPage(who, tf('memberChanged', { name }));
  });
  return form;
}

addPage({
  path: '/equipe', visible: isAdministrator, nav: { id: 'nav-team', text: 'team' },
  render: (rest) => teamPage(new URLSearchParams(rest.split('?')[1] || '').get('quem') || 'equipe'),
});

'use strict';
// The roles and access page (#/perfis), for administrators: what workflow's directory keeps
// beyond the team page. The roles of the directory and their permissions (each explained), who
// holds each role; per agent, their role and where they may transfer (repasse) tickets, with
// workflow's default explained; and the access (confidentiality) level each ticket category
// starts at. Workflow checks every save and refuses it whole (an unknown permission, the
// administrator's name, a role still held, an agent or group not in the directory, a negative
// level): its reasons show beside the form and nothing is stored.
// Loaded after portal.js and team.js and built from their helpers (el, api, show, t, tf, label,
// errorBox, rowsTable, changeThen, CATEGORIES, isAdministrator); its link and path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  acc_nav: 'Perfis e acessos', acc_title: 'Perfis e acessos',
  acc_intro: 'Papéis com permissões do workflow, destinos de repasse de cada agente e o sigilo inicial de cada categoria. Administradores já têm todas as permissões e repassam a qualquer um; quem é administrador se define na página Equipe.',
  acc_roles: 'Papéis e permissões', acc_rolesIntro: 'Um papel reúne permissões do workflow; o agente que tem o papel ganha essas permissões. Um papel em uso não é excluído.',
  acc_permissions: 'Permissões', acc_holders: 'Quem tem', acc_nobody: 'ninguém', acc_noPermissions: 'nenhuma permissão', acc_noRoles: 'Nenhum papel cadastrado.',
  acc_inactive: '(inativo)', acc_edit: 'Editar', acc_editOf: 'Editar o papel {name}', acc_delete: 'Excluir', acc_deleteOf: 'Excluir o papel {name}',
  acc_confirmDelete: 'Excluir o papel {name}?', acc_roleDeleted: 'Papel {name} excluído.', acc_roleSaved: 'Papel {name} salvo.',
  acc_newRole: 'Novo papel', acc_editRole: 'Editar o papel {name}', acc_roleName: 'Nome do papel', acc_roleNameHint: 'Um nome curto, por exemplo triagem ou produto. Não pode ser o do administrador.',
  acc_saveRole: 'Salvar papel', acc_cancelEdit: 'Cancelar edição', acc_roleExists: 'Já existe um papel {name}: use Editar na lista.',
  acc_flowPermission: 'Exigida por um movimento de um fluxo de etapas configurado.', acc_aliasPermission: 'O mesmo que tickets.link_customer (outra grafia aceita).',
  acc_permissionText: {
    'directory.manage': 'Administrar o cadastro da equipe no workflow: agentes, grupos e membros, papéis e destinos de repasse. Quem tem pode dar a si mesmo qualquer permissão.',
    'routing.manage': 'Regras de roteamento das ocorrências novas, sigilo inicial por categoria e sequências de passos.',
    'product.decide': 'Aceitar ou negar em Análise produto, mesmo sem ser o responsável; versões e backlog de desenvolvimento.',
    'tickets.transfer_any': 'Repassar ocorrências a qualquer agente ou grupo, além dos destinos de repasse.',
    'tickets.act_any': 'Agir em ocorrências sem responsável de qualquer grupo e nas que estão com outro agente.',
    'tickets.link_customer': 'Trocar o contato ou o representante de uma ocorrência que está com a pessoa (ou com um subordinado, se chefe).',
  },
  acc_agents: 'Agentes: papel e destinos de repasse',
  acc_agentsIntro: 'Por padrão, um agente repassa para os grupos dos quais é membro e para os membros desses grupos. Os destinos listados aqui somam-se a isso (um grupo listado inclui os membros dele; * vale qualquer um). Quem tem a permissão tickets.transfer_any repassa a qualquer um. Sem destinos marcados, vale o padrão.',
  acc_agent: 'Agente', acc_role: 'Papel', acc_noRole: '(sem papel)', acc_reach: 'Repassa para', acc_byDefault: 'padrão: {list}', acc_defaultNone: 'padrão: ninguém (não está em grupo)',
  acc_listed: 'listados: {list}', acc_anyone: 'qualquer agente ou grupo ({why})', acc_anyAgent: 'qualquer agente (*)', acc_anyGroup: 'qualquer grupo (*)',
  acc_administrator: 'administrador', acc_change: 'Alterar', acc_changeOf: 'Alterar {name}', acc_agentTitle: 'Papel e destinos de {name}',
  acc_destinations: 'Destinos de repasse além do padrão', acc_destGroups: 'Grupos', acc_destAgents: 'Agentes', acc_saveAgent: 'Salvar',
  acc_agentSaved: 'Papel e destinos de {name} salvos.', acc_noAgents: 'Nenhum agente ativo no workflow.', acc_groupMembers: '{group} e membros',
  acc_levels: 'Sigilo por categoria', acc_levelsIntro: 'O nível de sigilo com que cada ocorrência nova da categoria começa. Um agente vê as ocorrências até o seu nível máximo (0 = toda a equipe vê). As já abertas mantêm o nível delas; um chefe o muda na ocorrência.',
  acc_level: 'Nível inicial', acc_levelOf: 'Nível inicial de {category}', acc_seenBy: 'Agentes que veem', acc_seenByValue: '{count} de {total}', acc_default: '(padrão)',
  acc_saveLevel: 'Salvar', acc_saveLevelOf: 'Salvar o nível de {category}', acc_levelSaved: 'Ocorrências novas de {category} começam no nível {level}.',
});
Object.assign(TEXT.en, {
  acc_nav: 'Roles and access', acc_title: 'Roles and access',
  acc_intro: 'Roles with workflow\'s permissions, each agent\'s transfer destinations and the confidentiality level each category starts at. Administrators already hold every permission and transfer to anyone; who is one is set on the Team page.',
  acc_roles: 'Roles and permissions', acc_rolesIntro: 'A role gathers workflow permissions; an agent with the role gets them. A role in use is not deleted.',
  acc_permissions: 'Permissions', acc_holders: 'Held by', acc_nobody: 'nobody', acc_noPermissions: 'no permission', acc_noRoles: 'No roles yet.',
  acc_inactive: '(inactive)', acc_edit: 'Edit', acc_editOf: 'Edit role {name}', acc_delete: 'Delete', acc_deleteOf: 'Delete role {name}',
  acc_confirmDelete: 'Delete role {name}?', acc_roleDeleted: 'Role {name} deleted.', acc_roleSaved: 'Role {name} saved.',
  acc_newRole: 'New role', acc_editRole: 'Edit role {name}', acc_roleName: 'Role name', acc_roleNameHint: 'A short name, for example triage or product. It cannot be the administrator\'s.',
  acc_saveRole: 'Save role', acc_cancelEdit: 'Cancel editing', acc_roleExists: 'A role {name} already exists: use Edit in the list.',
  acc_flowPermission: 'Required by a move of a configured stage flow.', acc_aliasPermission: 'The same as tickets.link_customer (another accepted spelling).',
  acc_permissionText: {
    'directory.manage': 'Manage the team in workflow\'s directory: agents, groups and members, roles and transfer destinations. Whoever has it can give themselves any permission.',
    'routing.manage': 'Routing rules for new tickets, each category\'s starting confidentiality level and step sequences.',
    'product.decide': 'Accept or deny in Product analysis, even without holding the ticket; versions and the development backlog.',
    'tickets.transfer_any': 'Transfer tickets to any agent or group, beyond the transfer destinations.',
    'tickets.act_any': 'Act on unheld tickets of any group and on tickets held by another agent.',
    'tickets.link_customer': 'Change the contact or representative of a ticket the person holds (or a subordinate holds, for a supervisor).',
  },
  acc_agents: 'Agents: role and transfer destinations',
  acc_agentsIntro: 'By default an agent transfers to the groups they are a member of and to those groups\' members. The destinations listed here add to that (a listed group includes its members; * is anyone). Holders of the tickets.transfer_any permission transfer to anyone. With no destination ticked, the default applies.',
  acc_agent: 'Agent', acc_role: 'Role', acc_noRole: '(no role)', acc_reach: 'Transfers to', acc_byDefault: 'default: {list}', acc_defaultNone: 'default: nobody (in no group)',
  acc_listed: 'listed: {list}', acc_anyone: 'any agent or group ({why})', acc_anyAgent: 'any agent (*)', acc_anyGroup: 'any group (*)',
  acc_administrator: 'administrator', acc_change: 'Change', acc_changeOf: 'Change {name}', acc_agentTitle: '{name}\'s role and destinations',
  acc_destinations: 'Transfer destinations beyond the default', acc_destGroups: 'Groups', acc_destAgents: 'Agents', acc_saveAgent: 'Save',
  acc_agentSaved: '{name}\'s role and destinations saved.', acc_noAgents: 'No active agent in workflow.', acc_groupMembers: '{group} and members',
  acc_levels: 'Confidentiality per category', acc_levelsIntro: 'The confidentiality level each new ticket of the category starts at. An agent sees tickets up to their maximum level (0 = the whole team sees them). Tickets already open keep their level; a supervisor changes it on the ticket.',
  acc_level: 'Starting level', acc_levelOf: 'Starting level of {category}', acc_seenBy: 'Agents who see them', acc_seenByValue: '{count} of {total}', acc_default: '(default)',
  acc_saveLevel: 'Save', acc_saveLevelOf: 'Save the level of {category}', acc_levelSaved: 'New {category} tickets start at level {level}.',
});

// The spellings of tickets.link_customer workflow also accepts.
const ACC_LINK_ALIASES = ['tickets.link_customers', 'link_customers'];

// What a permission lets its holder do, in the page's language.
function accPermissionText(permission) {
  const known = t('acc_permissionText')[permission];
  if (known) return known;
  return ACC_LINK_ALIASES.includes(permission) ? t('acc_aliasPermission') : t('acc_flowPermission');
}

// An id made of a permission's name (dots and other punctuation as '-').
const accPermissionId = (permission) => `acc-perm-${permission.replace(/[^a-z0-9_]+/gi, '-')}`;

async function accRender(notice) {
  show(el('h1', { text: t('acc_title') }), el('p', { text: t('loading') }));
  let roles, agents, groups, levels, users;
  try {
    [roles, agents, groups, levels, users] = await Promise.all([api('GET', '/v1/roles'), api('GET', '/v1/agents?include_inactive=true'),
      api('GET', '/v1/groups?include_inactive=true'), api('GET', '/v1/category-access-levels'), api('GET', '/v1/users')]);
  } catch (error) { show(el('h1', { text: t('acc_title') }), errorBox(error)); return; }
  const state = {
    roles: roles.roles || [], known: roles.known_permissions || [], agents: agents.agents || [], groups: groups.groups || [],
    levels: levels.levels || [],
    // Agents whose sign-in is an administrator's: workflow lets them transfer anywhere.
    administrators: new Set((users.users || []).filter((user) => user.role === 'administrator' && user.agent_id).map((user) => user.agent_id)),
  };
  state.agentName = (id) => ((state.agents.find((agent) => agent.id === id) || {}).name) || id;
  state.groupName = (id) => ((state.groups.find((group) => group.id === id) || {}).name) || id;
  const status = el('div', { id: 'acc-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const change = changeThen(status, accRender);
  show(el('h1', { text: t('acc_title') }), el('p', { class: 'muted', text: t('acc_intro') }), status,
    ...accRolesSection(state, change), ...accAgentsSection(state), ...accLevelsSection(state));
}

// ---------------------------------------------------------------- roles

// The roles with their permissions and holders (edited or deleted from the list), and the form
// creating or editing one.
function accRolesSection(state, change) {
  const listStatus = el('div', { id: 'acc-roles-status', role: 'status' });
  const formSlot = el('div', { id: 'acc-role-slot' });
  const drawForm = (role) => {
    formSlot.replaceChildren(...accRoleForm(state, role, () => drawForm(null)));
    if (role) formSlot.querySelector('input[type=checkbox]')?.focus();
  };
  const rows = state.roles.map((role) => {
    const holders = state.agents.filter((agent) => agent.role === role.name)
      .map((agent) => (agent.active ? agent.name || agent.id : `${agent.name || agent.id} ${t('acc_inactive')}`));
    const permissions = role.permissions || [];
    return el('tr', { 'data-role': role.name },
      el('th', { scope: 'row', text: role.name }),
      el('td', { class: 'acc-permissions' }, permissions.length
        ? el('ul', {}, permissions.map((permission) => el('li', { title: accPermissionText(permission) }, el('code', { text: permission }))))
        : el('span', { class: 'muted', text: t('acc_noPermissions') })),
      el('td', { class: 'acc-holders', text: holders.length ? holders.join(', ') : t('acc_nobody') }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'link acc-edit-role', text: t('acc_edit'), 'aria-label': tf('acc_editOf', { name: role.name }),
          onclick: () => drawForm(role) }), ' ',
        el('button', { type: 'button', class: 'link acc-delete-role', text: t('acc_delete'), 'aria-label': tf('acc_deleteOf', { name: role.name }),
          onclick: () => {
            if (!confirm(tf('acc_confirmDelete', { name: role.name }))) return;
            changeThen(listStatus, accRender)(() => api('DELETE', `/v1/roles/${encodeURIComponent(role.name)}`), tf('acc_roleDeleted', { name: role.name }));
          } })));
  });
  drawForm(null);
  return [el('h2', { id: 'acc-roles-title', text: t('acc_roles') }), el('p', { class: 'muted', text: t('acc_rolesIntro') }), listStatus,
    rowsTable('acc-roles', [t('acc_role'), t('acc_permissions'), t('acc_holders'), t('actions')], rows, 'acc-roles-empty', t('acc_noRoles')), formSlot];
}

// The form of a new role (`role` null) or of `role`: its name, and one checkbox per permission
// workflow knows (its own, then those its flows require), each with what it allows.
function accRoleForm(state, role, reset) {
  const status = el('div', { id: 'acc-role-status', role: 'status' });
  const held = new Set(role ? role.permissions || [] : []);
  // Workflow's permissions, and any other the role holds (an accepted spelling), so saving keeps it.
  const offered = state.known.concat(Array.from(held).filter((permission) => !state.known.includes(permission)));
  const boxes = offered.map((permission) => {
    const id = accPermissionId(permission);
    return el('div', { class: 'acc-permission' },
      el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'permission', value: permission, id, checked: held.has(permission),
        'aria-describedby': `${id}-text` }), el('code', { text: permission })),
      el('p', { class: 'muted', id: `${id}-text`, text: accPermissionText(permission) }));
  });
  const title = role ? tf('acc_editRole', { name: role.name }) : t('acc_newRole');
  const form = el('form', { id: 'acc-role-form', 'aria-labelledby': 'acc-role-title', 'data-role': role ? role.name : null },
    el('label', {}, t('acc_roleName'), el('input', { name: 'name', id: 'acc-role-name', required: true, maxlength: 64, autocomplete: 'off',
      value: role ? role.name : '', readonly: !!role, 'aria-describedby': 'acc-role-name-hint' })),
    el('p', { class: 'muted', id: 'acc-role-name-hint', text: t('acc_roleNameHint') }),
    el('fieldset', { id: 'acc-role-permissions' }, el('legend', { text: t('acc_permissions') }), boxes),
    el('div', { class: 'row' }, el('button', { type: 'submit', id: 'acc-role-submit', text: t('acc_saveRole') }),
      role ? el('button', { type: 'button', class: 'secondary', id: 'acc-role-cancel', text: t('acc_cancelEdit'), onclick: reset }) : null),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    // PutRole replaces a role of the same name: a new role never overwrites one by accident.
    if (!role && state.roles.some((other) => other.name === name)) {
      status.replaceChildren(errorBox(new Error(tf('acc_roleExists', { name }))));
      return;
    }
    const permissions = Array.from(form.querySelectorAll('input[name=permission]:checked'), (box) => box.value);
    changeThen(status, accRender)(() => api('POST', '/v1/roles', { role: { name, permissions } }), tf('acc_roleSaved', { name }), form);
  });
  return [el('h3', { id: 'acc-role-title', text: title }), form];
}

// ---------------------------------------------------------------- agents: role and transfer destinations

// Where `agent` may transfer, as workflow's rule has it (StaffDirectory.mayTransfer): anyone for
// administrators and tickets.transfer_any; otherwise their groups and those groups' members, plus
// the listed destinations.
function accReach(state, agent) {
  if (state.administrators.has(agent.id)) return tf('acc_anyone', { why: t('acc_administrator') });
  if ((agent.permissions || []).includes('tickets.transfer_any')) return tf('acc_anyone', { why: 'tickets.transfer_any' });
  const own = (agent.group_ids || []).map((id) => tf('acc_groupMembers', { group: state.groupName(id) }));
  const listed = (agent.transfer_destinations || []).map((destination) => {
    if (destination.agent_id === '*') return t('acc_anyAgent');
    if (destination.group_id === '*') return t('acc_anyGroup');
    return destination.agent_id ? state.agentName(destination.agent_id) : tf('acc_groupMembers', { group: state.groupName(destination.group_id) });
  });
  return [own.length ? tf('acc_byDefault', { list: own.join(', ') }) : t('acc_defaultNone'),
    listed.length ? tf('acc_listed', { list: listed.join(', ') }) : ''].filter(Boolean).join('; ');
}

// The active agents with their role and reach; "Alterar" draws the form changing both.
function accAgentsSection(state) {
  const slot = el('div', { id: 'acc-agent-slot' });
  const rows = state.agents.filter((agent) => agent.active).map((agent) => el('tr', { 'data-agent': agent.id },
    el('th', { scope: 'row', text: agent.name || agent.id }),
    el('td', { text: (agent.group_ids || []).map(state.groupName).join(', ') }),
    el('td', { class: 'acc-agent-role', text: agent.role || t('acc_noRole') }),
    el('td', { class: 'acc-reach', text: accReach(state, agent) }),
    el('td', {}, el('button', { type: 'button', class: 'link acc-change-agent', text: t('acc_change'),
      'aria-label': tf('acc_changeOf', { name: agent.name || agent.id }),
      onclick: () => {
        slot.replaceChildren(el('h3', { id: 'acc-agent-title', text: tf('acc_agentTitle', { name: agent.name || agent.id }) }),
          accAgentForm(state, agent, () => slot.replaceChildren()));
        slot.querySelector('select').focus();
      } }))));
  return [el('h2', { id: 'acc-agents-title', text: t('acc_agents') }), el('p', { class: 'muted', text: t('acc_agentsIntro') }),
    rowsTable('acc-agents', [t('acc_agent'), t('groups'), t('acc_role'), t('acc_reach'), t('actions')], rows, 'acc-agents-empty', t('acc_noAgents')), slot];
}

// The form changing an agent's role (PutAgent, the whole record written back) and the
// destinations listed for them (SetTransferDestinations: exactly the ticked ones; none = default).
function accAgentForm(state, agent, close) {
  const status = el('div', { id: 'acc-agent-status', role: 'status' });
  const listed = new Set((agent.transfer_destinations || []).map((d) => `${d.agent_id || ''}|${d.group_id || ''}`));
  const box = (key, text, klass) => el('label', { class: 'row' },
    el('input', { type: 'checkbox', class: klass, value: key, checked: listed.has(key), id: `acc-dest-${key.replace(/[^a-z0-9_*-]+/gi, '_').replace('*', 'any')}` }), text);
  // Active groups and agents, and any the list already names (so saving keeps them).
  const groupIds = state.groups.filter((group) => group.active).map((group) => group.id);
  const agentIds = state.agents.filter((other) => other.active && other.id !== agent.id).map((other) => other.id);
  for (const key of listed) {
    const [agentId, groupId] = key.split('|');
    if (groupId && groupId !== '*' && !groupIds.includes(groupId)) groupIds.push(groupId);
    if (agentId && agentId !== '*' && !agentIds.includes(agentId)) agentIds.push(agentId);
  }
  const roleChoice = el('select', { name: 'role', id: 'acc-agent-role' },
    [el('option', { value: '', text: t('acc_noRole') })].concat(state.roles.map((role) =>
      el('option', { value: role.name, text: role.name, selected: role.name === agent.role }))));
  const form = el('form', { id: 'acc-agent-form', 'data-agent': agent.id, 'aria-labelledby': 'acc-agent-title' },
    el('label', {}, t('acc_role'), roleChoice),
    el('fieldset', { id: 'acc-destinations' }, el('legend', { text: t('acc_destinations') }),
      el('p', { class: 'muted', text: t('acc_destGroups') }), box('|*', t('acc_anyGroup'), 'acc-dest'),
      groupIds.map((id) => box(`|${id}`, tf('acc_groupMembers', { group: state.groupName(id) }), 'acc-dest')),
      el('p', { class: 'muted', text: t('acc_destAgents') }), box('*|', t('acc_anyAgent'), 'acc-dest'),
      agentIds.map((id) => box(`${id}|`, state.agentName(id), 'acc-dest'))),
    el('div', { class: 'row' }, el('button', { type: 'submit', id: 'acc-agent-submit', text: t('acc_saveAgent') }),
      el('button', { type: 'button', class: 'secondary', text: t('acc_cancelEdit'), onclick: close })),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const destinations = Array.from(form.querySelectorAll('input.acc-dest:checked'), (input) => {
      const [agentId, groupId] = input.value.split('|');
      return { agent_id: agentId, group_id: groupId };
    });
    const name = agent.name || agent.id;
    changeThen(status, accRender)(async () => {
      // The destinations first: workflow checks them; then the role, if it changed.
      await api('POST', `/v1/agents/${encodeURIComponent(agent.id)}/transfer-destinations`, { destinations });
      if (roleChoice.value !== (agent.role || '')) {
        const record = Object.assign({}, agent, { role: roleChoice.value });
        // Read-only parts of workflow's answer are not written back.
        delete record.group_ids; delete record.permissions; delete record.transfer_destinations;
        await api('POST', '/v1/agents', { agent: record });
      }
    }, tf('acc_agentSaved', { name }), form);
  });
  return form;
}

// ---------------------------------------------------------------- category access levels

// One row per category: its starting level (saved alone) and how many active agents see it.
function accLevelsSection(state) {
  const active = state.agents.filter((agent) => agent.active);
  const status = el('div', { id: 'acc-levels-status', role: 'status' });
  const rows = state.levels.map((entry) => {
    const category = label(CATEGORIES, entry.category);
    const level = Number(entry.access_level || 0);
    const input = el('input', { type: 'number', name: 'access_level', id: `acc-level-${entry.category}`, min: 0, max: 2147483647, required: true,
      value: level, 'aria-label': tf('acc_levelOf', { category }) });
    const form = el('form', { class: 'row acc-level-form', 'data-category': entry.category }, input,
      el('button', { type: 'submit', class: 'secondary', id: `acc-level-save-${entry.category}`, text: t('acc_saveLevel'),
        'aria-label': tf('acc_saveLevelOf', { category }) }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = Number(input.value);
      changeThen(status, accRender)(() => api('POST', '/v1/category-access-levels', { category: entry.category, access_level: value }),
        tf('acc_levelSaved', { category, level: value }));
    });
    const seeing = active.filter((agent) => Number(agent.max_access_level || 0) >= level).length;
    return el('tr', { 'data-category': entry.category },
      el('th', { scope: 'row', text: entry.stored ? category : `${category} ${t('acc_default')}` }),
      el('td', {}, form),
      el('td', { class: 'acc-seen-by', text: tf('acc_seenByValue', { count: seeing, total: active.length }) }));
  });
  return [el('h2', { id: 'acc-levels-title', text: t('acc_levels') }), el('p', { class: 'muted', text: t('acc_levelsIntro') }), status,
    rowsTable('acc-levels', [t('category'), t('acc_level'), t('acc_seenBy')], rows, 'acc-levels-empty', t('none'))];
}

addPage({ path: '/perfis', visible: isAdministrator, nav: { id: 'nav-access', text: 'acc_nav' }, render: () => accRender() });

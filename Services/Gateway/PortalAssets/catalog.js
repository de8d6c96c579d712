'use strict';
// The administrators' catalog page (#/cadastros): intake's configuration that customers and
// agents meet when opening a ticket. The channels (tipos de contato) and origins, added, renamed
// and deactivated or reactivated (intake's built-in ones, which it uses itself, only renamed);
// the custom fields (campos complementares), created, edited and deactivated; and the support
// policy's texts (priority definitions, category explanations, writing tips, pt-BR and en) the
// Nova ocorrência page shows. Intake validates every save: a refused one stores nothing and its
// per-field errors appear under the form, which keeps what was typed. Loaded after portal.js and
// team.js and built from their helpers (el, api, show, t, tf, errorBox, formRefused, rowsTable, bilingual,
// label, CATEGORIES, PRIORITIES, isAdministrator); its link and path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  catalogTitle: 'Cadastros', catalogIntro: 'O que clientes e agentes escolhem e leem ao abrir uma ocorrência. As mudanças valem para as próximas ocorrências; as já abertas guardam o que tinham.',
  catalogChannels: 'Canais (tipos de contato)', catalogChannelsIntro: 'Por onde a ocorrência chegou. O agente escolhe o canal ao registrar uma ocorrência; um canal desativado deixa de ser oferecido.',
  catalogOrigins: 'Origens', catalogOriginsIntro: 'Quem abriu a ocorrência: cada origem é de um tipo (cliente, representante ou interno).',
  catalogKey: 'Chave', catalogLabelPt: 'Nome (português)', catalogLabelEn: 'Nome (inglês)', catalogKind: 'Tipo',
  catalogActive: 'Ativo', catalogInactive: 'Inativo', catalogBuiltIn: 'do sistema', catalogBuiltInHint: 'Usado pelo próprio sistema: pode ser renomeado, não desativado.', catalogNotDeactivable: '(não desativável)',
  catalogEdit: 'Editar', catalogEditOf: 'Editar {name}', catalogDeactivate: 'Desativar', catalogReactivate: 'Reativar',
  catalogDeactivateOf: 'Desativar {name}', catalogReactivateOf: 'Reativar {name}', catalogSave: 'Salvar', catalogNew: 'Novo',
  catalogNewChannel: 'Novo canal', catalogEditChannel: 'Alterar o canal {key}', catalogNewOrigin: 'Nova origem', catalogEditOrigin: 'Alterar a origem {key}',
  catalogKeyHint: 'Letras, dígitos, "-" ou "_", sem espaços; não muda depois de criado. Vazio: feita a partir do nome.',
  catalogEntrySaved: 'Salvo: {name}.', catalogEntryDeactivated: 'Desativado: {name}.', catalogEntryReactivated: 'Reativado: {name}.',
  catalogNoEntries: 'Nenhuma entrada.', catalogKeyTaken: 'Já existe um cadastro com a chave {key}: para mudá-lo, use Editar na linha dele.', catalogStopEditing: 'Cancelar a alteração',
  catalogOriginCustomer: 'Cliente', catalogOriginRepresentative: 'Representante', catalogOriginInternal: 'Interno',
  catalogFields: 'Campos complementares', catalogFieldsIntro: 'Perguntas a mais no formulário da ocorrência, para um produto e/ou uma categoria (vazio: todos).',
  catalogFieldLabel: 'Rótulo', catalogFieldKind: 'Tipo do campo', catalogChoices: 'Opções', catalogChoicesHint: 'Uma opção por linha (só para o tipo lista de opções).',
  catalogRequired: 'Obrigatório', catalogScope: 'Vale para', catalogAllProducts: 'todos os produtos', catalogAllCategories: 'todas as categorias',
  catalogProductHint: 'Vazio: todos os produtos.', catalogNewField: 'Novo campo', catalogEditField: 'Alterar o campo {key}',
  catalogFieldSaved: 'Campo {name} salvo.', catalogFieldDeactivated: 'Campo {name} desativado.', catalogFieldReactivated: 'Campo {name} reativado.',
  catalogNoFields: 'Nenhum campo complementar.', catalogFieldActive: 'Ativo (oferecido no formulário)',
  catalogKindText: 'Texto', catalogKindNumber: 'Número', catalogKindDate: 'Data', catalogKindChoice: 'Lista de opções', catalogKindBoolean: 'Sim/não',
  catalogPolicy: 'Textos da política de suporte', catalogPolicyIntro: 'Mostrados no formulário Nova ocorrência: sob a prioridade e a categoria escolhidas, e com as dicas para escrever.',
  catalogPriorityDefinitions: 'Definição das prioridades', catalogCategoryExplanations: 'Explicação das categorias', catalogWritingTips: 'Dicas para escrever',
  catalogInPortuguese: '{name} (português)', catalogInEnglish: '{name} (inglês)', catalogSavePolicy: 'Salvar os textos', catalogPolicySaved: 'Textos da política salvos.',
});
Object.assign(TEXT.en, {
  catalogTitle: 'Catalogs', catalogIntro: 'What customers and agents choose and read when opening a ticket. Changes apply to the next tickets; open ones keep what they had.',
  catalogChannels: 'Channels (contact types)', catalogChannelsIntro: 'How the ticket came in. Agents choose the channel when registering a ticket; a deactivated channel is no longer offered.',
  catalogOrigins: 'Origins', catalogOriginsIntro: 'Who opened the ticket: each origin is of one kind (customer, representative or internal).',
  catalogKey: 'Key', catalogLabelPt: 'Name (Portuguese)', catalogLabelEn: 'Name (English)', catalogKind: 'Kind',
  catalogActive: 'Active', catalogInactive: 'Inactive', catalogBuiltIn: 'built-in', catalogBuiltInHint: 'Used by the system itself: it can be renamed, not deactivated.', catalogNotDeactivable: '(cannot be deactivated)',
  catalogEdit: 'Edit', catalogEditOf: 'Edit {name}', catalogDeactivate: 'Deactivate', catalogReactivate: 'Reactivate',
  catalogDeactivateOf: 'Deactivate {name}', catalogReactivateOf: 'Reactivate {name}', catalogSave: 'Save', catalogNew: 'New',
  catalogNewChannel: 'New channel', catalogEditChannel: 'Change channel {key}', catalogNewOrigin: 'New origin', catalogEditOrigin: 'Change origin {key}',
  catalogKeyHint: 'Letters, digits, "-" or "_", no spaces; it cannot change once created. Empty: made from the name.',
  catalogEntrySaved: 'Saved: {name}.', catalogEntryDeactivated: 'Deactivated: {name}.', catalogEntryReactivated: 'Reactivated: {name}.',
  catalogNoEntries: 'No entries.', catalogKeyTaken: 'There is already an entry with key {key}: to change it, use Edit on its row.', catalogStopEditing: 'Cancel the change',
  catalogOriginCustomer: 'Customer', catalogOriginRepresentative: 'Representative', catalogOriginInternal: 'Internal',
  catalogFields: 'Custom fields', catalogFieldsIntro: 'Extra questions on the ticket form, for a product and/or a category (empty: all).',
  catalogFieldLabel: 'Label', catalogFieldKind: 'Field kind', catalogChoices: 'Choices', catalogChoicesHint: 'One choice per line (only for the list-of-choices kind).',
  catalogRequired: 'Required', catalogScope: 'Applies to', catalogAllProducts: 'every product', catalogAllCategories: 'every category',
  catalogProductHint: 'Empty: every product.', catalogNewField: 'New field', catalogEditField: 'Change field {key}',
  catalogFieldSaved: 'Field {name} saved.', catalogFieldDeactivated: 'Field {name} deactivated.', catalogFieldReactivated: 'Field {name} reactivated.',
  catalogNoFields: 'No custom fields.', catalogFieldActive: 'Active (offered on the form)',
  catalogKindText: 'Text', catalogKindNumber: 'Number', catalogKindDate: 'Date', catalogKindChoice: 'List of choices', catalogKindBoolean: 'Yes/no',
  catalogPolicy: 'Support policy texts', catalogPolicyIntro: 'Shown on the New ticket form: under the chosen priority and category, and with the writing tips.',
  catalogPriorityDefinitions: 'Priority definitions', catalogCategoryExplanations: 'Category explanations', catalogWritingTips: 'Writing tips',
  catalogInPortuguese: '{name} (Portuguese)', catalogInEnglish: '{name} (English)', catalogSavePolicy: 'Save the texts', catalogPolicySaved: 'Policy texts saved.',
});

// The custom fields' kinds (intake's CustomFieldKind) and their names' text keys.
const catalogFieldKinds = [['FIELD_TEXT', 'catalogKindText'], ['FIELD_NUMBER', 'catalogKindNumber'], ['FIELD_DATE', 'catalogKindDate'],
  ['FIELD_CHOICE', 'catalogKindChoice'], ['FIELD_BOOLEAN', 'catalogKindBoolean']];
// The origins' kinds (common Origin) and their names' text keys.
const catalogOriginKinds = [['CUSTOMER', 'catalogOriginCustomer'], ['REPRESENTATIVE', 'catalogOriginRepresentative'], ['INTERNAL', 'catalogOriginInternal']];
// The two configurable lists: where intake serves them and how the page names their parts.
const catalogLists = {
  channel: { path: '/v1/channels', title: 'catalogChannels', intro: 'catalogChannelsIntro', create: 'catalogNewChannel', change: 'catalogEditChannel' },
  origin: { path: '/v1/origins', title: 'catalogOrigins', intro: 'catalogOriginsIntro', create: 'catalogNewOrigin', change: 'catalogEditOrigin' },
};

// The page: intake's four parts read at once, each section drawn with its own status line;
// `notice` ({ section, text }) is the outcome of the change that drew it again.
async function catalogPage(notice) {
  show(el('h1', { text: t('catalogTitle') }), el('p', { text: t('loading') }));
  let channels, origins, fields, policy;
  try {
    [channels, origins, fields, policy] = await Promise.all([api('GET', '/v1/channels?include_inactive=true'),
      api('GET', '/v1/origins?include_inactive=true'), api('GET', '/v1/custom-fields?include_inactive=true'), api('GET', '/v1/support-policy')]);
  } catch (error) { show(el('h1', { text: t('catalogTitle') }), errorBox(error)); return; }
  const statuses = {};
  const status = (section) => {
    statuses[section] = el('div', { id: `catalog-${section}-status`, role: 'status' });
    if (notice && notice.section === section) statuses[section].append(el('p', { class: 'ok', text: notice.text }));
    return statuses[section];
  };
  // Runs a save; on success the page is drawn again with `done` under `section`'s heading. A
  // refusal shows under `form` (in its `errors`), or under the heading for a row's button.
  const change = (section, form, errors) => async (work, done) => {
    try {
      await work();
      await catalogPage({ section, text: done });
    } catch (error) {
      if (form) formRefused(form, errors, error);
      else statuses[section].replaceChildren(errorBox(error));
    }
  };
  show(el('h1', { text: t('catalogTitle') }), el('p', { class: 'muted', text: t('catalogIntro') }),
    ...catalogEntriesSection('channel', channels.entries || [], status('channel'), change),
    ...catalogEntriesSection('origin', origins.entries || [], status('origin'), change),
    ...catalogFieldsSection(fields.fields || [], status('field'), change),
    ...catalogPolicySection(policy, status('policy'), change));
  // Coming back to a section after a change: don't leave the administrator at the top.
  if (notice && statuses[notice.section]) statuses[notice.section].scrollIntoView({ block: 'center' });
}

// A configurable list (`list`: 'channel' or 'origin'): its entries with their names, order and
// state, each deactivated or reactivated with a button (built-in ones only renamed), and one form
// adding an entry or, after "Editar", changing one (its key fixed).
function catalogEntriesSection(list, entries, status, change) {
  const about = catalogLists[list];
  const form = el('form', { id: `catalog-${list}-form`, 'aria-labelledby': `catalog-${list}-form-title` });
  const errors = el('div', { id: `catalog-${list}-errors`, 'aria-live': 'polite' });
  const toggle = change(list);
  const name = (entry) => bilingual(entry, 'label') || entry.key;
  const put = (entry, active, done) => toggle(() => api('POST', about.path, Object.assign({}, entry, { active })), done);
  const kindName = (kind) => { const found = catalogOriginKinds.find(([value]) => value === kind); return found ? t(found[1]) : ''; };
  const rows = entries.map((entry) => el('tr', { 'data-key': entry.key, 'data-active': String(!!entry.active) },
    el('td', {}, el('code', { text: entry.key }),
      entry.built_in ? [' ', el('span', { class: 'badge built-in', title: t('catalogBuiltInHint'), text: t('catalogBuiltIn') })] : null),
    el('td', { lang: 'pt-BR', text: entry.label_pt }), el('td', { lang: 'en', text: entry.label_en }),
    list === 'origin' ? el('td', { text: kindName(entry.origin_kind) }) : null,
    el('td', { text: String(entry.position || 0) }),
    el('td', { class: 'entry-state', text: t(entry.active ? 'catalogActive' : 'catalogInactive') }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'link edit-entry', text: t('catalogEdit'), 'aria-label': tf('catalogEditOf', { name: name(entry) }),
        onclick: () => fill(entry) }), ' ',
      // A built-in entry cannot be deactivated (intake refuses it): said instead of a button.
      entry.built_in ? el('span', { class: 'muted', title: t('catalogBuiltInHint'), text: t('catalogNotDeactivable') })
        : el('button', { type: 'button', class: 'link toggle-entry', text: t(entry.active ? 'catalogDeactivate' : 'catalogReactivate'),
          'aria-label': tf(entry.active ? 'catalogDeactivateOf' : 'catalogReactivateOf', { name: name(entry) }),
          onclick: () => put(entry, !entry.active, tf(entry.active ? 'catalogEntryDeactivated' : 'catalogEntryReactivated', { name: name(entry) })) }))));
  const headers = [t('catalogKey'), t('catalogLabelPt'), t('catalogLabelEn')].concat(list === 'origin' ? [t('catalogKind')] : [])
    .concat([t('position'), t('state'), t('actions')]);
  const table = rowsTable(`catalog-${list}s`, headers, rows, `catalog-${list}s-empty`, t('catalogNoEntries'));

  // The form: empty for a new entry, filled by "Editar" (key read-only, active state kept).
  const title = el('h3', { id: `catalog-${list}-form-title`, text: t(about.create) });
  const input = (field, attributes) => el('input', Object.assign({ name: field, id: `catalog-${list}-${field.replace('_', '-')}`, autocomplete: 'off' }, attributes));
  const key = input('key', { maxlength: 40, 'aria-describedby': `catalog-${list}-key-hint` });
  const labelPt = input('label_pt', { maxlength: 200, required: true, lang: 'pt-BR' });
  const labelEn = input('label_en', { maxlength: 200, lang: 'en' });
  const next = entries.reduce((most, entry) => Math.max(most, entry.position || 0), 0) + 1;
  const position = input('position', { type: 'number', min: 0, value: next });
  const kind = list === 'origin' ? el('select', { name: 'origin_kind', id: `catalog-${list}-kind` },
    catalogOriginKinds.map(([value, textKey]) => el('option', { value, text: t(textKey) }))) : null;
  const stop = el('button', { type: 'button', class: 'secondary', id: `catalog-${list}-new`, hidden: true, text: t('catalogStopEditing'), onclick: () => fill(null) });
  let editing = null;
  function fill(entry) {
    editing = entry;
    title.textContent = entry ? tf(about.change, { key: entry.key }) : t(about.create);
    key.value = entry ? entry.key : '';
    key.readOnly = !!entry;
    labelPt.value = entry ? entry.label_pt : '';
    labelEn.value = entry ? entry.label_en : '';
    position.value = entry ? entry.position || 0 : next;
    if (kind) {
      kind.value = entry && entry.origin_kind !== 'ORIGIN_UNSPECIFIED' ? entry.origin_kind : 'CUSTOMER';
      kind.disabled = !!(entry && entry.built_in); // a built-in origin's kind is fixed
    }
    stop.hidden = !entry;
    errors.replaceChildren();
    if (entry) labelPt.focus();
  }
  form.append(el('label', {}, t('catalogKey'), key), el('p', { class: 'muted', id: `catalog-${list}-key-hint`, text: t('catalogKeyHint') }),
    el('div', { class: 'row' }, el('label', {}, t('catalogLabelPt'), labelPt), el('label', {}, t('catalogLabelEn'), labelEn),
      kind ? el('label', {}, t('catalogKind'), kind) : null, el('label', {}, t('position'), position)),
    el('p', { class: 'row' }, el('button', { type: 'submit', id: `catalog-${list}-submit`, text: t('catalogSave') }), stop), errors);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const entry = { key: editing ? editing.key : key.value.trim() || keyFromName(labelPt.value, '_', 40), label_pt: labelPt.value.trim(),
      label_en: labelEn.value.trim(), position: Number(position.value || 0), active: editing ? !!editing.active : true };
    if (kind) entry.origin_kind = kind.value;
    if (!editing && entries.some((other) => other.key === entry.key)) {
      return formRefused(form, errors, { message: tf('catalogKeyTaken', { key: entry.key }), details: [] });
    }
    // Intake refuses the save as a whole; its reasons go under this form, what was typed stays.
    change(list, form, errors)(() => api('POST', about.path, entry), tf('catalogEntrySaved', { name: entry.label_pt || entry.key }));
  });
  return [el('h2', { id: `catalog-${list}s-title`, text: t(about.title) }), el('p', { class: 'muted', text: t(about.intro) }), status, table, title, form];
}

// The custom fields: each with its label, kind, scope (product, category), whether required and
// active, and its choices; edited in one form (key fixed once created) or deactivated/reactivated.
function catalogFieldsSection(fields, status, change) {
  const form = el('form', { id: 'catalog-field-form', 'aria-labelledby': 'catalog-field-form-title' });
  const errors = el('div', { id: 'catalog-field-errors', 'aria-live': 'polite' });
  const save = change('field', form, errors), toggle = change('field');
  const kindName = (kind) => { const found = catalogFieldKinds.find(([value]) => value === kind); return found ? t(found[1]) : kind; };
  const name = (field) => bilingual(field, 'label') || field.key;
  const rows = fields.map((field) => el('tr', { 'data-key': field.key, 'data-active': String(!!field.active) },
    el('td', {}, el('strong', { text: name(field) }), el('br'), el('code', { class: 'muted', text: field.key })),
    el('td', { text: kindName(field.kind) }),
    el('td', { class: 'scope', text: [field.product || t('catalogAllProducts'),
      CATEGORIES[field.category] ? label(CATEGORIES, field.category) : t('catalogAllCategories')].join(' · ') }),
    el('td', { class: 'required', text: t(field.required ? 'yes' : 'no') }),
    el('td', { class: 'entry-state', text: t(field.active ? 'catalogActive' : 'catalogInactive') }),
    el('td', { class: 'choices', text: (field.choices || []).join(', ') }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'link edit-field', text: t('catalogEdit'), 'aria-label': tf('catalogEditOf', { name: name(field) }),
        onclick: () => fill(field) }), ' ',
      el('button', { type: 'button', class: 'link toggle-field', text: t(field.active ? 'catalogDeactivate' : 'catalogReactivate'),
        'aria-label': tf(field.active ? 'catalogDeactivateOf' : 'catalogReactivateOf', { name: name(field) }),
        onclick: () => toggle(() => api('POST', '/v1/custom-fields', Object.assign({}, field, { active: !field.active })),
          tf(field.active ? 'catalogFieldDeactivated' : 'catalogFieldReactivated', { name: name(field) })) }))));
  const table = rowsTable('catalog-fields', [t('catalogFieldLabel'), t('catalogFieldKind'), t('catalogScope'), t('catalogRequired'), t('state'),
    t('catalogChoices'), t('actions')], rows, 'catalog-fields-empty', t('catalogNoFields'));

  const title = el('h3', { id: 'catalog-field-form-title', text: t('catalogNewField') });
  const input = (field, attributes) => el('input', Object.assign({ name: field, id: `catalog-field-${field.replace('_', '-')}`, autocomplete: 'off' }, attributes));
  const labelPt = input('label_pt', { maxlength: 200, required: true, lang: 'pt-BR' });
  const labelEn = input('label_en', { maxlength: 200, lang: 'en' });
  const key = input('key', { maxlength: 60, 'aria-describedby': 'catalog-field-key-hint' });
  const kind = el('select', { name: 'kind', id: 'catalog-field-kind' }, catalogFieldKinds.map(([value, textKey]) => el('option', { value, text: t(textKey) })));
  const choices = el('textarea', { name: 'choices', id: 'catalog-field-choices', rows: 4, 'aria-describedby': 'catalog-field-choices-hint' });
  const choicesLabel = el('label', {}, t('catalogChoices'), choices);
  const choicesHint = el('p', { class: 'muted', id: 'catalog-field-choices-hint', text: t('catalogChoicesHint') });
  const product = input('product', { maxlength: 120, 'aria-describedby': 'catalog-field-product-hint' });
  const category = el('select', { name: 'category', id: 'catalog-field-category' }, el('option', { value: '', text: t('anyValue') }),
    Object.keys(CATEGORIES).map((value) => el('option', { value, text: label(CATEGORIES, value) })));
  const required = el('input', { type: 'checkbox', name: 'required', id: 'catalog-field-required' });
  const active = el('input', { type: 'checkbox', name: 'active', id: 'catalog-field-active', checked: true });
  const next = fields.reduce((most, field) => Math.max(most, field.position || 0), 0) + 1;
  const position = input('position', { type: 'number', min: 0, value: next });
  const stop = el('button', { type: 'button', class: 'secondary', id: 'catalog-field-new', hidden: true, text: t('catalogStopEditing'), onclick: () => fill(null) });
  // The choices matter only for a list of choices: shown with that kind alone.
  const showChoices = () => { choicesLabel.hidden = choicesHint.hidden = kind.value !== 'FIELD_CHOICE'; };
  kind.addEventListener('change', showChoices);
  let editing = null;
  function fill(field) {
    editing = field;
    title.textContent = field ? tf('catalogEditField', { key: field.key }) : t('catalogNewField');
    labelPt.value = field ? field.label_pt : '';
    labelEn.value = field ? field.label_en : '';
    key.value = field ? field.key : '';
    key.readOnly = !!field;
    kind.value = field && field.kind !== 'CUSTOM_FIELD_KIND_UNSPECIFIED' ? field.kind : 'FIELD_TEXT';
    choices.value = field ? (field.choices || []).join('\n') : '';
    product.value = field ? field.product || '' : '';
    category.value = field && CATEGORIES[field.category] ? field.category : '';
    required.checked = !!(field && field.required);
    active.checked = field ? !!field.active : true;
    position.value = field ? field.position || 0 : next;
    stop.hidden = !field;
    errors.replaceChildren();
    showChoices();
    if (field) labelPt.focus();
  }
  form.append(
    el('div', { class: 'row' }, el('label', {}, t('catalogLabelPt'), labelPt), el('label', {}, t('catalogLabelEn'), labelEn)),
    el('label', {}, t('catalogKey'), key), el('p', { class: 'muted', id: 'catalog-field-key-hint', text: t('catalogKeyHint') }),
    el('label', {}, t('catalogFieldKind'), kind), choicesLabel, choicesHint,
    el('div', { class: 'row' }, el('label', {}, t('product'), product), el('label', {}, t('category'), category), el('label', {}, t('position'), position)),
    el('p', { class: 'muted', id: 'catalog-field-product-hint', text: t('catalogProductHint') }),
    el('label', { class: 'row' }, required, t('catalogRequired')), el('label', { class: 'row' }, active, t('catalogFieldActive')),
    el('p', { class: 'row' }, el('button', { type: 'submit', id: 'catalog-field-submit', text: t('catalogSave') }), stop), errors);
  showChoices();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const field = {
      key: editing ? editing.key : key.value.trim() || keyFromName(labelPt.value, '_', 60), label_pt: labelPt.value.trim(), label_en: labelEn.value.trim(),
      kind: kind.value, product: product.value.trim(), required: required.checked, active: active.checked, position: Number(position.value || 0),
      choices: kind.value === 'FIELD_CHOICE' ? choices.value.split('\n').map((c) => c.trim()).filter(Boolean) : [],
    };
    // "Every category" is sent too: a save changes only the fields it names, so one left out would stay.
    field.category = category.value || 'CATEGORY_UNSPECIFIED';
    if (!editing && fields.some((other) => other.key === field.key)) {
      return formRefused(form, errors, { message: tf('catalogKeyTaken', { key: field.key }), details: [] });
    }
    // A refused save (intake's reasons, e.g. a list with no choices) shows under this form.
    save(() => api('POST', '/v1/custom-fields', field), tf('catalogFieldSaved', { name: field.label_pt || field.key }));
  });
  return [el('h2', { id: 'catalog-fields-title', text: t('catalogFields') }), el('p', { class: 'muted', text: t('catalogFieldsIntro') }), status, table, title, form];
}

// The support policy's texts in one form: each priority's definition and each category's
// explanation, in pt-BR and English, and the writing tips; saved together with POST.
function catalogPolicySection(policy, status, change) {
  const form = el('form', { id: 'catalog-policy-form', 'aria-labelledby': 'catalog-policy-title' });
  const errors = el('div', { id: 'catalog-policy-errors', 'aria-live': 'polite' });
  const byPriority = Object.fromEntries((policy.priorities || []).map((d) => [d.priority, d]));
  const byCategory = Object.fromEntries((policy.categories || []).map((d) => [d.category, d]));
  // One texts pair (pt, en) named `name`, ids `catalog-policy-<id>-pt` / `-en`.
  const pair = (id, name, entry) => el('fieldset', { class: 'grid-fields' }, el('legend', { text: name }),
    el('label', {}, tf('catalogInPortuguese', { name }), el('textarea', { id: `catalog-policy-${id}-pt`, name: `${id}-pt`, lang: 'pt-BR', rows: 2, maxlength: 4000 },
      (entry && entry.text_pt) || '')),
    el('label', {}, tf('catalogInEnglish', { name }), el('textarea', { id: `catalog-policy-${id}-en`, name: `${id}-en`, lang: 'en', rows: 2, maxlength: 4000 },
      (entry && entry.text_en) || '')));
  const tips = (language, text) => el('label', {}, tf(language === 'pt' ? 'catalogInPortuguese' : 'catalogInEnglish', { name: t('catalogWritingTips') }),
    el('textarea', { id: `catalog-policy-tips-${language}`, name: `tips-${language}`, lang: language === 'pt' ? 'pt-BR' : 'en', rows: 4, maxlength: 8000 }, text || ''));
  form.append(
    el('h3', { text: t('catalogPriorityDefinitions') }),
    ...Object.keys(PRIORITIES).map((priority) => pair(`priority-${priority}`, label(PRIORITIES, priority), byPriority[priority])),
    el('h3', { text: t('catalogCategoryExplanations') }),
    ...Object.keys(CATEGORIES).map((category) => pair(`category-${category}`, label(CATEGORIES, category), byCategory[category])),
    el('h3', { text: t('catalogWritingTips') }), tips('pt', policy.writing_tips_pt), tips('en', policy.writing_tips_en),
    el('p', {}, el('button', { type: 'submit', id: 'catalog-policy-submit', text: t('catalogSavePolicy') })), errors);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = (id) => form.querySelector(`#catalog-policy-${id}`).value.trim();
    const body = {
      priorities: Object.keys(PRIORITIES).map((priority) => ({ priority, text_pt: text(`priority-${priority}-pt`), text_en: text(`priority-${priority}-en`) })),
      categories: Object.keys(CATEGORIES).map((category) => ({ category, text_pt: text(`category-${category}-pt`), text_en: text(`category-${category}-en`) })),
      writing_tips_pt: text('tips-pt'), writing_tips_en: text('tips-en'),
    };
    change('policy', form, errors)(() => api('POST', '/v1/support-policy', body), t('catalogPolicySaved'));
  });
  return [el('h2', { id: 'catalog-policy-title', text: t('catalogPolicy') }), el('p', { class: 'muted', text: t('catalogPolicyIntro') }), status, form];
}

addPage({ path: '/cadastros', visible: isAdministrator, nav: { id: 'nav-catalog', text: 'catalogTitle' }, render: () => catalogPage() });

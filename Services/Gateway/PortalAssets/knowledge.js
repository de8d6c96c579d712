'use strict';
// The knowledge base (#/base): everyone signed in searches it and reads what they may (customers
// the public, published articles and the reviewed forum; the team internal articles too), and says
// whether an article helped. Editors (knowledge editors and administrators: the `knowledge.write`
// permission) also list drafts and archived articles, write and edit articles (each edit a new
// version, a stale one refused) and work the editors' queue: FAQ requests from tickets and answers
// marked publishable, approved (anonymised by the service) or rejected with a reason.
// Loaded after portal.js and built from its helpers (el, api, show, t, tf, errorBox, when, label,
// CATEGORIES, isCustomer, renderedMarkdown, unfolding, newId); its link and paths are added with addPage.

Object.assign(TEXT['pt-BR'], {
  kbTitle: 'Base de conhecimento', kbIntro: 'Perguntas frequentes, dicas e artigos. Procure antes de abrir uma ocorrência: a resposta pode já estar aqui.',
  kbSearchLabel: 'Procurar na base', kbSearchButton: 'Procurar', kbAnyCategory: '(todas as categorias)', kbResults: 'Resultados para “{q}”',
  kbCorrected: 'Procurado também como: {words}', kbNoResults: 'Nada encontrado. Tente outras palavras ou abra uma ocorrência.',
  kbLatest: 'Publicados', kbNoArticles: 'Nenhum artigo neste filtro.', kbStateFilter: 'Situação', kbForumAnswer: 'Pergunta respondida',
  kbKinds: 'Tipo', kbKindFAQ: 'Pergunta frequente', kbKindTIP: 'Dica', kbKindARTICLE: 'Artigo',
  kbStateDRAFT: 'Rascunho', kbStatePUBLISHED: 'Publicado', kbStateARCHIVED: 'Arquivado',
  kbPublic: 'Público (clientes e equipe)', kbInternal: 'Interno (só a equipe)', kbVisibility: 'Visibilidade',
  kbNewArticle: 'Novo artigo', kbEdit: 'Editar', kbBack: 'Voltar à base', kbUpdated: 'Atualizado em {when} por {who}', kbVersion: 'Versão {version}',
  kbHelped: 'Este artigo ajudou?', kbYes: 'Sim', kbNo: 'Não', kbVoted: 'Obrigado! {helpful} acharam útil, {unhelpful} não.',
  kbArticleTitle: 'Título', kbBody: 'Texto (Markdown: **negrito**, *itálico*, listas com -, `código`, [link](https://…))',
  kbTags: 'Etiquetas (separadas por vírgulas)', kbSave: 'Salvar artigo', kbSaved: 'Artigo salvo (versão {version}).', kbCreated: 'Artigo criado.',
  kbStale: 'Outra pessoa salvou este artigo enquanto você editava. Abra-o de novo para ver a versão atual.',
  kbVersions: 'Versões anteriores', kbVersionBy: 'Versão {version} · {when} · {who}',
  kbQueue: 'Fila dos editores', kbQueueCount: 'Fila dos editores ({count})', kbQueueIntro: 'Pedidos de FAQ feitos a partir de ocorrências e respostas marcadas como publicáveis. Ao aprovar, a organização, o contato, o código da ocorrência, e-mails, telefones e CPF/CNPJ são retirados do texto.',
  kbQueueEmpty: 'Nada pendente na fila.', kbFaqRequest: 'Pedido de FAQ', kbPublishable: 'Resposta publicável', kbRequestedBy: 'Pedido por {who} em {when}',
  kbQuestion: 'Pergunta', kbAnswer: 'Resposta', kbPublishNow: 'Publicar já (senão fica como rascunho)', kbApprove: 'Aprovar', kbReject: 'Recusar',
  kbRejectReason: 'Motivo da recusa', kbApproved: 'Aprovado: {what}.', kbRejected: 'Recusado.', kbBecameArticle: 'virou o artigo “{title}”',
  kbBecameForum: 'entrou nas perguntas respondidas', kbFromTicket: 'Ocorrência {code}',
  kbDeflection: 'Autoatendimento', kbDeflectionIntro: 'Rascunhos de ocorrência em que o cliente abriu um artigo sugerido: desistiu (resolvido pela base) ou abriu a ocorrência mesmo assim. Um rascunho conta como desistência 30 minutos depois, sem ocorrência.',
  kbFrom: 'De', kbTo: 'Até', kbShow: 'Mostrar', kbDrafts: 'Rascunhos', kbDraftsOpened: 'Com artigo aberto', kbDeflected: 'Desistências (resolvidos)',
  kbTickets: 'Viraram ocorrência', kbPending: 'Ainda em aberto', kbRate: 'Taxa de autoatendimento', kbByModule: 'Por produto e módulo',
  kbBest: 'Artigos que mais resolvem', kbWorst: 'Artigos que menos resolvem', kbShown: 'Mostrado', kbOpened: 'Aberto', kbScore: 'Saldo',
  kbNoDrafts: 'Nenhum rascunho no período.', kbAnyProduct: '(todos)',
  kbSynonyms: 'Sinônimos', kbSynonymsIntro: 'Palavras que a busca trata como iguais (ex.: NF-e, nota fiscal eletrônica). Valem na próxima busca, sem reindexar.',
  kbTerms: 'Termos (separados por vírgulas)', kbTermsOf: 'Termos do grupo {terms}', kbAddGroup: 'Adicionar grupo', kbDeleteGroup: 'Excluir', kbDeleteGroupOf: 'Excluir o grupo {terms}',
  kbGroupSaved: 'Grupo de sinônimos salvo.', kbSaveGroup: 'Salvar', kbGroupDeleted: 'Grupo de sinônimos excluído.', kbNoSynonyms: 'Nenhum grupo de sinônimos.', kbNewGroup: 'Novo grupo',
});
Object.assign(TEXT.en, {
  kbTitle: 'Knowledge base', kbIntro: 'Frequent questions, tips and articles. Search before opening a ticket: the answer may be here already.',
  kbSearchLabel: 'Search the knowledge base', kbSearchButton: 'Search', kbAnyCategory: '(every category)', kbResults: 'Results for “{q}”',
  kbCorrected: 'Also searched as: {words}', kbNoResults: 'Nothing found. Try other words or open a ticket.',
  kbLatest: 'Published', kbNoArticles: 'No articles in this filter.', kbStateFilter: 'State', kbForumAnswer: 'Answered question',
  kbKinds: 'Kind', kbKindFAQ: 'Frequent question', kbKindTIP: 'Tip', kbKindARTICLE: 'Article',
  kbStateDRAFT: 'Draft', kbStatePUBLISHED: 'Published', kbStateARCHIVED: 'Archived',
  kbPublic: 'Public (customers and team)', kbInternal: 'Internal (team only)', kbVisibility: 'Visibility',
  kbNewArticle: 'New article', kbEdit: 'Edit', kbBack: 'Back to the knowledge base', kbUpdated: 'Updated on {when} by {who}', kbVersion: 'Version {version}',
  kbHelped: 'Did this article help?', kbYes: 'Yes', kbNo: 'No', kbVoted: 'Thank you! {helpful} found it useful, {unhelpful} did not.',
  kbArticleTitle: 'Title', kbBody: 'Text (Markdown: **bold**, *italic*, lists with -, `code`, [link](https://…))',
  kbTags: 'Tags (comma separated)', kbSave: 'Save article', kbSaved: 'Article saved (version {version}).', kbCreated: 'Article created.',
  kbStale: 'Someone else saved this article while you were editing. Open it again to see the current version.',
  kbVersions: 'Earlier versions', kbVersionBy: 'Version {version} · {when} · {who}',
  kbQueue: 'Editors\' queue', kbQueueCount: 'Editors\' queue ({count})', kbQueueIntro: 'FAQ requests made from tickets and answers marked publishable. On approval the organization, contact, ticket code, e-mails, phone numbers and CPF/CNPJ are taken out of the text.',
  kbQueueEmpty: 'Nothing pending.', kbFaqRequest: 'FAQ request', kbPublishable: 'Publishable answer', kbRequestedBy: 'Requested by {who} on {when}',
  kbQuestion: 'Question', kbAnswer: 'Answer', kbPublishNow: 'Publish now (otherwise it stays a draft)', kbApprove: 'Approve', kbReject: 'Reject',
  kbRejectReason: 'Reason for rejecting', kbApproved: 'Approved: {what}.', kbRejected: 'Rejected.', kbBecameArticle: 'it became the article “{title}”',
  kbBecameForum: 'it joined the answered questions', kbFromTicket: 'Ticket {code}',
  kbDeflection: 'Self-service', kbDeflectionIntro: 'Ticket drafts in which the customer opened a suggested article: gave up (solved by the knowledge base) or opened the ticket anyway. A draft counts as given up 30 minutes later, with no ticket.',
  kbFrom: 'From', kbTo: 'To', kbShow: 'Show', kbDrafts: 'Drafts', kbDraftsOpened: 'With an article opened', kbDeflected: 'Given up (solved)',
  kbTickets: 'Became tickets', kbPending: 'Still open', kbRate: 'Self-service rate', kbByModule: 'By product and module',
  kbBest: 'Articles that solve most', kbWorst: 'Articles that solve least', kbShown: 'Shown', kbOpened: 'Opened', kbScore: 'Balance',
  kbNoDrafts: 'No drafts in the period.', kbAnyProduct: '(all)',
  kbSynonyms: 'Synonyms', kbSynonymsIntro: 'Words the search treats as the same (e.g. NF-e, nota fiscal eletrônica). Effective on the next search, no reindexing.',
  kbTerms: 'Terms (comma separated)', kbTermsOf: 'Terms of group {terms}', kbAddGroup: 'Add group', kbDeleteGroup: 'Delete', kbDeleteGroupOf: 'Delete group {terms}',
  kbGroupSaved: 'Synonym group saved.', kbSaveGroup: 'Save', kbGroupDeleted: 'Synonym group deleted.', kbNoSynonyms: 'No synonym groups.', kbNewGroup: 'New group',
});

const KB_KINDS = ['FAQ', 'TIP', 'ARTICLE'];
const KB_STATES = ['PUBLISHED', 'DRAFT', 'ARCHIVED'];
// Who writes the knowledge base: the permission the gateway gives knowledge editors and administrators.
const kbCanEdit = () => !isCustomer() && !!me && !!me.principal &&
  (!!me.principal.administrator || (me.principal.permissions || []).includes('knowledge.write'));
const kbKindName = (kind) => t('kbKind' + (KB_KINDS.includes(kind) ? kind : 'ARTICLE'));
const kbArticleHref = (id) => '#/base/artigo/' + encodeURIComponent(id);
// What the article page says once it is drawn after a save (the save navigates to it).
let kbPendingNotice = '';

// #/base?q=…&categoria=…&situacao=…: the search form, then the hits for a query or the list of
// articles (published; editors choose the state).
async function kbHome(params) {
  const query = (params.get('q') || '').trim(), category = params.get('categoria') || '', state = params.get('situacao') || 'PUBLISHED';
  show(el('p', { text: t('loading') }));
  const filters = (category ? `&category=${encodeURIComponent(category)}` : '');
  let found, queue;
  try {
    found = query ? await api('GET', `/v1/knowledge/search?limit=20&q=${encodeURIComponent(query)}${filters}`)
      : await api('GET', `/v1/knowledge/articles?limit=50${filters}&state=${encodeURIComponent(kbCanEdit() ? state : 'PUBLISHED')}`);
    queue = kbCanEdit() ? await api('GET', '/v1/knowledge/queue?limit=100').catch(() => null) : null;
  } catch (error) { show(el('h1', { text: t('kbTitle') }), errorBox(error)); return; }
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) { if (value) next.set(key, value); else next.delete(key); }
    location.hash = '#/base' + (next.toString() ? '?' + next.toString() : '');
  };
  const form = el('form', { id: 'kb-search', role: 'search', class: 'row' },
    el('label', {}, t('kbSearchLabel'), el('input', { type: 'search', name: 'q', id: 'kb-query', value: query, maxlength: 500, autocomplete: 'off' })),
    el('label', {}, t('category'), el('select', { name: 'categoria', id: 'kb-category' },
      [el('option', { value: '', text: t('kbAnyCategory') })].concat(Object.keys(CATEGORIES).map((key) =>
        el('option', { value: key, text: label(CATEGORIES, key), selected: key === category }))))),
    el('button', { type: 'submit', id: 'kb-submit', text: t('kbSearchButton') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go({ q: form.elements.q.value.trim(), categoria: form.elements.categoria.value });
  });
  const tools = isCustomer() ? null : el('p', { class: 'row' },
    kbCanEdit() ? el('a', { href: '#/base/novo', id: 'kb-new', class: 'button', text: t('kbNewArticle') }) : null,
    kbCanEdit() ? el('a', { href: '#/base/fila', id: 'kb-queue-link', text: tf('kbQueueCount', { count: ((queue && queue.items) || []).length }) }) : null,
    el('a', { href: '#/base/autoatendimento', id: 'kb-deflection-link', text: t('kbDeflection') }),
    kbCanEdit() ? el('a', { href: '#/base/sinonimos', id: 'kb-synonyms-link', text: t('kbSynonyms') }) : null);
  let listing;
  if (query) {
    const hits = found.hits || [];
    listing = [el('h2', { text: tf('kbResults', { q: query }) }),
      (found.corrections || []).length ? el('p', { class: 'muted', id: 'kb-corrections', text: tf('kbCorrected', { words: found.corrections.join(', ') }) }) : null,
      hits.length ? el('ul', { id: 'kb-hits', class: 'kb-list' }, hits.map(kbHitItem)) : el('p', { class: 'muted', id: 'kb-none', text: t('kbNoResults') })];
  } else {
    const stateFilter = kbCanEdit() ? el('label', {}, t('kbStateFilter'), el('select', { id: 'kb-state', onchange: (event) => go({ situacao: event.target.value }) },
      KB_STATES.map((key) => el('option', { value: key, text: t('kbState' + key), selected: key === state })))) : null;
    const articles = found.articles || [];
    listing = [el('h2', { text: kbCanEdit() ? t('kbState' + state) : t('kbLatest') }), stateFilter,
      articles.length ? el('ul', { id: 'kb-articles', class: 'kb-list' }, articles.map((article) => el('li', { 'data-article': article.id },
        el('a', { href: kbArticleHref(article.id), text: article.title }), ' ',
        el('span', { class: 'badge', text: kbKindName(article.kind) }),
        article.visibility === 'VISIBILITY_AGENTS_ONLY' ? el('span', { class: 'badge internal', text: t('kbInternal') }) : null,
        el('span', { class: 'muted', text: ` ${[article.product, article.module].filter(Boolean).join(' / ')} · ${when(article.updated_at_ms)}` }))))
        : el('p', { class: 'muted', id: 'kb-empty', text: t('kbNoArticles') })];
  }
  show(el('h1', { text: t('kbTitle') }), el('p', { class: 'muted', text: t('kbIntro') }), tools, form, ...listing);
}

// One search hit: an article (opened on its page) or an answered question from the forum (its
// answer unfolded in place).
function kbHitItem(hit) {
  if (hit.forum_entry) {
    const item = unfolding(hit.title, async () => {
      const entry = await api('GET', `/v1/knowledge/forum/${encodeURIComponent(hit.id)}`);
      return el('p', { class: 'forum-answer', text: entry.answer || hit.snippet || '' });
    });
    item.dataset.forum = hit.id;
    item.firstChild.after(' ', el('span', { class: 'badge', text: t('kbForumAnswer') }));
    return item;
  }
  return el('li', { 'data-article': hit.id }, el('a', { href: kbArticleHref(hit.id), text: hit.title }), ' ',
    el('span', { class: 'badge', text: kbKindName(hit.kind) }), el('p', { class: 'muted', text: hit.snippet || '' }));
}

// #/base/artigo/<id>: the article, its vote, and for the team its earlier versions.
async function kbArticlePage(id) {
  const notice = kbPendingNotice;
  kbPendingNotice = '';
  show(el('p', { text: t('loading') }));
  let article;
  try { article = await api('GET', `/v1/knowledge/articles/${encodeURIComponent(id)}`); } catch (error) {
    show(el('p', {}, el('a', { href: '#/base', text: t('kbBack') })), errorBox(error));
    return;
  }
  const voteStatus = el('p', { id: 'kb-vote-status', role: 'status' });
  const vote = (helpful) => async () => {
    try {
      const counts = await api('POST', `/v1/knowledge/articles/${encodeURIComponent(id)}/votes`, { helpful });
      voteStatus.textContent = tf('kbVoted', { helpful: counts.helpful_votes || 0, unhelpful: counts.unhelpful_votes || 0 });
    } catch (error) { voteStatus.replaceChildren(errorBox(error)); }
  };
  const facts = [kbKindName(article.kind), [article.product, article.module].filter(Boolean).join(' / '),
    CATEGORIES[article.category] ? label(CATEGORIES, article.category) : article.category].filter(Boolean).join(' · ');
  const staffFacts = isCustomer() ? null : el('p', { class: 'muted', id: 'kb-staff-facts' },
    `${t('kbState' + (KB_STATES.includes(article.state) ? article.state : 'PUBLISHED'))} · `,
    `${t(article.visibility === 'VISIBILITY_AGENTS_ONLY' ? 'kbInternal' : 'kbPublic')} · ${tf('kbVersion', { version: article.version || 1 })}`);
  const versions = isCustomer() ? null : el('details', { id: 'kb-versions', ontoggle: async (event) => {
    if (!event.target.open || event.target.dataset.loaded) return;
    event.target.dataset.loaded = '1';
    const list = await api('GET', `/v1/knowledge/articles/${encodeURIComponent(id)}/versions`).catch(() => ({}));
    event.target.append(el('ul', {}, (list.versions || []).map((version) => el('li', {},
      el('strong', { text: tf('kbVersionBy', { version: version.version, when: when(version.edited_at_ms || version.created_at_ms), who: version.editor_name || version.editor_id || '' }) }),
      el('pre', { text: version.body_markdown || '' })))));
  } }, el('summary', { text: t('kbVersions') }));
  show(el('p', {}, el('a', { href: '#/base', text: t('kbBack') })),
    notice ? el('p', { class: 'ok', role: 'status', text: notice }) : null,
    el('article', { id: 'kb-article', 'data-article': article.id },
      el('h1', { text: article.title }), el('p', { class: 'muted', text: facts }), staffFacts,
      renderedMarkdown(article.body_html),
      (article.tags || []).length ? el('p', { class: 'muted', text: '# ' + article.tags.join(' · ') }) : null,
      el('p', { class: 'muted', text: tf('kbUpdated', { when: when(article.updated_at_ms || article.created_at_ms), who: article.editor_name || article.author_name || '' }) })),
    el('div', { class: 'row', role: 'group', 'aria-label': t('kbHelped') }, el('span', { text: t('kbHelped') }),
      el('button', { type: 'button', id: 'kb-yes', class: 'secondary', text: t('kbYes'), onclick: vote(true) }),
      el('button', { type: 'button', id: 'kb-no', class: 'secondary', text: t('kbNo'), onclick: vote(false) })), voteStatus,
    kbCanEdit() ? el('p', {}, el('a', { href: '#/base/editar/' + encodeURIComponent(article.id), id: 'kb-edit', class: 'button', text: t('kbEdit') })) : null,
    versions);
}

// #/base/novo and #/base/editar/<id>: the article's form. An edit sends the version it started
// from; the service refuses it when someone saved in between, and nothing is overwritten.
async function kbEditorPage(id) {
  let article = { kind: 'FAQ', visibility: 'VISIBILITY_CUSTOMERS', state: 'DRAFT', tags: [] };
  if (id) {
    try { article = await api('GET', `/v1/knowledge/articles/${encodeURIComponent(id)}`); } catch (error) { show(errorBox(error)); return; }
  }
  const status = el('div', { id: 'kb-form-status', role: 'status' });
  const choice = (name, keys, current, text) => el('select', { name, id: `kb-${name}` },
    keys.map((key) => el('option', { value: key, text: text(key), selected: key === current })));
  const input = (name, labelKey, value, extra) => el('label', {}, t(labelKey),
    el('input', Object.assign({ name, id: `kb-${name}`, value: value || '', autocomplete: 'off' }, extra || {})));
  const form = el('form', { id: 'kb-form', 'aria-labelledby': 'kb-form-title' },
    el('label', {}, t('kbKinds'), choice('kind', KB_KINDS, article.kind, kbKindName)),
    input('title', 'kbArticleTitle', article.title, { required: true, maxlength: 200 }),
    el('label', {}, t('kbBody'), el('textarea', { name: 'body_markdown', id: 'kb-body', rows: 14, required: true, text: article.body_markdown || '' })),
    el('div', { class: 'row' }, input('product', 'product', article.product, { maxlength: 100 }), input('module', 'module', article.module, { maxlength: 100 })),
    // The ticket form's category keys (its FAQ asks by them); a category written otherwise (an
    // import) is kept as it is.
    el('label', {}, t('category'), el('select', { name: 'category', id: 'kb-category-field' },
      [el('option', { value: '', text: t('kbAnyCategory') })].concat(Object.keys(CATEGORIES).map((key) =>
        el('option', { value: key, text: label(CATEGORIES, key), selected: key === article.category })),
      article.category && !CATEGORIES[article.category] ? [el('option', { value: article.category, text: article.category, selected: true })] : []))),
    input('tags', 'kbTags', (article.tags || []).join(', ')),
    el('label', {}, t('kbVisibility'), choice('visibility', ['VISIBILITY_CUSTOMERS', 'VISIBILITY_AGENTS_ONLY'], article.visibility,
      (key) => t(key === 'VISIBILITY_AGENTS_ONLY' ? 'kbInternal' : 'kbPublic'))),
    el('label', {}, t('kbStateFilter'), choice('state', ['DRAFT', 'PUBLISHED', 'ARCHIVED'], article.state, (key) => t('kbState' + key))),
    el('button', { type: 'submit', id: 'kb-save', text: t('kbSave') }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = form.elements;
    const body = {};
    for (const name of ['kind', 'title', 'body_markdown', 'product', 'module', 'category', 'visibility', 'state']) body[name] = fields[name].value;
    body.tags = fields.tags.value.split(',').map((tag) => tag.trim()).filter(Boolean);
    try {
      if (id) {
        const saved = await api('POST', `/v1/knowledge/articles/${encodeURIComponent(id)}`, Object.assign({ expected_version: article.version || 0 }, body));
        kbPendingNotice = tf('kbSaved', { version: saved.version });
        location.hash = kbArticleHref(saved.id);
      } else {
        const created = await api('POST', '/v1/knowledge/articles', body, { idempotencyKey: newId() });
        kbPendingNotice = t('kbCreated');
        location.hash = kbArticleHref(created.id);
      }
    } catch (error) {
      if (error.code === 'FAILED_PRECONDITION') status.replaceChildren(el('p', { class: 'error', role: 'alert', text: t('kbStale') }));
      else formRefused(form, status, error);
    }
  });
  show(el('p', {}, el('a', { href: id ? kbArticleHref(id) : '#/base', text: t('kbBack') })),
    el('h1', { id: 'kb-form-title', text: id ? `${t('kbEdit')}: ${article.title}` : t('kbNewArticle') }), status, form);
}

// #/base/fila: the pending items of the editors' queue, each approved (question and answer as
// edited here) or rejected with a reason.
async function kbQueuePage(notice) {
  show(el('p', { text: t('loading') }));
  let queue;
  try { queue = await api('GET', '/v1/knowledge/queue?limit=100'); } catch (error) { show(el('h1', { text: t('kbQueue') }), errorBox(error)); return; }
  const status = el('div', { id: 'kb-queue-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const change = changeThen(status, kbQueuePage);
  const items = (queue.items || []).map((item) => {
    const faq = item.kind === 'FAQ_REQUEST';
    const approve = el('form', { class: 'kb-approve', 'aria-label': `${t('kbApprove')} ${item.question.slice(0, 60)}` },
      el('label', {}, t('kbQuestion'), el('textarea', { name: 'question', rows: 3, text: item.question || '' })),
      el('label', {}, t('kbAnswer'), el('textarea', { name: 'answer', rows: 6, text: item.answer || '' })),
      faq ? el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'publish' }), t('kbPublishNow')) : null,
      faq ? el('label', {}, t('kbVisibility'), el('select', { name: 'visibility' },
        el('option', { value: 'VISIBILITY_CUSTOMERS', text: t('kbPublic') }), el('option', { value: 'VISIBILITY_AGENTS_ONLY', text: t('kbInternal') }))) : null,
      el('button', { type: 'submit', class: 'kb-approve-button', text: t('kbApprove') }));
    approve.addEventListener('submit', (event) => {
      event.preventDefault();
      const fields = approve.elements;
      const body = { question: fields.question.value, answer: fields.answer.value };
      if (faq) Object.assign(body, { publish: fields.publish.checked, visibility: fields.visibility.value });
      change(() => api('POST', `/v1/knowledge/queue/${encodeURIComponent(item.id)}/approve`, body),
        (done) => tf('kbApproved', { what: done.article ? tf('kbBecameArticle', { title: done.article.title }) : t('kbBecameForum') }));
    });
    const reject = el('form', { class: 'row kb-reject' },
      el('label', {}, t('kbRejectReason'), el('input', { name: 'reason', required: true, maxlength: 500, autocomplete: 'off' })),
      el('button', { type: 'submit', class: 'secondary', text: t('kbReject') }));
    reject.addEventListener('submit', (event) => {
      event.preventDefault();
      change(() => api('POST', `/v1/knowledge/queue/${encodeURIComponent(item.id)}/reject`, { reason: reject.elements.reason.value }), t('kbRejected'));
    });
    return el('li', { class: 'entry', 'data-item': item.id },
      el('p', {}, el('span', { class: 'badge', text: t(faq ? 'kbFaqRequest' : 'kbPublishable') }), ' ',
        item.ticket_code ? el('a', { href: '#/t/' + encodeURIComponent(item.ticket_id), text: tf('kbFromTicket', { code: item.ticket_code }) }) : null, ' ',
        el('span', { class: 'muted', text: `${[item.product, item.module].filter(Boolean).join(' / ')} · ${tf('kbRequestedBy', { who: item.requested_by_name || '', when: when(item.created_at_ms) })}` })),
      approve, reject);
  });
  show(el('p', {}, el('a', { href: '#/base', text: t('kbBack') })), el('h1', { text: t('kbQueue') }), el('p', { class: 'muted', text: t('kbQueueIntro') }), status,
    items.length ? el('ul', { id: 'kb-queue', class: 'kb-list' }, items) : el('p', { class: 'muted', id: 'kb-queue-empty', text: t('kbQueueEmpty') }));
}

// #/base/autoatendimento?de=…&ate=…&produto=…: knowledge's deflection report for the team — the
// drafts of the period, how many opened an article and gave up or became tickets, by product and
// module, with the articles that solve most and least.
async function kbDeflectionPage(params) {
  const day = 86400000;
  const date = (ms) => new Date(ms).toISOString().slice(0, 10);
  const from = params.get('de') || date(Date.now() - 29 * day), to = params.get('ate') || date(Date.now());
  const product = params.get('produto') || '';
  show(el('p', { text: t('loading') }));
  let report;
  try {
    const fromMs = Date.parse(from + 'T00:00:00'), toMs = Date.parse(to + 'T00:00:00') + day;
    report = await api('GET', `/v1/knowledge/deflection?from_ms=${fromMs}&to_ms=${toMs}&limit=5${product ? '&product=' + encodeURIComponent(product) : ''}`);
  } catch (error) { show(el('h1', { text: t('kbDeflection') }), errorBox(error)); return; }
  const form = el('form', { id: 'kb-deflection-form', class: 'row' },
    el('label', {}, t('kbFrom'), el('input', { type: 'date', name: 'de', value: from, required: true })),
    el('label', {}, t('kbTo'), el('input', { type: 'date', name: 'ate', value: to, required: true })),
    el('label', {}, t('product'), el('input', { name: 'produto', value: product, placeholder: t('kbAnyProduct'), autocomplete: 'off' })),
    el('button', { type: 'submit', text: t('kbShow') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ['de', 'ate', 'produto']) if (form.elements[name].value.trim()) next.set(name, form.elements[name].value.trim());
    location.hash = '#/base/autoatendimento?' + next.toString();
  });
  const total = report.total || {};
  const percent = (rate) => `${Math.round((rate || 0) * 1000) / 10}%`;
  const cards = el('div', { class: 'cards', id: 'kb-deflection-cards' }, [
    ['kbDrafts', total.drafts], ['kbDraftsOpened', total.drafts_with_opened_article], ['kbDeflected', total.deflected],
    ['kbTickets', total.tickets], ['kbPending', total.pending], ['kbRate', percent(total.deflection_rate)],
  ].map(([key, value]) => el('div', { class: 'card', 'data-figure': key }, el('strong', { text: String(value || 0) }), t(key))));
  const articleTable = (id, titleKey, rows) => rows.length ? [el('h2', { text: t(titleKey) }),
    rowsTable(id, [t('kbArticleTitle'), t('kbShown'), t('kbOpened'), t('kbDeflected'), t('kbTickets'), t('kbYes'), t('kbNo'), t('kbScore')],
      rows.map((a) => el('tr', { 'data-article': a.article_id }, el('td', {}, el('a', { href: kbArticleHref(a.article_id), text: a.title })),
        ...[a.shown, a.opened, a.deflected, a.tickets, a.helpful_votes, a.unhelpful_votes, a.score].map((n) => el('td', { text: String(n || 0) })))), '', '')] : [];
  const groups = (report.groups || []).map((g) => el('tr', {}, el('td', { text: [g.product, g.module].filter(Boolean).join(' / ') || '—' }),
    ...[g.drafts, g.drafts_with_opened_article, g.deflected, g.tickets, g.pending].map((n) => el('td', { text: String(n || 0) })),
    el('td', { text: percent(g.deflection_rate) })));
  show(el('p', {}, el('a', { href: '#/base', text: t('kbBack') })), el('h1', { text: t('kbDeflection') }), el('p', { class: 'muted', text: t('kbDeflectionIntro') }),
    form, cards, ...articleTable('kb-best', 'kbBest', total.best || []), ...articleTable('kb-worst', 'kbWorst', total.worst || []),
    el('h2', { text: t('kbByModule') }),
    rowsTable('kb-deflection-groups', [t('product'), t('kbDrafts'), t('kbDraftsOpened'), t('kbDeflected'), t('kbTickets'), t('kbPending'), t('kbRate')],
      groups, 'kb-deflection-empty', t('kbNoDrafts')));
}

// #/base/sinonimos: the synonym groups the search uses, each edited or deleted, and a new one.
async function kbSynonymsPage(notice) {
  show(el('p', { text: t('loading') }));
  let list;
  try { list = await api('GET', '/v1/knowledge/synonyms'); } catch (error) { show(el('h1', { text: t('kbSynonyms') }), errorBox(error)); return; }
  const status = el('div', { id: 'kb-synonyms-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const terms = (text) => text.split(',').map((term) => term.trim()).filter(Boolean);
  const change = changeThen(status, kbSynonymsPage);
  const save = (group, done, form) => change(() => api('POST', '/v1/knowledge/synonyms', { group }), done, form);
  const rows = (list.groups || []).map((group) => {
    const joined = (group.terms || []).join(', ');
    const field = el('input', { value: joined, 'aria-label': tf('kbTermsOf', { terms: joined }), class: 'kb-terms', autocomplete: 'off' });
    const form = el('form', { class: 'row kb-synonym', 'data-group': group.id }, field,
      el('button', { type: 'submit', class: 'secondary', text: t('kbSaveGroup') }),
      el('button', { type: 'button', class: 'link', 'aria-label': tf('kbDeleteGroupOf', { terms: joined }), text: t('kbDeleteGroup'),
        onclick: () => change(() => api('DELETE', `/v1/knowledge/synonyms/${encodeURIComponent(group.id)}`), t('kbGroupDeleted')) }));
    form.addEventListener('submit', (event) => { event.preventDefault(); save({ id: group.id, terms: terms(field.value) }, t('kbGroupSaved')); });
    return el('li', {}, form);
  });
  const create = el('form', { id: 'kb-synonym-new', 'aria-labelledby': 'kb-synonym-new-title' },
    el('label', {}, t('kbTerms'), el('input', { name: 'terms', id: 'kb-new-terms', required: true, autocomplete: 'off' })),
    el('button', { type: 'submit', text: t('kbAddGroup') }));
  create.addEventListener('submit', (event) => { event.preventDefault(); save({ terms: terms(create.elements.terms.value) }, t('kbGroupSaved'), create); });
  show(el('p', {}, el('a', { href: '#/base', text: t('kbBack') })), el('h1', { text: t('kbSynonyms') }), el('p', { class: 'muted', text: t('kbSynonymsIntro') }), status,
    rows.length ? el('ul', { id: 'kb-synonyms', class: 'kb-list' }, rows) : el('p', { class: 'muted', id: 'kb-synonyms-empty', text: t('kbNoSynonyms') }),
    el('h2', { id: 'kb-synonym-new-title', text: t('kbNewGroup') }), create);
}

addPage({
  path: '/base', visible: () => !!me, nav: { id: 'nav-knowledge', text: 'kbTitle' },
  render: (rest) => {
    const [path, query] = rest.split('?');
    if (path.startsWith('/artigo/')) return kbArticlePage(decodeURIComponent(path.slice('/artigo/'.length)));
    if (path === '/novo' && kbCanEdit()) return kbEditorPage('');
    if (path.startsWith('/editar/') && kbCanEdit()) return kbEditorPage(decodeURIComponent(path.slice('/editar/'.length)));
    if (path === '/fila' && kbCanEdit()) return kbQueuePage();
    if (path === '/autoatendimento' && !isCustomer()) return kbDeflectionPage(new URLSearchParams(query || ''));
    if (path === '/sinonimos' && kbCanEdit()) return kbSynonymsPage();
    return kbHome(new URLSearchParams(query || ''));
  },
});

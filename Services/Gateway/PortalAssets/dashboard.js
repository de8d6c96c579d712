// Ocorrências portal: the agents' dashboard. Charts are SVG drawn here from workflow's numbers
// (`/v1/tickets/counts`, `/v1/reports/metrics`, `/v1/surveys/results`); every chart has a title,
// a description and its numbers again as a table. Text reaches the page only through
// textContent / setAttribute (see portal.js), never innerHTML.
'use strict';

Object.assign(TEXT['pt-BR'], {
  period: 'Período', thisMonth: 'Este mês', lastMonth: 'Mês passado', last90: 'Últimos 90 dias', customPeriod: 'Outro período',
  fromDay: 'De', toDay: 'Até (inclusive)', applyPeriod: 'Aplicar', exportCsv: 'Exportar as ocorrências do período (CSV)',
  badPeriod: 'Período inválido: informe duas datas, a primeira até a segunda, em no máximo 366 dias.',
  summary: 'Resumo do período', responseTimes: 'Tempo até a primeira resposta e até a resolução',
  responseTimesDesc: 'Média por categoria, em horário útil (o corrido está na tabela).',
  firstResponse: 'Primeira resposta', resolution: 'Resolução', businessTime: 'horário útil', wallTime: 'corrido',
  errorTypes: 'Tipos de ocorrência (categorias)', errorTypesDesc: 'Ocorrências abertas no período por categoria.',
  topModules: 'Módulos com mais ocorrências', topModulesDesc: 'Os 10 módulos com mais ocorrências abertas no período.',
  satisfaction: 'Satisfação', satisfactionDesc: 'Respostas da pesquisa por nota (1 a 5).',
  openedCount: 'Abertas', finished: 'Concluídas', reopenRate: 'Reabertas', slaMet: 'SLA cumprido', avgFirstResponse: 'Primeira resposta (média, horário útil)',
  avgResolution: 'Resolução (média, horário útil)', avgScore: 'Satisfação média', answers: 'Respostas', transfers: 'Transferências',
  tickets: 'Ocorrências', allCategories: 'Todas', noModule: '(sem módulo)', scoreN: 'Nota', noData: 'Sem dados no período.',
  numbers: 'Números do gráfico', average: 'Média',
  byGroup: 'Ocorrências por grupo', byGroupDesc: 'Ocorrências abertas no período por grupo de atendimento.',
  topProducts: 'Produtos com mais ocorrências', topProductsDesc: 'Os 10 produtos com mais ocorrências abertas no período.',
  stageTime: 'Tempo médio em cada etapa', stageTimeDesc: 'Média por saída da etapa no período, em horário útil e corrido.',
  exits: 'Saídas', backlog: 'Em aberto por idade', backlogDesc: 'Ocorrências em aberto agora, por etapa; as idades estão na tabela.',
  noGroup: '(sem grupo)', noProduct: '(sem produto)', total: 'Total',
  ages: ['< 1 dia', '1–3 dias', '3–7 dias', '7–30 dias', '≥ 30 dias'],
  metricFilters: 'Filtrar as métricas', filterGroup: 'Grupo', filterProduct: 'Produto', filterAgent: 'Agente responsável',
  allGroups: 'Todos os grupos', allProducts: 'Todos os produtos', allAgents: 'Todos os agentes', applyFilters: 'Aplicar filtros',
  clearFilters: 'Limpar filtros',
  filteredNote: 'Com filtro, os números são das ocorrências abertas no período que atendem ao filtro (grupo, produto e responsável de agora), '
    + 'com o que já aconteceu com elas; sem filtro, contam os fatos pelo dia em que aconteceram. Em aberto: as que atendem ao filtro agora.',
  noDistribution: 'A distribuição das notas não está disponível com mais de um filtro; a média está no resumo.',
  basisFiltered: 'Com filtro, cada ocorrência conta pela categoria, produto, módulo e grupo que tem agora.',
  levelNote: 'Os números são das ocorrências que você pode ver (até o seu nível de acesso, e as suas): as abertas no período, '
    + 'com o que já aconteceu com elas. Em aberto: as que você pode ver agora.',
  basisVisible: 'Cada ocorrência conta pela categoria, produto, módulo e grupo que tem agora.',
  basisClassification: 'Cada ocorrência conta pela classificação que tem agora: corrigir a categoria, o produto ou o módulo a move.',
  basisEventCategory: 'Cada primeira resposta e cada resolução contam na categoria que a ocorrência tinha naquele momento; uma correção depois não as move.',
  basisGroup: 'Cada ocorrência conta no grupo que a recebeu (distribuição ou quem a assumiu); um repasse para outro grupo não a move.',
  byOutcome: 'Concluídas por desfecho', byOutcomeCaption: 'Ocorrências concluídas no período, por desfecho', outcomeColumn: 'Desfecho',
  noOutcome: '(sem desfecho)',
  basisFinishedDay: 'Cada conclusão conta no dia em que aconteceu, pelo desfecho com que a ocorrência foi concluída; somam as concluídas do resumo.',
});
Object.assign(TEXT.en, {
  period: 'Period', thisMonth: 'This month', lastMonth: 'Last month', last90: 'Last 90 days', customPeriod: 'Other period',
  fromDay: 'From', toDay: 'To (inclusive)', applyPeriod: 'Apply', exportCsv: "Export the period's tickets (CSV)",
  badPeriod: 'Invalid period: give two dates, the first on or before the second, at most 366 days apart.',
  summary: 'Period summary', responseTimes: 'Time to first response and to resolution',
  responseTimesDesc: 'Average by category, in business hours (wall-clock time is in the table).',
  firstResponse: 'First response', resolution: 'Resolution', businessTime: 'business hours', wallTime: 'wall clock',
  errorTypes: 'Ticket types (categories)', errorTypesDesc: 'Tickets opened in the period by category.',
  topModules: 'Modules with most tickets', topModulesDesc: 'The 10 modules with most tickets opened in the period.',
  satisfaction: 'Satisfaction', satisfactionDesc: 'Survey answers by score (1 to 5).',
  openedCount: 'Opened', finished: 'Finished', reopenRate: 'Reopened', slaMet: 'SLA met', avgFirstResponse: 'First response (average, business hours)',
  avgResolution: 'Resolution (average, business hours)', avgScore: 'Average satisfaction', answers: 'Answers', transfers: 'Transfers',
  tickets: 'Tickets', allCategories: 'All', noModule: '(no module)', scoreN: 'Score', noData: 'No data in the period.',
  numbers: 'Chart numbers', average: 'Average',
  byGroup: 'Tickets by group', byGroupDesc: 'Tickets opened in the period by support group.',
  topProducts: 'Products with most tickets', topProductsDesc: 'The 10 products with most tickets opened in the period.',
  stageTime: 'Average time in each stage', stageTimeDesc: 'Average per exit from the stage in the period, in business hours and wall-clock time.',
  exits: 'Exits', backlog: 'Open tickets by age', backlogDesc: 'Tickets open now, by stage; their ages are in the table.',
  noGroup: '(no group)', noProduct: '(no product)', total: 'Total',
  ages: ['< 1 day', '1–3 days', '3–7 days', '7–30 days', '≥ 30 days'],
  metricFilters: 'Filter the metrics', filterGroup: 'Group', filterProduct: 'Product', filterAgent: 'Agent (holder)',
  allGroups: 'All groups', allProducts: 'All products', allAgents: 'All agents', applyFilters: 'Apply filters',
  clearFilters: 'Clear filters',
  filteredNote: 'With a filter, the figures are those of the tickets opened in the period that match it (their current group, product and holder), '
    + 'with what has happened to them so far; without, events count on the day they happened. Open: the tickets matching the filter now.',
  noDistribution: 'The score distribution is not available with more than one filter; the average is in the summary.',
  basisFiltered: 'With a filter, each ticket counts under the category, product, module and group it has now.',
  levelNote: 'The figures are those of the tickets you may see (up to your access level, and your own): those opened in the period, '
    + 'with what has happened to them so far. Open: those you may see now.',
  basisVisible: 'Each ticket counts under the category, product, module and group it has now.',
  basisClassification: 'Each ticket counts under the classification it has now: correcting its category, product or module moves it.',
  basisEventCategory: 'Each first response and each resolution counts under the category the ticket had at that moment; a later correction does not move it.',
  basisGroup: 'Each ticket counts under the group that received it (assignment or take); a transfer to another group does not move it.',
  byOutcome: 'Finished by outcome', byOutcomeCaption: 'Tickets finished in the period, by outcome', outcomeColumn: 'Outcome',
  noOutcome: '(no outcome)',
  basisFinishedDay: 'Each finishing counts on the day it happened, under the outcome the ticket finished with; they add up to the summary\'s finished.',
});

const PERIODS = ['este-mes', 'mes-passado', '90-dias', 'personalizado'];
const PERIOD_NAMES = { 'este-mes': 'thisMonth', 'mes-passado': 'lastMonth', '90-dias': 'last90', personalizado: 'customPeriod' };
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const SERIES_COLORS = ['#0b5cad', '#c0561b'];

// "YYYY-MM-DD" of a local date, and back (null when not a real day).
const dayString = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
function parseDay(text) {
  const match = DAY_PATTERN.exec(text || '');
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return dayString(date) === text ? date : null;
}

// Workflow counts metrics by the days of São Paulo (the zone of its built-in calendar, which its
// metrics always use), whatever the browser's zone. Not the stored "padrao" calendar's zone: an
// administrator may move that one (it sets SLA hours), and the page then counted "this month" and
// the CSV and survey bounds in a zone workflow's days are not in.
const METRICS_ZONE = 'America/Sao_Paulo';

// The day it is now in `zone`, as a local Date at 00:00 (used only for its year, month and day).
function zoneToday(zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(new Date()).map((part) => [part.type, Number(part.value)]));
  return new Date(parts.year, parts.month - 1, parts.day);
}

// Epoch ms of 00:00 of the day `date` (a local Date: its year, month and day) in `zone`.
function zoneMidnight(date, zone) {
  const wall = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric' });
  // The zone's offset at an instant: its wall clock then, read as UTC, minus the instant.
  const offset = (instant) => {
    const p = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, Number(part.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - instant;
  };
  const first = wall - offset(wall);
  return wall - offset(first);
}

// A period as days of `zone`: [from, to) for GetMetrics ("YYYY-MM-DD") and the same in epoch ms;
// for 'personalizado', the days `de` to `ate` inclusive (null when they do not make a period).
function periodRange(period, params, zone) {
  const now = zoneToday(zone);
  let from, to;
  if (period === 'personalizado') {
    from = parseDay(params.get('de'));
    const last = parseDay(params.get('ate'));
    if (!from || !last || last < from) return null;
    to = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1);
    if ((to - from) / 86400000 > 366.5) return null;
  } else if (period === 'mes-passado') {
    from = new Date(now.getFullYear(), now.getMonth() - 1, 1);
    to = new Date(now.getFullYear(), now.getMonth(), 1);
  } else if (period === '90-dias') {
    to = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
    from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 89);
  } else {
    from = new Date(now.getFullYear(), now.getMonth(), 1);
    to = new Date(now.getFullYear(), now.getMonth() + 1, 1);
  }
  const last = new Date(to.getFullYear(), to.getMonth(), to.getDate() - 1);
  return { fromDay: dayString(from), toDay: dayString(to), lastDay: dayString(last),
    fromMs: zoneMidnight(from, zone), toMs: zoneMidnight(to, zone) };
}

// The period's name in headings: its preset's name, or "from – to" in the page's language.
function periodTitle(period, range) {
  if (period !== 'personalizado') return t(PERIOD_NAMES[period]);
  const format = (day) => parseDay(day).toLocaleDateString(locale(), { dateStyle: 'short' });
  return `${format(range.fromDay)} – ${format(range.lastDay)}`;
}

const locale = () => (lang === 'en' ? 'en-GB' : 'pt-BR');
const number = (value, digits) => Number(value || 0).toLocaleString(locale(), { maximumFractionDigits: digits || 0 });

// A unit for durations in milliseconds, chosen from the largest value shown.
function durationUnit(maxMs) {
  if (maxMs < 120000) return { ms: 1000, pt: 's', en: 's' };
  if (maxMs < 2 * 3600000) return { ms: 60000, pt: 'min', en: 'min' };
  if (maxMs < 72 * 3600000) return { ms: 3600000, pt: 'h', en: 'h' };
  return { ms: 86400000, pt: 'd', en: 'd' };
}
const inUnit = (ms, unit) => `${number(Number(ms || 0) / unit.ms, 1)} ${lang === 'en' ? unit.en : unit.pt}`;
// An average over `count` measurements: '—' when there is none, else the time, 0 included (an
// answer given outside business hours took 0 business time; '—' said there was no answer).
const averageOf = (count, ms) => (Number(count || 0) > 0 ? inUnit(ms, durationUnit(Number(ms || 0))) : '—');
// A share of `count` cases, '—' when there is none: workflow answers 100 % SLA met (and 0 %
// reopened) for a period with nothing measured, which the cards showed as if it were a result.
const shareOf = (count, percent) => (Number(count || 0) > 0 ? `${number(percent, 1)} %` : '—');

// Horizontal bars: rows [{label, values: [n, ...]}], one colour per series; each bar's value is
// written beside it (format(value)). role="img" with <title> and <desc> (aria-labelledby).
function barChart(id, title, description, rows, series, format) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const write = format || ((v) => number(v));
  const width = 480, bar = series.length > 1 ? 18 : 24, gap = 10, left = 150, legend = series.length > 1 ? 26 : 0;
  const rowHeight = bar * series.length + gap;
  const height = legend + Math.max(1, rows.length) * rowHeight + 6;
  const max = Math.max(1e-9, ...rows.flatMap((r) => r.values.map(Number)));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', id,
    'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart' });
  chart.append(svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, description));
  if (series.length > 1) {
    series.forEach((name, s) => {
      const x = 10 + s * 170;
      chart.append(svg('rect', { x, y: 4, width: 14, height: 14, fill: SERIES_COLORS[s % SERIES_COLORS.length], rx: 2 }));
      chart.append(svg('text', { x: x + 20, y: 16, 'font-size': 13 }, name));
    });
  }
  rows.forEach((row, index) => {
    const top = legend + index * rowHeight + 3;
    // Long labels are shortened in the picture (whole in the table and in a tooltip).
    const name = String(row.label);
    const text = svg('text', { x: left - 8, y: top + (bar * series.length) / 2 + 5, 'text-anchor': 'end', 'font-size': 13 },
      name.length > 18 ? name.slice(0, 17) + '…' : name);
    if (name.length > 18) text.append(svg('title', {}, name));
    chart.append(text);
    row.values.forEach((value, s) => {
      const y = top + s * bar;
      const w = Math.round(((width - left - 70) * Number(value)) / max);
      chart.append(svg('rect', { x: left, y, width: Math.max(2, w), height: bar - 2, fill: SERIES_COLORS[s % SERIES_COLORS.length], rx: 3,
        'data-value': value }));
      chart.append(svg('text', { x: left + Math.max(2, w) + 6, y: y + bar * 0.7, 'font-size': 12 }, write(value, s)));
    });
  });
  return chart;
}

// The numbers of a chart as a table (caption, column headers, row headers).
function dataTable(id, caption, headers, rows) {
  return el('table', { id, class: 'chart-data' },
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, el('th', { scope: 'row', text: cells[0] }), cells.slice(1).map((c) => el('td', { text: c }))))));
}

// A titled section: heading, chart and table side by side.
// `basis` (optional): what the chart counts a ticket under (its category now, or when a response
// happened), shown under the title so two charts that differ say why.
function chartSection(id, title, chart, table, basis) {
  return el('section', { class: 'chart-section', id: `${id}-section`, 'aria-labelledby': `${id}-heading` },
    el('h2', { id: `${id}-heading`, text: title }),
    basis ? el('p', { class: 'muted chart-basis', id: `${id}-basis`, text: basis }) : null,
    el('div', { class: 'chart-pair' }, chart, table));
}

// Workflow's metrics key categories by the enum's number ("1"); survey results may use the name.
const CATEGORY_NUMBERS = ['', 'PROBLEMA', 'DUVIDA', 'EXIGENCIA_FISCAL', 'NECESSIDADE', 'SUGESTAO_MELHORIA', 'ESTRATEGICA'];
const categoryName = (key) => label(CATEGORIES, /^[0-9]+$/.test(String(key)) ? (CATEGORY_NUMBERS[Number(key)] || String(key)) : key);

function summaryCards(totals, surveyAnswers) {
  const cards = [
    ['opened', number(totals.opened)], ['finished', number(totals.finished)],
    ['avgFirstResponse', averageOf(totals.first_responses, totals.avg_first_response_business_ms)],
    ['avgResolution', averageOf(totals.resolutions, totals.avg_resolution_business_ms)],
    ['slaMet', shareOf(Number(totals.first_responses || 0) + Number(totals.resolutions || 0), totals.sla_met_percent)],
    ['reopenRate', shareOf(totals.finished, totals.reopen_percent)],
    ['avgScore', Number(totals.surveys || 0) > 0 ? `${number(totals.avg_survey_score, 1)} / 5` : '—'],
    ['answers', number(surveyAnswers !== null ? surveyAnswers : totals.surveys)],
  ];
  return el('div', { class: 'cards', id: 'metric-cards' }, cards.map(([key, value]) => el('div', { class: 'card', 'data-metric': key },
    // The text keys of the cards, where a card's key would collide with another page's text.
    el('strong', { text: value }), t(key === 'opened' ? 'openedCount' : key))));
}

function responseTimesSection(metrics, basis) {
  const rows = [{ key: t('allCategories'), totals: metrics.totals || {} }]
    .concat((metrics.by_category || []).map((r) => ({ key: categoryName(r.key), totals: r.totals || {} })))
    .filter((r) => Number(r.totals.first_responses || 0) + Number(r.totals.resolutions || 0) > 0);
  if (!rows.length) return chartSection('time-chart', t('responseTimes'), el('p', { class: 'muted', text: t('noData') }), null, basis);
  const max = Math.max(...rows.flatMap((r) => [Number(r.totals.avg_first_response_business_ms || 0), Number(r.totals.avg_resolution_business_ms || 0)]));
  const unit = durationUnit(max);
  const chart = barChart('time-chart', t('responseTimes'), t('responseTimesDesc'),
    rows.map((r) => ({ label: r.key, values: [Number(r.totals.avg_first_response_business_ms || 0), Number(r.totals.avg_resolution_business_ms || 0)] })),
    [t('firstResponse'), t('resolution')], (v) => inUnit(v, unit));
  const table = dataTable('time-table', t('numbers'),
    [t('category'), `${t('firstResponse')} (${t('businessTime')})`, `${t('firstResponse')} (${t('wallTime')})`,
      `${t('resolution')} (${t('businessTime')})`, `${t('resolution')} (${t('wallTime')})`],
    rows.map((r) => [r.key, averageOf(r.totals.first_responses, r.totals.avg_first_response_business_ms),
      averageOf(r.totals.first_responses, r.totals.avg_first_response_wall_ms),
      averageOf(r.totals.resolutions, r.totals.avg_resolution_business_ms), averageOf(r.totals.resolutions, r.totals.avg_resolution_wall_ms)]));
  return chartSection('time-chart', t('responseTimes'), chart, table, basis);
}

function countSection(id, title, description, rows, basis) {
  if (!rows.length) return chartSection(id, title, el('p', { class: 'muted', text: t('noData') }), null, basis);
  const chart = barChart(id, title, description, rows.map((r) => ({ label: r.label, values: [r.value] })), [t('tickets')]);
  const table = dataTable(`${id.replace('-chart', '')}-table`, t('numbers'), [title, t('tickets')], rows.map((r) => [r.label, number(r.value)]));
  return chartSection(id, title, chart, table, basis);
}

// Tickets opened in the period per key of a breakdown (group, product...), the `limit` largest.
function breakdownRows(rows, name, limit) {
  return (rows || []).map((r) => ({ label: name(r.key), value: Number((r.totals || {}).opened || 0) }))
    .filter((r) => r.value > 0).sort((a, b) => b.value - a.value).slice(0, limit || undefined);
}

// Average time per stage: business hours and wall clock, with the exits in the table.
function stageTimeSection(rows, stageOf) {
  const shown = (rows || []).filter((r) => Number(r.exits || 0) > 0);
  if (!shown.length) return chartSection('stage-time-chart', t('stageTime'), el('p', { class: 'muted', text: t('noData') }), null);
  const unit = durationUnit(Math.max(...shown.flatMap((r) => [Number(r.avg_business_ms || 0), Number(r.avg_wall_ms || 0)])));
  const chart = barChart('stage-time-chart', t('stageTime'), t('stageTimeDesc'),
    shown.map((r) => ({ label: stageOf(r), values: [Number(r.avg_business_ms || 0), Number(r.avg_wall_ms || 0)] })),
    [t('businessTime'), t('wallTime')], (v) => inUnit(v, unit));
  const table = dataTable('stage-time-table', t('numbers'), [t('stageTime'), t('exits'), t('businessTime'), t('wallTime')],
    shown.map((r) => [stageOf(r), number(r.exits), averageOf(r.exits, r.avg_business_ms), averageOf(r.exits, r.avg_wall_ms)]));
  return chartSection('stage-time-chart', t('stageTime'), chart, table);
}

// Finished tickets by how they ended (workflow's by_outcome, adding up to the summary's finished
// card), a small table; outcomes named as the ticket pages name them (OUTCOMES, portal.js).
function outcomeSection(rows, basis) {
  const shown = (rows || []).filter((r) => Number(r.finished || 0) > 0);
  const body = shown.length
    ? dataTable('outcome-table', t('byOutcomeCaption'), [t('outcomeColumn'), t('finished')],
      shown.map((r) => [r.outcome ? label(OUTCOMES, r.outcome) : t('noOutcome'), number(r.finished)]))
    : el('p', { class: 'muted', text: t('noData') });
  return el('section', { class: 'chart-section', id: 'outcome-section', 'aria-labelledby': 'outcome-heading' },
    el('h2', { id: 'outcome-heading', text: t('byOutcome') }),
    basis ? el('p', { class: 'muted chart-basis', id: 'outcome-basis', text: basis }) : null, body);
}

// Open tickets now per stage, with their ages in the table.
function backlogSection(rows, stageOf) {
  const shown = (rows || []).filter((r) => Number(r.count || 0) > 0);
  if (!shown.length) return chartSection('backlog-chart', t('backlog'), el('p', { class: 'muted', text: t('noData') }), null);
  const chart = barChart('backlog-chart', t('backlog'), t('backlogDesc'),
    shown.map((r) => ({ label: stageOf(r), values: [Number(r.count)] })), [t('tickets')]);
  const ages = TEXT[lang] && TEXT[lang].ages ? TEXT[lang].ages : TEXT['pt-BR'].ages;
  const table = dataTable('backlog-table', t('numbers'), [t('backlog'), t('total')].concat(ages),
    shown.map((r) => [stageOf(r), number(r.count)].concat(ages.map((_, i) => number((r.by_age || [])[i])))));
  return chartSection('backlog-chart', t('backlog'), chart, table);
}

function satisfactionSection(distribution, average) {
  const answers = distribution.reduce((a, b) => a + b, 0);
  if (!answers) return chartSection('satisfaction-chart', t('satisfaction'), el('p', { class: 'muted', text: t('noData') }), null);
  const rows = distribution.map((count, index) => ({ label: `${t('scoreN')} ${index + 1}`, values: [count] }));
  const chart = barChart('satisfaction-chart', t('satisfaction'), `${t('satisfactionDesc')} ${t('average')}: ${number(average, 1)} / 5.`,
    rows, [t('answers')]);
  const table = dataTable('satisfaction-table', t('numbers'), [t('scoreN'), t('answers')],
    rows.map((r) => [r.label, number(r.values[0])]).concat([[t('average'), `${number(average, 1)} / 5`]]));
  return chartSection('satisfaction-chart', t('satisfaction'), chart, table);
}

// The dashboard's filters in the page address (`grupo`, `produto`, `agente`), as the metrics
// route's query parameters (`group`, `product`, `agent`), the survey results' grouping and the
// stage counts' filter.
const FILTERS = [
  { param: 'grupo', api: 'group', id: 'filter-group', label: 'filterGroup', all: 'allGroups', surveyBy: 'group', counts: 'group_id' },
  { param: 'produto', api: 'product', id: 'filter-product', label: 'filterProduct', all: 'allProducts', surveyBy: 'product', counts: 'product' },
  { param: 'agente', api: 'agent', id: 'filter-agent', label: 'filterAgent', all: 'allAgents', surveyBy: 'agent', counts: 'agent_id' },
];

// The filter form: a labelled select per dimension (its first option: no filter), applied with a
// button so moving through the options with the keyboard does not reload the page.
function filterForm(chosen, options, go) {
  const selects = FILTERS.map((f) => {
    const values = options[f.api].slice();
    if (chosen[f.param] && !values.some((o) => o.value === chosen[f.param])) values.push({ value: chosen[f.param], text: chosen[f.param] });
    return el('select', { id: f.id, name: f.param },
      el('option', { value: '', text: t(f.all), selected: !chosen[f.param] }),
      values.map((o) => el('option', { value: o.value, text: o.text, selected: o.value === chosen[f.param] })));
  });
  const form = el('form', { class: 'row', id: 'filter-form', 'aria-label': t('metricFilters') },
    FILTERS.map((f, i) => el('label', { for: f.id }, t(f.label), selects[i])),
    el('button', { type: 'submit', id: 'filter-apply', text: t('applyFilters') }));
  if (FILTERS.some((f) => chosen[f.param])) {
    form.append(el('button', { type: 'button', id: 'filter-clear', class: 'link', text: t('clearFilters'),
      onclick: () => go(Object.fromEntries(FILTERS.map((f) => [f.param, '']))) }));
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(Object.fromEntries(FILTERS.map((f, i) => [f.param, selects[i].value])));
  });
  return form;
}

async function panelPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const period = PERIODS.includes(params.get('periodo')) ? params.get('periodo') : 'este-mes';
  show(el('h1', { text: t('panel') }), el('p', { text: t('loading') }));
  const zone = METRICS_ZONE;
  const range = periodRange(period, params, zone);
  const picker = el('select', { id: 'period', name: 'period' },
    PERIODS.map((p) => el('option', { value: p, selected: p === period, text: t(PERIOD_NAMES[p]) })));
  // The filters chosen (from the address); a change of period keeps them, a change of filters keeps the period.
  const chosen = Object.fromEntries(FILTERS.map((f) => [f.param, params.get(f.param) || '']));
  const filtered = FILTERS.filter((f) => chosen[f.param]);
  const go = (query) => {
    const next = new URLSearchParams();
    const merged = Object.assign({ periodo: period, de: params.get('de') || '', ate: params.get('ate') || '' }, chosen, query);
    if (merged.periodo !== 'personalizado') { delete merged.de; delete merged.ate; }
    for (const [key, value] of Object.entries(merged)) if (value) next.set(key, value);
    location.hash = '#/painel?' + next.toString();
  };
  picker.addEventListener('change', () => {
    if (picker.value !== 'personalizado') return go({ periodo: picker.value });
    // Start from the period on screen, so only what changes needs typing.
    const shown = range || periodRange('este-mes', params, zone);
    go({ periodo: 'personalizado', de: shown.fromDay, ate: shown.lastDay });
  });
  const form = el('form', { class: 'row', id: 'period-form' }, el('label', {}, t('period'), picker));
  if (period === 'personalizado') {
    const from = el('input', { type: 'date', id: 'period-from', name: 'de', required: true, value: params.get('de') || '' });
    const to = el('input', { type: 'date', id: 'period-to', name: 'ate', required: true, value: params.get('ate') || '' });
    form.append(el('label', {}, t('fromDay'), from), el('label', {}, t('toDay'), to),
      el('button', { type: 'submit', id: 'period-apply', text: t('applyPeriod') }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      go({ periodo: 'personalizado', de: from.value, ate: to.value });
    });
  } else {
    form.addEventListener('submit', (event) => event.preventDefault());
  }
  const head = [el('h1', { text: t('panel') }), form];
  if (!range) return show(...head, el('p', { class: 'error', id: 'period-error', role: 'alert', text: t('badPeriod') }));
  // The period's tickets (matching the filters) as CSV.
  const filterQuery = filtered.map((f) => `&${f.api}=${encodeURIComponent(chosen[f.param])}`).join('');
  head.push(el('p', {}, el('a', { id: 'export-csv', download: `ocorrencias-${range.fromDay}-${range.lastDay}.csv`,
    href: `/v1/reports/metrics.csv?from_ms=${range.fromMs}&to_ms=${range.toMs}${filterQuery}`, text: t('exportCsv') })));
  show(...head, el('p', { text: t('loading') }));
  const periodQuery = `from_day=${range.fromDay}&to_day=${range.toDay}`;
  // Survey answers: by category without a filter; with one filter, that dimension's row.
  const surveyBy = filtered.length === 0 ? 'category' : filtered.length === 1 ? filtered[0].surveyBy : null;
  const [counts, metrics, surveys, groups, agents, everything] = await Promise.all([
    api('GET', `/v1/tickets/counts?${filtered.map((f) => `${f.counts}=${encodeURIComponent(chosen[f.param])}`).join('&')}`).catch((error) => error),
    api('GET', `/v1/reports/metrics?${periodQuery}${filterQuery}`).catch((error) => error),
    surveyBy ? api('GET', `/v1/surveys/results?group_by=${surveyBy}&from_ms=${range.fromMs}&to_ms=${range.toMs}`).catch(() => null) : null,
    api('GET', '/v1/groups?include_inactive=true').catch(() => null),
    api('GET', '/v1/agents?include_inactive=true').catch(() => null),
    // The products to choose from: those of the period's tickets (the unfiltered report's).
    filtered.length ? api('GET', `/v1/reports/metrics?${periodQuery}`).catch(() => null) : null,
  ]);
  // Names for the keys workflow reports: stages as workflow names them, groups by id.
  const rowStage = (row) => stageName(row, row.stage);
  const groupNames = {};
  ((groups && groups.groups) || []).forEach((g) => { groupNames[g.id] = g.name; });
  const groupName = (id) => (id ? groupNames[id] || id : t('noGroup'));
  const byName = (a, b) => a.text.localeCompare(b.text, locale());
  const productSource = filtered.length ? everything : (metrics instanceof Error ? null : metrics);
  const options = {
    group: ((groups && groups.groups) || []).map((g) => ({ value: g.id, text: g.name || g.id })).sort(byName),
    product: ((productSource && productSource.by_product) || []).filter((r) => r.key).map((r) => ({ value: r.key, text: r.key })).sort(byName),
    agent: ((agents && agents.agents) || []).map((a) => ({ value: a.id, text: a.name || a.id })).sort(byName),
  };
  const filterNames = { group: groupName, product: (v) => v, agent: (id) => (options.agent.find((o) => o.value === id) || { text: id }).text };
  const parts = head.slice();
  parts.splice(2, 0, filterForm(chosen, options, go));
  // Tickets by stage: now, whatever the period.
  if (counts instanceof Error) {
    parts.push(el('h2', { text: t('byStage') }), errorBox(counts));
  } else {
    const rows = (counts.counts || []).map((c) => ({ label: stageName(c, c.stage), value: Number(c.count) }));
    parts.push(countSection('stage-chart', t('byStage'), t('byStage'), rows));
  }
  if (metrics instanceof Error) {
    // The gateway's reason, when it gave one (an answer without one carries only its status).
    const reason = metrics instanceof ApiError && metrics.message !== String(metrics.status) ? sentence(metrics.message) : '';
    parts.push(el('h2', { text: t('summary') }), el('p', { class: 'muted', id: 'metrics-unavailable', text: [t('unavailable'), reason].filter(Boolean).join(' ') }));
    return show(...parts);
  }
  const totals = metrics.totals || {};
  // Satisfaction: the score distribution of the period's answers (summed over categories, or the
  // filtered dimension's row).
  const distribution = [0, 0, 0, 0, 0];
  const surveyRows = ((surveys && surveys.rows) || []).filter((row) => filtered.length !== 1 || row.key === chosen[filtered[0].param]);
  surveyRows.forEach((row) => (row.distribution || []).forEach((n, i) => { if (i < 5) distribution[i] += Number(n); }));
  const answered = distribution.reduce((a, b) => a + b, 0);
  const average = answered ? distribution.reduce((sum, n, i) => sum + n * (i + 1), 0) / answered : Number(totals.avg_survey_score || 0);
  const filterTitle = filtered.map((f) => `${t(f.label)}: ${filterNames[f.api](chosen[f.param])}`).join(' · ');
  parts.push(el('h2', { id: 'summary-heading', text: [t('summary'), periodTitle(period, range)].concat(filterTitle ? [filterTitle] : []).join(' · ') }));
  // Below administrator workflow counts only the tickets the viewer may see, read as a filtered
  // report reads them (the tickets opened in the period, as they are now), filter or not.
  const visibleOnly = filtered.length > 0 || !isAdministrator();
  if (filtered.length) parts.push(el('p', { class: 'muted', id: 'filter-note', text: t('filteredNote') }));
  else if (visibleOnly) parts.push(el('p', { class: 'muted', id: 'level-note', text: t('levelNote') }));
  parts.push(summaryCards(totals, surveys && !filtered.length ? answered : null));
  // Workflow's counters (MetricsRecorder): an opening follows a corrected classification, a first
  // response or resolution stays with the category of its moment, a transfer leaves the opening
  // with its first group; filtered reports (the cohort counters) read every ticket as it is now.
  const basis = (key) => t(filtered.length ? 'basisFiltered' : visibleOnly ? 'basisVisible' : key);
  parts.push(outcomeSection(metrics.by_outcome, basis('basisFinishedDay')));
  parts.push(responseTimesSection(metrics, basis('basisEventCategory')));
  parts.push(countSection('category-chart', t('errorTypes'), t('errorTypesDesc'), breakdownRows(metrics.by_category, categoryName),
    basis('basisClassification')));
  parts.push(countSection('module-chart', t('topModules'), t('topModulesDesc'),
    breakdownRows(metrics.by_module, (key) => key || t('noModule'), 10), basis('basisClassification')));
  parts.push(countSection('product-chart', t('topProducts'), t('topProductsDesc'),
    breakdownRows(metrics.by_product, (key) => key || t('noProduct'), 10), basis('basisClassification')));
  parts.push(countSection('group-chart', t('byGroup'), t('byGroupDesc'), breakdownRows(metrics.by_group, groupName), basis('basisGroup')));
  parts.push(stageTimeSection(metrics.stage_time, rowStage));
  parts.push(backlogSection(metrics.backlog, rowStage));
  if (surveyBy) parts.push(satisfactionSection(distribution, average));
  else parts.push(chartSection('satisfaction-chart', t('satisfaction'), el('p', { class: 'muted', text: t('noDistribution') }), null));
  show(...parts);
}

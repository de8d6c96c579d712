'use strict';
// The deadlines page (#/prazos): workflow's time configuration. Business calendars (time zone,
// working hours per weekday in any number of intervals, holidays), the SLA policies per contract
// plan × priority (first response, next response and resolution in business hours and minutes,
// on a calendar) and the inactivity policies (a ticket waiting on the customer gets a reminder,
// then moves on after N days), from a shipped preset or from scratch. Administrators (or holders
// of the sla.configure permission, as workflow checks) change them; chefes read them, since
// workflow lets all staff read these (agents keep to their queue). Workflow checks every save and
// refuses it whole: its per-field reasons show beside the form and nothing is stored.
// A calendar is deleted only when no policy uses it (workflow refuses otherwise, naming them);
// the default calendar is edited, never deleted.
// Loaded after portal.js and team.js and built from their helpers (el, api, show, t, tf, label,
// errorBox, rowsTable, PRIORITIES, isAdministrator); its link and path are added with addPage.

Object.assign(TEXT['pt-BR'], {
  deadlineTitle: 'Prazos', deadlineIntro: 'Horário de atendimento, metas de SLA e encerramento por inatividade, como valem para as ocorrências. Salvar um calendário ou uma política de SLA recalcula os prazos das ocorrências abertas.',
  deadlineReadOnly: 'Somente leitura: apenas administradores alteram os prazos.',
  deadlineCalendars: 'Calendários (horário de atendimento)', deadlineCalendarsIntro: 'Os prazos de SLA contam só o tempo dentro destes horários; os feriados não contam. Um calendário em uso por uma política não é excluído; o padrão é editado, nunca excluído.',
  deadlineTimeZone: 'Fuso horário', deadlineWeekly: 'Horário por dia da semana', deadlineWorkingHours: 'Horário', deadlineHolidays: 'Feriados',
  deadlineNationalHolidays: 'Feriados nacionais são folga', deadlineNational: 'nacionais', deadlineWorkingDays: 'Feriados nacionais trabalhados',
  deadlineClosed: 'Fechado', deadlineFrom: 'Início', deadlineTo: 'Fim', deadlineAddInterval: 'Adicionar intervalo',
  deadlineIntervalStart: 'Início do intervalo {n} de {day}', deadlineIntervalEnd: 'Fim do intervalo {n} de {day}', deadlineRemoveInterval: 'Remover o intervalo {n} de {day}',
  deadlineClockHint: 'Horas no formato 08:00; um turno até a meia-noite termina em 24:00.',
  deadlineCopyMonday: 'Copiar o horário de segunda para terça a sexta', deadlineAddHoliday: 'Adicionar feriado', deadlineAddWorkingDay: 'Adicionar dia trabalhado',
  deadlineDate: 'Data', deadlineHolidayName: 'Nome do feriado', deadlineRemoveDate: 'Remover {day}',
  deadlineNewCalendar: 'Novo calendário', deadlineEditCalendar: 'Editar o calendário {name}', deadlineSaveCalendar: 'Salvar calendário',
  deadlineCalendarSaved: 'Calendário {name} salvo.', deadlineNoCalendars: 'Nenhum calendário.', deadlineCalendarDeleted: 'Calendário {name} excluído.',
  deadlineConfirmCalendarDelete: 'Excluir o calendário {name}?',
  deadlineEdit: 'Editar', deadlineEditOf: 'Editar {name}', deadlineDelete: 'Excluir', deadlineDeleteOf: 'Excluir {name}', deadlineCancelEdit: 'Cancelar edição',
  deadlineRecomputed: '{count} ocorrência(s) aberta(s) recalculada(s).', deadlineQueued: '{count} recalculada(s) em segundo plano.',
  deadlineDefaultCalendar: '(calendário padrão)', deadlineCalendar: 'Calendário',
  deadlineSLA: 'Metas de SLA', deadlineSLAIntro: 'Por plano de contrato e prioridade, em tempo útil do calendário. Vale a política mais específica (plano e prioridade; depois só o plano; depois só a prioridade; depois * e qualquer); sem política, as metas embutidas: Urgente 30 min / 1 h / 8 h, Alta 1 h / 2 h / 16 h, Normal 4 h / 4 h / 40 h, Baixa 8 h / 8 h / 80 h.',
  deadlinePlanHint: 'Código do plano de contrato da organização, ou * para todos os planos.',
  deadlineFirstResponse: 'Primeira resposta', deadlineNextResponse: 'Próxima resposta', deadlineResolution: 'Resolução',
  deadlineHoursPart: 'Horas', deadlineMinutesPart: 'Minutos', deadlineNoTarget: 'sem meta', deadlineTargetsHint: 'Zero horas e zero minutos: sem meta.',
  deadlineWarning: 'Aviso com (% da meta)', deadlinePauseStages: 'Etapas que pausam o relógio',
  deadlinePauseHint: 'Aguardando cliente, Pendente e Validação cliente sempre pausam.', deadlineAllPlans: 'todos',
  deadlineNewSLA: 'Nova política de SLA', deadlineEditSLA: 'Editar a política {plan} · {priority}', deadlineSaveSLA: 'Salvar política de SLA',
  deadlineSLASaved: 'Política de SLA {plan} · {priority} salva.', deadlineSLADeleted: 'Política de SLA {plan} · {priority} excluída.',
  deadlineConfirmSLADelete: 'Excluir a política {plan} · {priority}? As ocorrências passam à próxima política que se aplica.',
  deadlineNoSLA: 'Nenhuma política salva: valem as metas embutidas.',
  deadlineInactivity: 'Inatividade (aguardando o cliente)', deadlineInactivityIntro: 'Enquanto a ocorrência está na etapa sem resposta do cliente: lembrete alguns dias antes e, ao fim do prazo, ela passa à etapa de destino (por exemplo, finalizada por inatividade). Uma resposta do cliente cancela a contagem. Uma política ativa por etapa: ativar uma desativa a anterior da mesma etapa.',
  deadlinePolicyId: 'Identificador', deadlineDays: 'Dias', deadlineBusinessDays: 'Contar dias úteis (do calendário)', deadlineTerm: 'Prazo',
  deadlineCalendarDaysValue: '{days} dia(s) corridos', deadlineBusinessDaysValue: '{days} dia(s) úteis',
  deadlineReminder: 'Lembrete (dias antes; 0 = sem lembrete)', deadlineReminderShort: 'Lembrete', deadlineReminderValue: '{days} dia(s) antes', deadlineNoReminder: 'sem lembrete',
  deadlineToStage: 'Etapa de destino', deadlineOutcome: 'Desfecho', deadlineNoOutcome: '(nenhum: a etapa de destino não conclui)', deadlineActive: 'Ativa', deadlineInactive: 'Inativa', deadlineActiveLabel: 'Ativa (substitui a política ativa da etapa)',
  deadlinePreset: 'Modelo', deadlineFromPreset: 'Criar a partir de um modelo', deadlineInstallPreset: 'Instalar modelo',
  deadlinePresetPadrao: 'Padrão: 10 dias em Aguardando cliente → Finalizado por inatividade, lembrete 2 dias antes',
  deadlinePresetTotvs: 'TOTVS: Pendente 7 dias → Validação cliente 5 dias → Fechado; Resolvido → Fechado em 5 dias',
  deadlineConfirmPreset: 'Instalar o modelo substitui todas as políticas de inatividade atuais. Continuar?', deadlinePresetInstalled: 'Modelo {preset} instalado.',
  deadlineNewInactivity: 'Nova política de inatividade', deadlineEditInactivity: 'Editar a política {id}', deadlineSaveInactivity: 'Salvar política de inatividade',
  deadlineInactivitySaved: 'Política de inatividade {id} salva.', deadlineInactivityDeleted: 'Política de inatividade {id} excluída.',
  deadlineConfirmInactivityDelete: 'Excluir a política de inatividade {id}?', deadlineNoInactivity: 'Nenhuma política: nenhuma ocorrência é encerrada por inatividade.',
});
Object.assign(TEXT.en, {
  deadlineTitle: 'Deadlines', deadlineIntro: 'Business hours, SLA targets and closing after inactivity, as they apply to tickets. Saving a calendar or an SLA policy recomputes the deadlines of open tickets.',
  deadlineReadOnly: 'Read only: only administrators change the deadlines.',
  deadlineCalendars: 'Calendars (business hours)', deadlineCalendarsIntro: 'SLA deadlines count only the time within these hours; holidays do not count. A calendar a policy uses is not deleted; the default one is edited, never deleted.',
  deadlineTimeZone: 'Time zone', deadlineWeekly: 'Hours per weekday', deadlineWorkingHours: 'Hours', deadlineHolidays: 'Holidays',
  deadlineNationalHolidays: 'National holidays are days off', deadlineNational: 'national', deadlineWorkingDays: 'National holidays worked',
  deadlineClosed: 'Closed', deadlineFrom: 'Start', deadlineTo: 'End', deadlineAddInterval: 'Add an interval',
  deadlineIntervalStart: 'Start of interval {n} on {day}', deadlineIntervalEnd: 'End of interval {n} on {day}', deadlineRemoveInterval: 'Remove interval {n} on {day}',
  deadlineClockHint: 'Times as 08:00; a shift up to midnight ends at 24:00.',
  deadlineCopyMonday: 'Copy Monday\'s hours to Tuesday–Friday', deadlineAddHoliday: 'Add a holiday', deadlineAddWorkingDay: 'Add a day worked',
  deadlineDate: 'Date', deadlineHolidayName: 'Holiday name', deadlineRemoveDate: 'Remove {day}',
  deadlineNewCalendar: 'New calendar', deadlineEditCalendar: 'Edit calendar {name}', deadlineSaveCalendar: 'Save calendar',
  deadlineCalendarSaved: 'Calendar {name} saved.', deadlineNoCalendars: 'No calendars.', deadlineCalendarDeleted: 'Calendar {name} deleted.',
  deadlineConfirmCalendarDelete: 'Delete calendar {name}?',
  deadlineEdit: 'Edit', deadlineEditOf: 'Edit {name}', deadlineDelete: 'Delete', deadlineDeleteOf: 'Delete {name}', deadlineCancelEdit: 'Cancel editing',
  deadlineRecomputed: '{count} open ticket(s) recomputed.', deadlineQueued: '{count} being recomputed in the background.',
  deadlineDefaultCalendar: '(default calendar)', deadlineCalendar: 'Calendar',
  deadlineSLA: 'SLA targets', deadlineSLAIntro: 'Per contract plan and priority, in the calendar\'s business time. The most specific policy applies (plan and priority; then the plan alone; then the priority alone; then * and any); with none, the built-in targets: Urgent 30 min / 1 h / 8 h, High 1 h / 2 h / 16 h, Normal 4 h / 4 h / 40 h, Low 8 h / 8 h / 80 h.',
  deadlinePlanHint: 'The organization\'s contract plan code, or * for every plan.',
  deadlineFirstResponse: 'First response', deadlineNextResponse: 'Next response', deadlineResolution: 'Resolution',
  deadlineHoursPart: 'Hours', deadlineMinutesPart: 'Minutes', deadlineNoTarget: 'no target', deadlineTargetsHint: 'Zero hours and zero minutes: no target.',
  deadlineWarning: 'Warning at (% of the target)', deadlinePauseStages: 'Stages that pause the clock',
  deadlinePauseHint: 'Waiting on the customer, Pending and Customer validation always pause.', deadlineAllPlans: 'all',
  deadlineNewSLA: 'New SLA policy', deadlineEditSLA: 'Edit policy {plan} · {priority}', deadlineSaveSLA: 'Save SLA policy',
  deadlineSLASaved: 'SLA policy {plan} · {priority} saved.', deadlineSLADeleted: 'SLA policy {plan} · {priority} deleted.',
  deadlineConfirmSLADelete: 'Delete policy {plan} · {priority}? Its tickets move to the next policy that applies.',
  deadlineNoSLA: 'No policy saved: the built-in targets apply.',
  deadlineInactivity: 'Inactivity (waiting on the customer)', deadlineInactivityIntro: 'While a ticket sits in the stage with no reply from the customer: a reminder some days before and, at the end of the term, it moves to the target stage (for example, finished for inactivity). A reply from the customer cancels the countdown. One active policy per stage: activating one deactivates the stage\'s previous one.',
  deadlinePolicyId: 'Identifier', deadlineDays: 'Days', deadlineBusinessDays: 'Count business days (of the calendar)', deadlineTerm: 'Term',
  deadlineCalendarDaysValue: '{days} calendar day(s)', deadlineBusinessDaysValue: '{days} business day(s)',
  deadlineReminder: 'Reminder (days before; 0 = none)', deadlineReminderShort: 'Reminder', deadlineReminderValue: '{days} day(s) before', deadlineNoReminder: 'no reminder',
  deadlineToStage: 'Target stage', deadlineOutcome: 'Outcome', deadlineNoOutcome: '(none: the target stage does not finish)', deadlineActive: 'Active', deadlineInactive: 'Inactive', deadlineActiveLabel: 'Active (replaces the stage\'s active policy)',
  deadlinePreset: 'Preset', deadlineFromPreset: 'Create from a preset', deadlineInstallPreset: 'Install preset',
  deadlinePresetPadrao: 'Default: 10 days Waiting on the customer → Finished for inactivity, reminder 2 days before',
  deadlinePresetTotvs: 'TOTVS: Pending 7 days → Customer validation 5 days → Closed; Resolved → Closed after 5 days',
  deadlineConfirmPreset: 'Installing the preset replaces every current inactivity policy. Go on?', deadlinePresetInstalled: 'Preset {preset} installed.',
  deadlineNewInactivity: 'New inactivity policy', deadlineEditInactivity: 'Edit policy {id}', deadlineSaveInactivity: 'Save inactivity policy',
  deadlineInactivitySaved: 'Inactivity policy {id} saved.', deadlineInactivityDeleted: 'Inactivity policy {id} deleted.',
  deadlineConfirmInactivityDelete: 'Delete inactivity policy {id}?', deadlineNoInactivity: 'No policy: no ticket is closed for inactivity.',
});

// Weekdays as workflow numbers them (0 = Sunday), listed from Monday.
const DEADLINE_WEEKDAYS = { 0: ['Domingo', 'Sunday'], 1: ['Segunda', 'Monday'], 2: ['Terça', 'Tuesday'], 3: ['Quarta', 'Wednesday'],
  4: ['Quinta', 'Thursday'], 5: ['Sexta', 'Friday'], 6: ['Sábado', 'Saturday'] };
const DEADLINE_WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];
// The shipped flows' stages (padrao and totvs), offered as suggestions; any stage code is accepted.
const DEADLINE_STAGES = SHIPPED_STAGES;
const DEADLINE_FINAL_STAGES = ['finalizado', 'fechado', 'cancelado'];
const DEADLINE_PRESETS = { padrao: 'deadlinePresetPadrao', totvs: 'deadlinePresetTotvs' };
// "HH:MM" from 00:00 to 24:00 (workflow's intervals end at most at midnight, minute 1440).
const DEADLINE_CLOCK_PATTERN = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';

// Who changes the configuration: what workflow's PutCalendar and Put*Policy require.
const deadlineCanConfigure = () => isAdministrator() || (!isCustomer() && !!me && (me.principal.permissions || []).includes('sla.configure'));
// Who sees the page: those who change it, and chefes (read only).
const deadlineVisible = () => deadlineCanConfigure() || (!isCustomer() && !!me && !!me.principal.chefe);

const deadlineStageName = (code) => (DEADLINE_STAGES[code] ? label(DEADLINE_STAGES, code) : code);
const deadlinePriorityName = (priority) => (PRIORITIES[priority] ? label(PRIORITIES, priority) : t('anyValue'));
const deadlinePlanName = (plan) => (!plan || plan === '*' ? `* (${t('deadlineAllPlans')})` : plan);
// Minutes from midnight as "HH:MM", and back (the pattern above has checked the text).
const deadlineClock = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const deadlineMinutes = (text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

// A target in business minutes as hours and minutes ("1 h 30 min"); 0 is no target.
function deadlineDuration(minutes) {
  const total = Number(minutes || 0);
  if (!total) return t('deadlineNoTarget');
  const hours = Math.floor(total / 60), rest = total % 60;
  return [hours ? `${hours} h` : '', rest ? `${rest} min` : ''].filter(Boolean).join(' ');
}

// A "YYYY-MM-DD" day in the page's language.
const deadlineDay = (day) => new Date(`${day}T12:00:00`).toLocaleDateString(lang === 'en' ? 'en-GB' : 'pt-BR');

// The weekly hours in short: consecutive days with the same intervals together ("Segunda–Sexta 08:00–12:00, 13:00–18:00").
function deadlineWeekSummary(weekly) {
  const text = (weekday) => {
    const hours = (weekly || []).find((h) => Number(h.weekday || 0) === weekday);
    return ((hours && hours.intervals) || []).map((i) => `${deadlineClock(Number(i.start_minute || 0))}–${deadlineClock(Number(i.end_minute || 0))}`).join(', ');
  };
  const runs = [];
  for (const weekday of DEADLINE_WEEK_ORDER) {
    const hours = text(weekday);
    const last = runs[runs.length - 1];
    if (last && last.hours === hours) last.to = weekday; else runs.push({ from: weekday, to: weekday, hours });
  }
  return runs.filter((run) => run.hours).map((run) => {
    const days = run.from === run.to ? label(DEADLINE_WEEKDAYS, run.from) : `${label(DEADLINE_WEEKDAYS, run.from)}–${label(DEADLINE_WEEKDAYS, run.to)}`;
    return `${days} ${run.hours}`;
  }).join('; ') || t('deadlineClosed');
}

// What a save or delete recomputed, for the notice.
function deadlineRecomputedText(answer) {
  const recomputed = Number(answer.tickets_recomputed || 0), queued = Number(answer.tickets_queued || 0);
  return [recomputed ? tf('deadlineRecomputed', { count: recomputed }) : '', queued ? tf('deadlineQueued', { count: queued }) : ''].filter(Boolean).join(' ');
}

// A readable id from a name (accents and punctuation dropped), not one of `taken`.
function deadlineNewId(name, taken, fallback) {
  const slug = keyFromName(name, '-', 48) || fallback;
  let id = slug;
  for (let n = 2; taken.includes(id); n += 1) id = `${slug}-${n}`;
  return id;
}

// Runs a save; on success draws the page again with the notice `done(answer)`, on refusal shows
// workflow's reasons in `status` (beside the form, which keeps what was typed, or the list), the
// button's form's fields named by their labels and marked (formRefused).
async function deadlineSave(status, button, work, done) {
  if (button) button.disabled = true;
  status.replaceChildren();
  try {
    const answer = await work();
    deadlinePage(done(answer || {}));
  } catch (error) {
    if (button && button.form) formRefused(button.form, status, error); else status.replaceChildren(errorBox(error));
    if (button) button.disabled = false;
  }
}

async function deadlinePage(notice) {
  show(el('h1', { text: t('deadlineTitle') }), el('p', { text: t('loading') }));
  let calendars, sla, inactivity;
  try {
    [calendars, sla, inactivity] = await Promise.all([api('GET', '/v1/calendars'), api('GET', '/v1/sla-policies'), api('GET', '/v1/inactivity-policies')]);
  } catch (error) { show(el('h1', { text: t('deadlineTitle') }), errorBox(error)); return; }
  const state = { calendars: calendars.calendars || [], sla: sla.policies || [], inactivity: inactivity.policies || [], editable: deadlineCanConfigure() };
  state.calendarName = (id) => {
    const found = state.calendars.find((c) => c.id === (id || 'padrao'));
    return id ? (found ? found.name || found.id : id) : t('deadlineDefaultCalendar');
  };
  const status = el('div', { id: 'deadline-status', role: 'status' });
  if (notice) status.append(el('p', { class: 'ok', text: notice }));
  const stageCodes = new Set(Object.keys(DEADLINE_STAGES));
  for (const policy of state.inactivity) { stageCodes.add(policy.stage); stageCodes.add(policy.to_stage); }
  for (const policy of state.sla) for (const stage of policy.pause_stages || []) stageCodes.add(stage);
  state.stages = Array.from(stageCodes).filter(Boolean);
  const lists = el('div', { hidden: true },
    el('datalist', { id: 'deadline-stage-list' }, state.stages.map((code) => el('option', { value: code, label: deadlineStageName(code) }))),
    el('datalist', { id: 'deadline-zone-list' }, (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : ['America/Sao_Paulo'])
      .map((zone) => el('option', { value: zone }))));
  show(el('h1', { text: t('deadlineTitle') }), el('p', { class: 'muted', text: t('deadlineIntro') }),
    state.editable ? null : el('p', { class: 'muted', id: 'deadline-read-only', text: t('deadlineReadOnly') }), status, lists,
    ...deadlineCalendarSection(state), ...deadlineSLASection(state), ...deadlineInactivitySection(state));
}

// A section's form slot: the form for a new item, replaced by the form editing one on "Editar".
function deadlineFormSlot(state, makeForm) {
  const slot = el('div', {});
  const open = (item) => {
    slot.replaceChildren(makeForm(item, () => open(null)));
    if (item) {
      slot.scrollIntoView({ block: 'start' });
      const first = slot.querySelector('input:not([readonly]):not([disabled]), select:not([disabled])');
      if (first) first.focus();
    }
  };
  if (state.editable) open(null);
  return { slot, open };
}

// The buttons of a row: edit, and delete when `remove` is given.
function deadlineRowActions(name, edit, remove) {
  return el('td', { class: 'actions' },
    el('button', { type: 'button', class: 'link deadline-edit', 'aria-label': tf('deadlineEditOf', { name }), text: t('deadlineEdit'), onclick: edit }),
    remove ? ' ' : null,
    remove ? el('button', { type: 'button', class: 'link deadline-delete', 'aria-label': tf('deadlineDeleteOf', { name }), text: t('deadlineDelete'), onclick: remove }) : null);
}

// The form's title, its status (workflow's refusals) and the submit and cancel buttons.
function deadlineFormFrame(id, title, fields, submitText, editing, cancel) {
  const status = el('div', { id: `${id}-status`, role: 'status' });
  const submit = el('button', { type: 'submit', id: `${id}-submit`, text: submitText });
  const form = el('form', { id, 'aria-labelledby': `${id}-title` },
    el('h3', { id: `${id}-title`, text: title }), ...fields, status,
    el('p', { class: 'row' }, submit, editing ? el('button', { type: 'button', class: 'secondary', id: `${id}-cancel`, text: t('deadlineCancelEdit'), onclick: cancel }) : null));
  return { form, status, submit };
}

// ---------------------------------------------------------------- calendars

function deadlineCalendarSection(state) {
  const { slot, open } = deadlineFormSlot(state, (calendar, cancel) => deadlineCalendarForm(state, calendar, cancel));
  const status = el('div', { id: 'deadline-calendars-status', role: 'status' });
  const rows = state.calendars.map((calendar) => {
    const name = calendar.name || calendar.id;
    // Workflow refuses deleting a calendar in use, naming the policies (shown in `status`).
    const remove = calendar.id === 'padrao' ? null : () => {
      if (!confirm(tf('deadlineConfirmCalendarDelete', { name }))) return;
      deadlineSave(status, null, () => api('DELETE', `/v1/calendars/${encodeURIComponent(calendar.id)}`), () => tf('deadlineCalendarDeleted', { name }));
    };
    const holidays = (calendar.extra_holidays || []).map((d) => `${deadlineDay(d.day)} ${d.name || ''}`.trim());
    if (calendar.national_holidays) holidays.unshift(t('deadlineNational'));
    return el('tr', { 'data-calendar': calendar.id },
      el('td', {}, name, ' ', el('span', { class: 'muted', text: `(${calendar.id})` })), el('td', { text: calendar.time_zone || '' }),
      el('td', { class: 'deadline-week', text: deadlineWeekSummary(calendar.weekly) }), el('td', { class: 'deadline-holidays', text: holidays.join('; ') }),
      state.editable ? deadlineRowActions(name, () => open(calendar), remove) : null);
  });
  const headers = [t('name'), t('deadlineTimeZone'), t('deadlineWorkingHours'), t('deadlineHolidays')].concat(state.editable ? [t('actions')] : []);
  return [el('h2', { id: 'deadline-calendars-title', text: t('deadlineCalendars') }), el('p', { class: 'muted', text: t('deadlineCalendarsIntro') }), status,
    rowsTable('deadline-calendars', headers, rows, 'deadline-calendars-empty', t('deadlineNoCalendars')), slot];
}

// One working interval of a weekday: start and end as "HH:MM", and a button removing it.
function deadlineAddInterval(list, weekday, interval) {
  const clock = (cls, value, placeholder) => el('input', { class: cls, value, required: true, pattern: DEADLINE_CLOCK_PATTERN, size: 5, maxlength: 5,
    inputmode: 'numeric', placeholder, autocomplete: 'off', 'aria-describedby': 'deadline-clock-hint' });
  const start = clock('deadline-start', interval ? deadlineClock(Number(interval.start_minute || 0)) : '', '08:00');
  const end = clock('deadline-end', interval ? deadlineClock(Number(interval.end_minute || 0)) : '', '18:00');
  const row = el('span', { class: 'row deadline-interval' }, el('label', {}, t('deadlineFrom'), start), el('label', {}, t('deadlineTo'), end),
    el('button', { type: 'button', class: 'link deadline-remove-interval', text: '×', onclick: () => { row.remove(); deadlineNumberIntervals(list, weekday); } }));
  list.append(row);
  deadlineNumberIntervals(list, weekday);
  return row;
}

// Names each interval of a day for screen readers ("Início do intervalo 2 de Segunda"), and says
// "Fechado" on a day without any.
function deadlineNumberIntervals(list, weekday) {
  const day = label(DEADLINE_WEEKDAYS, weekday);
  const rows = Array.from(list.querySelectorAll('.deadline-interval'));
  rows.forEach((row, index) => {
    const n = index + 1;
    row.querySelector('.deadline-start').setAttribute('aria-label', tf('deadlineIntervalStart', { n, day }));
    row.querySelector('.deadline-end').setAttribute('aria-label', tf('deadlineIntervalEnd', { n, day }));
    row.querySelector('.deadline-remove-interval').setAttribute('aria-label', tf('deadlineRemoveInterval', { n, day }));
  });
  const closed = list.querySelector('.deadline-closed');
  if (!rows.length && !closed) list.append(el('span', { class: 'muted deadline-closed', text: t('deadlineClosed') }));
  if (rows.length && closed) closed.remove();
}

// A list of dates (holidays with a name, or national holidays worked), each removable.
function deadlineDateList(id, legend, addText, dates, named) {
  const list = el('ul', { class: 'deadline-dates', id });
  const add = (date) => {
    const day = el('input', { type: 'date', class: 'deadline-date', required: true, value: date ? date.day : '' });
    const name = named ? el('input', { class: 'deadline-date-name', maxlength: 120, value: date ? date.name || '' : '', autocomplete: 'off' }) : null;
    const remove = el('button', { type: 'button', class: 'link deadline-remove-date', text: t('remove'),
      'aria-label': tf('deadlineRemoveDate', { day: date ? date.day : '' }), onclick: () => item.remove() });
    day.addEventListener('change', () => remove.setAttribute('aria-label', tf('deadlineRemoveDate', { day: day.value })));
    const item = el('li', { class: 'row' }, el('label', {}, t('deadlineDate'), day), named ? el('label', {}, t('deadlineHolidayName'), name) : null, remove);
    list.append(item);
    return item;
  };
  for (const date of dates) add(date);
  const node = el('fieldset', {}, el('legend', { text: legend }), list,
    el('p', {}, el('button', { type: 'button', class: 'secondary', id: `${id}-add`, text: addText, onclick: () => add(null).querySelector('input').focus() })));
  const read = () => Array.from(list.children).map((item) => ({ day: item.querySelector('.deadline-date').value,
    name: named ? item.querySelector('.deadline-date-name').value.trim() : '' }));
  return { node, read };
}

function deadlineCalendarForm(state, calendar, cancel) {
  const editing = !!calendar;
  // A new calendar starts with Monday to Friday, 08:00–18:00.
  const spec = calendar || { time_zone: 'America/Sao_Paulo', national_holidays: true,
    weekly: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, intervals: [{ start_minute: 480, end_minute: 1080 }] })) };
  const name = el('input', { name: 'name', id: 'deadline-calendar-name', required: true, maxlength: 120, autocomplete: 'off', value: spec.name || '' });
  const zone = el('input', { name: 'time_zone', id: 'deadline-calendar-zone', required: true, list: 'deadline-zone-list', autocomplete: 'off', value: spec.time_zone || 'America/Sao_Paulo' });
  const national = el('input', { type: 'checkbox', name: 'national_holidays', id: 'deadline-calendar-national', checked: !!spec.national_holidays });
  const days = {};
  const week = el('fieldset', { id: 'deadline-weekly' }, el('legend', { text: t('deadlineWeekly') }),
    el('p', { class: 'muted', id: 'deadline-clock-hint', text: t('deadlineClockHint') }));
  for (const weekday of DEADLINE_WEEK_ORDER) {
    const list = el('span', { class: 'row deadline-intervals' });
    days[weekday] = list;
    const hours = (spec.weekly || []).find((h) => Number(h.weekday || 0) === weekday);
    for (const interval of (hours && hours.intervals) || []) deadlineAddInterval(list, weekday, interval);
    deadlineNumberIntervals(list, weekday);
    const dayName = label(DEADLINE_WEEKDAYS, weekday);
    week.append(el('div', { class: 'row deadline-day', id: `deadline-day-${weekday}` }, el('strong', { text: dayName }), list,
      el('button', { type: 'button', class: 'secondary deadline-add-interval', id: `deadline-add-interval-${weekday}`,
        'aria-label': `${t('deadlineAddInterval')} (${dayName})`, text: t('deadlineAddInterval'),
        onclick: () => deadlineAddInterval(list, weekday).querySelector('input').focus() })));
  }
  week.append(el('p', {}, el('button', { type: 'button', class: 'secondary', id: 'deadline-copy-monday', text: t('deadlineCopyMonday'), onclick: () => {
    const monday = Array.from(days[1].querySelectorAll('.deadline-interval'))
      .map((row) => ({ start: row.querySelector('.deadline-start').value, end: row.querySelector('.deadline-end').value }));
    for (const weekday of [2, 3, 4, 5]) {
      days[weekday].querySelectorAll('.deadline-interval').forEach((row) => row.remove());
      for (const interval of monday) {
        const row = deadlineAddInterval(days[weekday], weekday);
        row.querySelector('.deadline-start').value = interval.start;
        row.querySelector('.deadline-end').value = interval.end;
      }
      deadlineNumberIntervals(days[weekday], weekday);
    }
  } })));
  const holidays = deadlineDateList('deadline-holidays', t('deadlineHolidays'), t('deadlineAddHoliday'), spec.extra_holidays || [], true);
  const worked = deadlineDateList('deadline-working-days', t('deadlineWorkingDays'), t('deadlineAddWorkingDay'), spec.working_days || [], false);
  const { form, status, submit } = deadlineFormFrame('deadline-calendar-form',
    editing ? tf('deadlineEditCalendar', { name: spec.name || spec.id }) : t('deadlineNewCalendar'),
    [el('label', {}, t('name'), name), el('label', {}, t('deadlineTimeZone'), zone), week,
      el('label', { class: 'row' }, national, t('deadlineNationalHolidays')), holidays.node, worked.node],
    t('deadlineSaveCalendar'), editing, cancel);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const title = name.value.trim();
    const weekly = DEADLINE_WEEK_ORDER.map((weekday) => ({ weekday, intervals: Array.from(days[weekday].querySelectorAll('.deadline-interval'))
      .map((row) => ({ start_minute: deadlineMinutes(row.querySelector('.deadline-start').value), end_minute: deadlineMinutes(row.querySelector('.deadline-end').value) }))
      .sort((a, b) => a.start_minute - b.start_minute) })).filter((day) => day.intervals.length);
    const body = { calendar: {
      id: editing ? spec.id : deadlineNewId(title, state.calendars.map((c) => c.id), 'calendario'), name: title, time_zone: zone.value.trim(),
      national_holidays: national.checked, weekly, extra_holidays: holidays.read(), working_days: worked.read().map((d) => ({ day: d.day })) } };
    deadlineSave(status, submit, () => api('POST', '/v1/calendars', body),
      (answer) => [tf('deadlineCalendarSaved', { name: title }), deadlineRecomputedText(answer)].filter(Boolean).join(' '));
  });
  return form;
}

// ---------------------------------------------------------------- SLA policies

function deadlineSLASection(state) {
  const { slot, open } = deadlineFormSlot(state, (policy, cancel) => deadlineSLAForm(state, policy, cancel));
  const status = el('div', { id: 'deadline-sla-status', role: 'status' });
  const rows = state.sla.slice().sort((a, b) => (a.plan || '').localeCompare(b.plan || '') ||
    Object.keys(PRIORITIES).indexOf(b.priority) - Object.keys(PRIORITIES).indexOf(a.priority)).map((policy) => {
    const names = { plan: deadlinePlanName(policy.plan), priority: deadlinePriorityName(policy.priority) };
    const remove = () => {
      if (!confirm(tf('deadlineConfirmSLADelete', names))) return;
      const body = { plan: policy.plan || '*' };
      if (PRIORITIES[policy.priority]) body.priority = policy.priority;
      deadlineSave(status, null, () => api('POST', '/v1/sla-policies/delete', body),
        (answer) => [tf('deadlineSLADeleted', names), deadlineRecomputedText(answer)].filter(Boolean).join(' '));
    };
    return el('tr', { 'data-sla': `${policy.plan || '*'}|${PRIORITIES[policy.priority] ? policy.priority : ''}` },
      el('td', { text: names.plan }), el('td', { text: names.priority }),
      el('td', { class: 'deadline-first', text: deadlineDuration(policy.first_response_minutes) }),
      el('td', { class: 'deadline-next', text: deadlineDuration(policy.next_response_minutes) }),
      el('td', { class: 'deadline-resolution', text: deadlineDuration(policy.resolution_minutes) }),
      el('td', { text: `${policy.warning_percent || 80}%` }), el('td', { class: 'deadline-calendar', text: state.calendarName(policy.calendar_id) }),
      el('td', { text: (policy.pause_stages || []).map(deadlineStageName).join(', ') }),
      state.editable ? deadlineRowActions(`${names.plan} · ${names.priority}`, () => open(policy), remove) : null);
  });
  const headers = [t('plan'), t('priority'), t('deadlineFirstResponse'), t('deadlineNextResponse'), t('deadlineResolution'),
    t('deadlineWarning'), t('deadlineCalendar'), t('deadlinePauseStages')].concat(state.editable ? [t('actions')] : []);
  return [el('h2', { id: 'deadline-sla-title', text: t('deadlineSLA') }), el('p', { class: 'muted', text: t('deadlineSLAIntro') }), status,
    rowsTable('deadline-sla', headers, rows, 'deadline-sla-empty', t('deadlineNoSLA')), slot];
}

// A target typed as hours and minutes (`deadline-sla-<name>-hours` / `-minutes`); read() gives minutes.
function deadlineDurationField(name, legend, minutes) {
  const total = Number(minutes || 0);
  const hours = el('input', { type: 'number', id: `deadline-sla-${name}-hours`, min: 0, step: 1, required: true, value: Math.floor(total / 60) });
  const rest = el('input', { type: 'number', id: `deadline-sla-${name}-minutes`, min: 0, max: 59, step: 1, required: true, value: total % 60 });
  const node = el('fieldset', { class: 'row' }, el('legend', { text: legend }),
    el('label', {}, t('deadlineHoursPart'), hours), el('label', {}, t('deadlineMinutesPart'), rest));
  return { node, read: () => Number(hours.value || 0) * 60 + Number(rest.value || 0) };
}

// The calendars as choices, "" (the default calendar) first.
function deadlineCalendarChoice(state, id, chosen) {
  return el('select', { id, name: 'calendar_id' }, el('option', { value: '', text: t('deadlineDefaultCalendar') }),
    state.calendars.map((c) => el('option', { value: c.id, selected: c.id === chosen, text: c.name || c.id })));
}

function deadlineSLAForm(state, policy, cancel) {
  const editing = !!policy;
  const spec = policy || { plan: '*', warning_percent: 80, pause_stages: [] };
  // Plan and priority are the policy's key: an edit keeps them (another key is a new policy).
  const plan = el('input', { name: 'plan', id: 'deadline-sla-plan', required: true, maxlength: 64, autocomplete: 'off', value: spec.plan || '*',
    readonly: editing, 'aria-describedby': 'deadline-sla-plan-hint' });
  const priority = el('select', { name: 'priority', id: 'deadline-sla-priority', disabled: editing },
    el('option', { value: '', text: t('anyValue') }),
    Object.keys(PRIORITIES).map((key) => el('option', { value: key, selected: key === spec.priority, text: label(PRIORITIES, key) })));
  const first = deadlineDurationField('first', t('deadlineFirstResponse'), spec.first_response_minutes);
  const next = deadlineDurationField('next', t('deadlineNextResponse'), spec.next_response_minutes);
  const resolution = deadlineDurationField('resolution', t('deadlineResolution'), spec.resolution_minutes);
  const warning = el('input', { type: 'number', name: 'warning_percent', id: 'deadline-sla-warning', min: 1, max: 99, step: 1, required: true, value: spec.warning_percent || 80 });
  const calendar = deadlineCalendarChoice(state, 'deadline-sla-calendar', spec.calendar_id || '');
  const pausing = new Set(spec.pause_stages || []);
  const pauses = el('fieldset', { id: 'deadline-sla-pauses', class: 'row' }, el('legend', { text: t('deadlinePauseStages') }),
    el('p', { class: 'muted', text: t('deadlinePauseHint') }),
    state.stages.filter((code) => !DEADLINE_FINAL_STAGES.includes(code)).map((code) => el('label', { class: 'row' },
      el('input', { type: 'checkbox', class: 'deadline-pause', value: code, checked: pausing.has(code) }), deadlineStageName(code))));
  const names = { plan: deadlinePlanName(spec.plan), priority: deadlinePriorityName(spec.priority) };
  const { form, status, submit } = deadlineFormFrame('deadline-sla-form', editing ? tf('deadlineEditSLA', names) : t('deadlineNewSLA'),
    [el('label', {}, t('plan'), plan), el('p', { class: 'muted', id: 'deadline-sla-plan-hint', text: t('deadlinePlanHint') }),
      el('label', {}, t('priority'), priority), el('p', { class: 'muted', text: t('deadlineTargetsHint') }), first.node, next.node, resolution.node,
      el('label', {}, t('deadlineWarning'), warning), el('label', {}, t('deadlineCalendar'), calendar), pauses],
    t('deadlineSaveSLA'), editing, cancel);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { policy: { plan: plan.value.trim(), first_response_minutes: first.read(), next_response_minutes: next.read(),
      resolution_minutes: resolution.read(), warning_percent: Number(warning.value), calendar_id: calendar.value,
      pause_stages: Array.from(pauses.querySelectorAll('.deadline-pause:checked')).map((box) => box.value) } };
    if (priority.value) body.policy.priority = priority.value;
    const saved = { plan: deadlinePlanName(body.policy.plan), priority: deadlinePriorityName(priority.value) };
    deadlineSave(status, submit, () => api('POST', '/v1/sla-policies', body),
      (answer) => [tf('deadlineSLASaved', saved), deadlineRecomputedText(answer)].filter(Boolean).join(' '));
  });
  return form;
}

// ---------------------------------------------------------------- inactivity policies

function deadlineInactivitySection(state) {
  const { slot, open } = deadlineFormSlot(state, (policy, cancel) => deadlineInactivityForm(state, policy, cancel));
  const status = el('div', { id: 'deadline-inactivity-status', role: 'status' });
  const rows = state.inactivity.map((policy) => {
    const remove = () => {
      if (!confirm(tf('deadlineConfirmInactivityDelete', { id: policy.id }))) return;
      deadlineSave(status, null, () => api('DELETE', `/v1/inactivity-policies/${encodeURIComponent(policy.id)}`),
        () => tf('deadlineInactivityDeleted', { id: policy.id }));
    };
    const days = Number(policy.days || 0), reminder = Number(policy.reminder_days_before || 0);
    return el('tr', { 'data-inactivity': policy.id },
      el('td', {}, el('code', { text: policy.id })), el('td', { text: deadlineStageName(policy.stage) }),
      el('td', { class: 'deadline-term', text: tf(policy.business_days ? 'deadlineBusinessDaysValue' : 'deadlineCalendarDaysValue', { days }) }),
      el('td', { text: reminder ? tf('deadlineReminderValue', { days: reminder }) : t('deadlineNoReminder') }),
      el('td', { text: `${deadlineStageName(policy.to_stage)}${policy.outcome ? ` (${label(OUTCOMES, policy.outcome)})` : ''}` }),
      el('td', { text: policy.business_days ? state.calendarName(policy.calendar_id) : '' }),
      el('td', { class: 'deadline-active', text: t(policy.active ? 'deadlineActive' : 'deadlineInactive') }),
      state.editable ? deadlineRowActions(policy.id, () => open(policy), remove) : null);
  });
  const headers = [t('deadlinePolicyId'), t('stage'), t('deadlineTerm'), t('deadlineReminderShort'), t('deadlineToStage'), t('deadlineCalendar'),
    t('state')].concat(state.editable ? [t('actions')] : []);
  return [el('h2', { id: 'deadline-inactivity-title', text: t('deadlineInactivity') }), el('p', { class: 'muted', text: t('deadlineInactivityIntro') }), status,
    rowsTable('deadline-inactivity', headers, rows, 'deadline-inactivity-empty', t('deadlineNoInactivity')),
    state.editable ? deadlinePresetForm() : null, slot];
}

// Installs a shipped set of policies (workflow's InstallInactivityPreset), which replaces them all.
function deadlinePresetForm() {
  const preset = el('select', { name: 'preset', id: 'deadline-preset' },
    Object.entries(DEADLINE_PRESETS).map(([value, text]) => el('option', { value, text: t(text) })));
  const { form, status, submit } = deadlineFormFrame('deadline-preset-form', t('deadlineFromPreset'),
    [el('label', {}, t('deadlinePreset'), preset)], t('deadlineInstallPreset'), false);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!confirm(t('deadlineConfirmPreset'))) return;
    deadlineSave(status, submit, () => api('POST', '/v1/inactivity-policies/presets', { preset: preset.value }),
      () => tf('deadlinePresetInstalled', { preset: preset.value }));
  });
  return form;
}

function deadlineInactivityForm(state, policy, cancel) {
  const editing = !!policy;
  const spec = policy || { stage: 'aguardando_cliente', days: 10, reminder_days_before: 2, to_stage: 'finalizado', outcome: 'inatividade', active: true };
  const stage = el('input', { name: 'stage', id: 'deadline-inactivity-stage', required: true, list: 'deadline-stage-list', maxlength: 64, autocomplete: 'off', value: spec.stage || '' });
  const days = el('input', { type: 'number', name: 'days', id: 'deadline-inactivity-days', min: 1, step: 1, required: true, value: Number(spec.days || 0) || 1 });
  const business = el('input', { type: 'checkbox', name: 'business_days', id: 'deadline-inactivity-business', checked: !!spec.business_days });
  const reminder = el('input', { type: 'number', name: 'reminder_days_before', id: 'deadline-inactivity-reminder', min: 0, step: 1, required: true,
    value: Number(spec.reminder_days_before || 0) });
  const to = el('input', { name: 'to_stage', id: 'deadline-inactivity-to', required: true, list: 'deadline-stage-list', maxlength: 64, autocomplete: 'off', value: spec.to_stage || '' });
  // Workflow accepts a known outcome or none (INVALID_ARGUMENT policy.outcome otherwise), but not
  // resolvida_configuracao, which always carries the text saying what was configured (a timer has
  // none): a choice, named as the ticket pages name them; a policy stored before that check keeps its own value.
  const known = Object.keys(OUTCOMES).filter((key) => key !== 'resolvida_configuracao');
  const outcome = el('select', { name: 'outcome', id: 'deadline-inactivity-outcome' },
    el('option', { value: '', text: t('deadlineNoOutcome'), selected: !spec.outcome }),
    known.concat(spec.outcome && !known.includes(spec.outcome) ? [spec.outcome] : [])
      .map((key) => el('option', { value: key, selected: key === spec.outcome, text: label(OUTCOMES, key) })));
  const calendar = deadlineCalendarChoice(state, 'deadline-inactivity-calendar', spec.calendar_id || '');
  const active = el('input', { type: 'checkbox', name: 'active', id: 'deadline-inactivity-active', checked: !!spec.active });
  const { form, status, submit } = deadlineFormFrame('deadline-inactivity-form',
    editing ? tf('deadlineEditInactivity', { id: spec.id }) : t('deadlineNewInactivity'),
    [el('label', {}, t('stage'), stage), el('label', {}, t('deadlineDays'), days), el('label', { class: 'row' }, business, t('deadlineBusinessDays')),
      el('label', {}, t('deadlineCalendar'), calendar), el('label', {}, t('deadlineReminder'), reminder), el('label', {}, t('deadlineToStage'), to),
      el('label', {}, t('deadlineOutcome'), outcome), el('label', { class: 'row' }, active, t('deadlineActiveLabel'))],
    t('deadlineSaveInactivity'), editing, cancel);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = editing ? spec.id : deadlineNewId(`${stage.value.trim()}-${days.value}d`, state.inactivity.map((p) => p.id), 'inatividade');
    const body = { policy: { id, stage: stage.value.trim(), days: Number(days.value), business_days: business.checked,
      reminder_days_before: Number(reminder.value), to_stage: to.value.trim(), outcome: outcome.value, calendar_id: calendar.value, active: active.checked } };
    deadlineSave(status, submit, () => api('POST', '/v1/inactivity-policies', body), () => tf('deadlineInactivitySaved', { id }));
  });
  return form;
}

addPage({ path: '/prazos', visible: deadlineVisible, nav: { id: 'nav-deadlines', text: 'deadlineTitle' }, render: () => deadlinePage() });

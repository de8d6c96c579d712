#!/usr/bin/python3
"""Every page of the portal, as administrator, agent, customer and representative (and signed
out), in headless Chromium, in Portuguese and then in English (switched with the header's button). On each page,
with JavaScript in the page:
- every visible input, select and textarea has an accessible name (label[for], a wrapping label,
  aria-label or aria-labelledby), every visible button and link has text or aria-label, every img
  has alt;
- one visible h1, and <html lang> is "pt-BR" (then "en");
- live regions: <main> is not one (nor inside one), none holds a heading or a form, and the one
  for actions' outcomes (#announcer, polite) is outside <main>;
- no interactive element is taken out of the Tab order (tabindex=-1), and no style sheet removes
  the focus outline without putting something in its place;
- keyboard: the page's main form's primary button (else its first control) is reached with Tab
  and activated with Space and with Enter (the activation is caught before it does anything);
- in English, no Portuguese UI text is left: the page's own translation tables (every pt-BR text
  whose English differs) and a list of common words, in the visible text and in aria-label,
  title and placeholder attributes; the seeded data (PORTAL_DATA, a JSON list) is taken out first;
- escaping: the seeded names, subjects, titles and a held e-mail carry <img src=x onerror=window.__xss=1>, and
  window.__xss is never set, no <img src="x"> exists; the ticket page shows the markup as text.
The ticket page is also checked as printed (print media): its heading stays, forms are hidden.
Every problem on every page is collected and printed before failing.
Usage: every_page.py BASE_URL SCREENSHOT_DIR TICKET_ID ARTICLE_ID QUARANTINED_MAIL_ID ORGANIZATION_ID REPRESENTATIVE_ID  (prints "OK <count>", then each page state audited)
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CUSTOMER / PORTAL_REPRESENTATIVE as email:password)."""
import json
import os
import re
import sys
import time
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, ticket_id, article_id, mail_id, organization_id, representative_id = sys.argv[1:8]
ROLES = ("admin", "agent", "customer", "representative")
people = {role: os.environ["PORTAL_" + role.upper()].split(":", 1) for role in ROLES}
data = json.loads(os.environ.get("PORTAL_DATA", "[]"))
MARKUP = "<img src=x onerror=window.__xss=1>"

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait

# Portuguese words a page in English must not show, besides the page's own tables (see LEFTOVERS).
COMMON_WORDS = ["Salvar", "Excluir", "Enviar", "Cancelar", "Nova ocorrência", "Ocorrência", "Prazos", "Equipe", "Cadastros",
                "Notificações", "Perfis", "Integrações", "Clientes", "Contatos", "Desenvolvimento", "Base de conhecimento", "Quarentena", "Conta",
                "Carregando", "Buscar", "Filtrar", "Entrar", "Sair", "Senha", "Assunto", "Descrição", "Categoria",
                "Prioridade", "Produto", "Módulo", "Situação", "Ações", "Nenhum", "Nenhuma", "Ativo", "Ativa", "Inativo",
                "Sim", "Não", "Chefe", "Grupo", "Grupos", "Agente", "Administrador", "Cliente", "Responsável", "Aguardando",
                "Em atendimento", "Resolvido", "Finalizado", "Cancelado", "Fechado", "Pendente", "Alterar", "Remover",
                "Adicionar", "Voltar", "Artigo", "Artigos", "Pergunta", "Resposta", "Motivo", "Histórico", "Solução"]

# The page's audit: a list of problems (strings). arguments[0]: the expected lang; arguments[1]:
# the data to take out of the text; arguments[2]: whether to look for Portuguese leftovers.
AUDIT = r"""
const [expectedLang, data, english, commonWords] = arguments;
const problems = [];
const shown = (e) => {
  if (!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)) return false;
  const style = getComputedStyle(e);
  return style.visibility !== 'hidden' && style.display !== 'none';
};
const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.getAttribute('name') ? `[name=${e.getAttribute('name')}]` : '')
  + (e.getAttribute('type') ? `[type=${e.getAttribute('type')}]` : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(/\s+/).join('.') : '')
  + ` "${(e.innerText || e.value || '').trim().slice(0, 40)}"`;
const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((n) => n.textContent.trim()).join(' ').trim();
const labelText = (label, control) => {
  const copy = label.cloneNode(true);
  copy.querySelectorAll('input, select, textarea').forEach((n) => n.remove());
  return copy.textContent.trim();
};
const fieldName = (e) => {
  if ((e.getAttribute('aria-label') || '').trim()) return e.getAttribute('aria-label').trim();
  if (e.getAttribute('aria-labelledby')) { const named = byIds(e.getAttribute('aria-labelledby')); if (named) return named; }
  if (e.id) {
    const forIt = Array.from(document.querySelectorAll('label[for]')).filter((l) => l.htmlFor === e.id).map((l) => labelText(l, e)).join(' ').trim();
    if (forIt) return forIt;
  }
  const wrapping = e.closest('label');
  return wrapping ? labelText(wrapping, e) : '';
};
for (const e of document.querySelectorAll('input, select, textarea')) {
  if (e.type === 'hidden' || !shown(e)) continue;
  if (!fieldName(e)) problems.push('field without an accessible name: ' + describe(e));
}
const actionName = (e) => (e.getAttribute('aria-label') || '').trim() || (e.getAttribute('aria-labelledby') ? byIds(e.getAttribute('aria-labelledby')) : '')
  || (e.innerText || '').trim() || Array.from(e.querySelectorAll('img[alt]')).map((i) => i.alt.trim()).join(' ').trim()
  || (e.tagName === 'INPUT' ? (e.value || '').trim() : '');
for (const e of document.querySelectorAll('a[href], button, input[type=submit], input[type=button], [role=button], summary')) {
  if (!shown(e)) continue;
  if (!actionName(e)) problems.push('button or link without text or aria-label: ' + describe(e));
}
for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('img without alt: ' + (img.getAttribute('src') || '').slice(0, 60));
const headings = Array.from(document.querySelectorAll('h1')).filter(shown);
if (headings.length !== 1) problems.push(`${headings.length} visible h1 (${headings.map((h) => h.innerText.trim()).join(' | ')})`);
if (document.documentElement.lang !== expectedLang) problems.push(`html lang is "${document.documentElement.lang}", not "${expectedLang}"`);
// An id names one element (a label[for] or aria-* reference would be ambiguous), and every id an
// aria-labelledby or aria-describedby names exists.
const ids = new Map();
for (const e of document.querySelectorAll('[id]')) ids.set(e.id, (ids.get(e.id) || 0) + 1);
for (const [id, count] of ids) if (count > 1) problems.push(`id "${id}" on ${count} elements`);
for (const e of document.querySelectorAll('[aria-labelledby], [aria-describedby]')) {
  for (const id of ((e.getAttribute('aria-labelledby') || '') + ' ' + (e.getAttribute('aria-describedby') || '')).split(/\s+/).filter(Boolean)) {
    if (!document.getElementById(id)) problems.push(`${describe(e)} refers to a missing id "${id}"`);
  }
}
// Out of the Tab order: no interactive element. Regions focused by script (the main region when a
// page is drawn, a ticket's history after "Show earlier") may carry tabindex=-1.
const interactive = 'a[href], button, input, select, textarea, summary, [contenteditable]';
for (const e of document.querySelectorAll('[tabindex]')) {
  if (Number(e.getAttribute('tabindex')) < 0 && e.matches(interactive)) problems.push('tabindex=-1 on ' + describe(e));
  if (Number(e.getAttribute('tabindex')) > 0) problems.push('positive tabindex on ' + describe(e));
}
// Focus outlines: a rule that removes the outline must give a replacement (box-shadow or border).
for (const sheet of document.styleSheets) {
  let rules = [];
  try { rules = Array.from(sheet.cssRules); } catch (e) { continue; }
  const walk = (list) => list.forEach((rule) => {
    if (rule.cssRules) walk(Array.from(rule.cssRules));
    if (!rule.style) return;
    const outline = (rule.style.outlineStyle || '') + ' ' + (rule.style.outline || '') + ' ' + (rule.style.outlineWidth || '');
    if (/\bnone\b|(^|\s)0(px)?(\s|$)/.test(outline) && !rule.style.boxShadow && !rule.style.borderColor && !rule.style.borderStyle) {
      problems.push('focus outline removed without a replacement: ' + rule.selectorText);
    }
  });
  walk(rules);
}
if (!Array.from(document.styleSheets).some((s) => { try { return Array.from(s.cssRules).some((r) => /:focus/.test(r.selectorText || '') && r.style.outlineStyle && r.style.outlineStyle !== 'none'); } catch (e) { return false; } })) {
  problems.push('no visible focus style (a :focus or :focus-visible outline) in the style sheets');
}
// Live regions: the page (<main>) is not one nor inside one, no live region holds a page's
// content (a heading, a form), and the one region for actions' outcomes (#announcer, polite) is
// outside the page: a screen reader read every page drawn out whole.
const live = '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log]';
const page = document.getElementById('main');
if (page && page.closest(live)) problems.push('the page is a live region: ' + describe(page.closest(live)));
for (const region of document.querySelectorAll(live)) if (region.querySelector('h1, h2, form')) problems.push('a live region holds page content: ' + describe(region));
const announcer = document.getElementById('announcer');
if (!announcer || announcer.getAttribute('aria-live') !== 'polite' || (page && page.contains(announcer))) problems.push('no polite live region for actions outside the page (#announcer)');
// Escaping: the seeded markup never ran and never became an element.
if (window.__xss) problems.push('the seeded markup ran (window.__xss is set)');
if (document.querySelector('img[src="x"]')) problems.push('the seeded markup became an <img>');
if (english) {
  // Portuguese texts of the page's own tables whose English differs, and the common words.
  const phrases = new Set(commonWords);
  const add = (pt, en) => {
    if (typeof pt !== 'string' || pt === en) return;
    for (const chunk of pt.split(/\{\w+\}/)) {
      const bare = chunk.replace(/^[\s·:,.;()–—-]+|[\s·:,.;()–—-]+$/g, '');
      if (bare.length >= 3 && /[A-Za-zÀ-ÿ]{3}/.test(bare) && !(typeof en === 'string' && en.includes(bare))) phrases.add(bare);
    }
  };
  const pairs = (pt, en) => {
    if (typeof pt === 'string') return add(pt, en);
    if (Array.isArray(pt)) { if (pt.length === 2 && typeof pt[0] === 'string') add(pt[0], pt[1]); return; }
    if (pt && typeof pt === 'object') for (const key of Object.keys(pt)) pairs(pt[key], en && typeof en === 'object' ? en[key] : undefined);
  };
  pairs(TEXT['pt-BR'], TEXT.en);
  // The tables of [Portuguese, English] labels.
  for (const name of Object.keys(window.__labelTables || {})) pairs(window.__labelTables[name], null);
  // The text a person gets: what is shown and what assistive technology reads; the language
  // switch names the other language on purpose, and "Ocorrências" is the product's name.
  let text = document.body.innerText;
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (e.id === 'lang' || !shown(e)) continue;
    text += '\n' + ['aria-label', 'title', 'placeholder'].map((a) => e.getAttribute(a) || '').join('\n');
  }
  for (const option of document.querySelectorAll('select option')) if (shown(option.parentElement.closest('select') || option)) text += '\n' + option.textContent;
  text = text.replace(document.getElementById('lang').innerText, '');
  // Text marked as in another language (a record's Portuguese label shown beside its English
  // one), codes (<code>, aguardando_cliente) and the seeded data are not the page's words.
  const marked = Array.from(document.body.querySelectorAll('[lang], code')).filter((e) => e.lang !== expectedLang).map((e) => e.innerText || '');
  for (const d of data.concat(marked).filter(Boolean).sort((a, b) => b.length - a.length)) text = text.split(d).join(' ');
  text = text.replace(/[\p{L}\p{N}]+(?:_[\p{L}\p{N}]+)+/gu, ' ');
  text = text.replace(/\bOcorrências\b/g, '');
  const left = new Map();
  for (const phrase of phrases) {
    const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const hit = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').exec(text);
    if (hit) left.set(phrase, text.slice(Math.max(0, hit.index - 30), hit.index + phrase.length + 30).replace(/\s+/g, ' '));
  }
  // A longer phrase found already names its words: keep the longest ones only.
  const kept = Array.from(left.keys()).filter((p) => !Array.from(left.keys()).some((q) => q !== p && q.includes(p)));
  if (kept.length) problems.push('Portuguese left in English: ' + kept.map((p) => `${JSON.stringify(p)} (in "…${left.get(p)}…")`).join(', '));
}
const fields = Array.from(document.querySelectorAll('input, select, textarea')).filter((e) => e.type !== 'hidden' && shown(e)).length;
const actions = Array.from(document.querySelectorAll('a[href], button, summary')).filter(shown).length;
return { problems, seen: `${fields} fields, ${actions} buttons and links, h1 "${headings.map((h) => h.innerText.trim()).join(' | ').slice(0, 50)}"` };
"""

# The [Portuguese, English] tables the scripts define as top-level consts (not properties of
# window): every `const NAME =` of the portal's scripts, kept when each of its values is a pair of
# texts (CATEGORIES, SHIPPED_STAGES, QUARANTINE_STATES...).
def script_consts():
    page = urllib.request.urlopen(base + "/portal/", timeout=10).read().decode()
    names = set()
    for src in re.findall(r'<script src="([^"]+)"', page):
        names.update(re.findall(r"^const ([A-Z][A-Z0-9_]*) = ", urllib.request.urlopen(base + src, timeout=10).read().decode(), re.M))
    return sorted(names)


TABLE_NAMES = script_consts()
LABEL_TABLES = r"""
window.__labelTables = {};
for (const name of arguments[0]) {
  let value;
  try { value = eval(name); } catch (e) { continue; }
  const values = value && typeof value === 'object' && !Array.isArray(value) ? Object.values(value) : [];
  if (values.length && values.every((v) => Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === 'string'))) window.__labelTables[name] = value;
}
"""


def settled(driver):
    """The page finished drawing: no "loading" text, an h1 (or a form) shown, and main unchanged
    for half a second."""
    first = driver.execute_script("return document.getElementById('main').innerHTML")
    if "Carregando" in first or "Loading…" in first:
        return False
    time.sleep(0.5)
    second = driver.execute_script("return document.getElementById('main').innerHTML")
    return first == second and ("<h1" in second or "<form" in second)


# The keyboard: from the top of the page, Tab until the main form's primary button (else the first
# control of main) has the focus, then Space and Enter must activate it (caught before it acts).
KEY_TARGET = r"""
const shown = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) && getComputedStyle(e).visibility !== 'hidden';
const main = document.getElementById('main');
// The form that has the focus (one just opened), else the first one shown.
const focused = arguments[0] && document.activeElement && document.activeElement.closest('form');
const form = focused || Array.from(main.querySelectorAll('form')).find(shown);
const candidates = form ? Array.from(form.querySelectorAll('button[type=submit], button:not([type]), input[type=submit]')).filter((b) => shown(b) && !b.disabled)
  .concat(Array.from(form.querySelectorAll('button')).filter((b) => shown(b) && !b.disabled)) : [];
const target = candidates[0] || Array.from(main.querySelectorAll('a[href], button, input, select, textarea')).find((e) => shown(e) && !e.disabled);
if (!target) return null;
document.querySelectorAll('[data-key-target]').forEach((e) => e.removeAttribute('data-key-target'));
target.setAttribute('data-key-target', '1');
window.__activated = 0;
if (!window.__catching) {
  window.__catching = true;
  const catchIt = (event) => {
    const hit = event.target.closest && event.target.closest('[data-key-target]');
    if (!hit) return;
    window.__activated += 1;
    event.preventDefault();
    event.stopImmediatePropagation();
  };
  window.addEventListener('click', catchIt, true);
  window.addEventListener('submit', (event) => { window.__activated += 1; event.preventDefault(); event.stopImmediatePropagation(); }, true);
}
document.activeElement && document.activeElement.blur();
document.body.focus();
return target.tagName.toLowerCase() + (target.id ? '#' + target.id : '') + ' "' + (target.innerText || target.value || '').trim().slice(0, 30) + '"';
"""


def press(key):
    """A key pressed on whatever has the focus (a file input's send_keys would pick a file)."""
    ActionChains(driver).send_keys(key).perform()


def keyboard(problems, where, opened=False):
    target = driver.execute_script(KEY_TARGET, opened)
    if target is None:
        return ", no control in main"
    for presses in range(1, 251):
        press(Keys.TAB)
        if driver.execute_script("return !!(document.activeElement && document.activeElement.hasAttribute('data-key-target'))"):
            break
    else:
        problems.append(f"{where}: {target} is not reached with Tab")
        return ""
    # A button answers Space and Enter, a link Enter (a field is only reached).
    tag = target.split(" ")[0].split("#")[0]
    for key, key_name in ((Keys.SPACE, "Space"), (Keys.ENTER, "Enter")):
        if tag not in ("a", "button") or (key_name == "Space" and tag == "a"):
            continue
        before = driver.execute_script("return window.__activated")
        press(key)
        time.sleep(0.1)
        if driver.execute_script("return window.__activated") == before:
            problems.append(f"{where}: {target} is not activated with {key_name}")
    return f", {target} reached with {presses} Tab"


audited = []
found = []
# Per route, the buttons that open a form on the page (the first one shown is pressed).
OPENED = {"/equipe": [".edit-member"], "/perfis": [".acc-edit-role", ".acc-change-agent"], "/cadastros": [".edit-entry", ".edit-field"],
          "/prazos": [".deadline-edit"], "/desenvolvimento": [".blg-edit-version", ".blg-edit-sequence"],
          "/clientes/" + organization_id: [".edit-contact"], "/representantes/" + representative_id: [".edit-contact"]}


def audit(role, route, lang, url=None, keys=True, name=None):
    where = f"{role} {lang} {route}"
    driver.get(url or base + "/portal/#" + route)
    try:
        wait.until(settled)
    except Exception:
        found.append(f"{where}: the page did not settle: " + driver.find_element(By.TAG_NAME, "main").text[:200])
        return
    driver.execute_script(LABEL_TABLES, TABLE_NAMES)
    check(where, lang, keys)
    if name and lang == "pt-BR":
        portal.shot(name)
    # The page's forms opened by a button (editing a member, a role, an entry...): audited open.
    for selector in OPENED.get(route, []):
        buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, selector) if b.is_displayed()]
        if not buttons:
            continue
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", buttons[0])
        buttons[0].click()
        time.sleep(0.5)
        check(f"{where} ({selector} opened)", lang, keys, opened=True)


def check(where, lang, keys, opened=False):
    """The audit of the page as it is now, and the keyboard's (`opened`: the focused form's)."""
    result = driver.execute_script(AUDIT, lang, data, lang == "en", COMMON_WORDS)
    for problem in result["problems"]:
        found.append(f"{where}: {problem}")
    reached = keyboard(found, where, opened) if keys else ""
    print(f"{where}: {result['seen']}{reached}", file=sys.stderr, flush=True)
    audited.append(where)


def switch(to):
    """The header's switch, pressed with the keyboard; the page redraws in the other language."""
    button = driver.find_element(By.ID, "lang")
    button.send_keys(Keys.ENTER)
    wait.until(lambda d: d.execute_script("return document.documentElement.lang") == to)


def routes(role):
    """Every route the signed-in person has: the built-in ones, every page the scripts add that
    this person sees (PAGES), and the sub-pages reached from them."""
    pages = driver.execute_script("return PAGES.filter((p) => p.visible()).map((p) => p.path)")
    staff = role in ("admin", "agent")
    found = ["/", "/nova", "/t/" + ticket_id] + (["/painel"] if staff else []) + pages
    if "/base" in pages:
        found.append("/base/artigo/" + article_id)
        if staff:
            found += ["/base/autoatendimento"]
        if driver.execute_script("return kbCanEdit()"):
            found += ["/base/novo", "/base/editar/" + article_id, "/base/fila", "/base/sinonimos"]
    if "/notificacoes" in pages:
        found.append("/notificacoes?pessoa=" + people["customer"][0])
    if "/correio" in pages:
        found += ["/correio?resolvidas=1", "/correio/" + mail_id]
    if "/clientes" in pages:
        found += ["/clientes?q=Org&inativas=1", "/clientes/" + organization_id, "/?organization_id=" + organization_id,
                  "/representantes/" + representative_id]
    return found


# The audit finds what it looks for: a page with one of each fault reports each.
CANARY = r"""
const main = document.getElementById('main');
main.append(Object.assign(document.createElement('input'), { id: 'canary-field' }), Object.assign(document.createElement('button'), { id: 'canary-button' }),
  Object.assign(document.createElement('p'), { id: 'canary-button' }),
  Object.assign(document.createElement('img'), { src: '/assets/none.png' }), Object.assign(document.createElement('h1'), { textContent: 'Segundo' }),
  Object.assign(document.createElement('a'), { href: '#/', textContent: 'Salvar', tabIndex: -1 }));
const choice = document.createElement('select');
choice.setAttribute('aria-label', 'Choice');
choice.append(Object.assign(document.createElement('option'), { textContent: 'Excluir' }));
main.append(choice);
document.getElementById('canary-field').setAttribute('aria-describedby', 'canary-nowhere');
main.setAttribute('aria-live', 'polite');
document.styleSheets[0].insertRule('a:focus { outline: none; }', document.styleSheets[0].cssRules.length);
window.__xss = 1;
"""


def canary():
    driver.get(base + "/portal/")
    driver.execute_script("localStorage.setItem('ocorrencias.lang', 'en')")
    driver.get(base + "/portal/")
    wait.until(settled)
    driver.execute_script(LABEL_TABLES, TABLE_NAMES)
    driver.execute_script(CANARY)
    problems = "\n".join(driver.execute_script(AUDIT, "pt-BR", data, True, COMMON_WORDS)["problems"])
    found_tables = driver.execute_script("return Object.keys(window.__labelTables)")
    for table in ("CATEGORIES", "PRIORITIES", "SHIPPED_STAGES", "QUARANTINE_STATES", "DEADLINE_WEEKDAYS"):
        assert table in found_tables, f"the table {table} is not read: {found_tables}"
    for expected in ("field without an accessible name: input#canary-field", "button or link without text or aria-label: button#canary-button",
                     "img without alt", "2 visible h1", 'html lang is "en"', "tabindex=-1 on a", "focus outline removed without a replacement: a:focus",
                     "window.__xss is set", 'Portuguese left in English: "Salvar"', '"Excluir"', 'id "canary-button" on 2 elements',
                     'refers to a missing id "canary-nowhere"', "the page is a live region: main#main"):
        assert expected in problems, f"the audit misses: {expected}\n{problems}"


try:
    canary()
    # Signed out: the sign-in page, the survey link's page and the password pages.
    for lang in ("pt-BR", "en"):
        driver.get(base + "/portal/")
        driver.execute_script("localStorage.setItem('ocorrencias.lang', arguments[0])", lang)
        for route, url in (("sign-in", base + "/portal/"), ("survey link", base + "/portal/pesquisa#token=x"),
                           ("invitation", base + "/portal/convite#token=x"), ("password reset", base + "/portal/nova-senha#token=x")):
            audit("signed out", route, lang, url=url)
    driver.get(base + "/portal/")
    driver.execute_script("localStorage.setItem('ocorrencias.lang', 'pt-BR')")

    for role in ROLES:
        portal.sign_in(*people[role])
        own = routes(role)
        for route in own:
            audit(role, route, "pt-BR")
        # The printable ticket: print media hides the header and the forms; one heading stays.
        driver.get(base + "/portal/#/t/" + ticket_id)
        wait.until(settled)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        printed = driver.execute_script(
            "const shown = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);"
            "return { h1: Array.from(document.querySelectorAll('h1')).filter(shown).map((h) => h.innerText),"
            " forms: Array.from(document.querySelectorAll('form, header.top')).filter(shown).length }")
        if len(printed["h1"]) != 1 or printed["forms"]:
            found.append(f"{role} printed ticket: {printed}")
        if MARKUP not in printed["h1"][0] if printed["h1"] else True:
            found.append(f"{role} ticket page: the subject's markup is not shown as text ({printed['h1']})")
        # The seeded state: solved, the customer told (her page asks her to accept or reject).
        expected = {"customer": "verdict-form", "admin": "faq-request-form", "agent": "faq-request-form"}.get(role)
        if expected and not driver.find_elements(By.ID, expected):
            found.append(f"{role} ticket page: no #{expected} (the seeded state is not drawn)")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        audited.append(f"{role} print /t/{ticket_id}")
        # English, switched with the header's button, then every route again.
        switch("en")
        for route in own:
            audit(role, route, "en", keys=False)
        switch("pt-BR")
        portal.sign_out()

    if found:
        print(f"{len(found)} problem(s) on {len(audited)} page(s):")
        for line in found:
            print("  " + line)
        sys.exit(1)
    print("OK", len(audited))
    for where in audited:
        print(where)
finally:
    driver.quit()

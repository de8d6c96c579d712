#!/usr/bin/python3
"""Drives the portal in headless Chromium (Debian's chromium + chromium-driver, python3-selenium):
a customer opens a ticket with an attachment after seeing a suggestion; an agent sees it in the
queue with its SLA badge, takes it and asks for information in public; the customer replies; the
agent links an article, e-mails the customer, records the solution and proposes it (workflow's
"totvs" flow: Resolvido); the customer accepts it and answers the satisfaction survey on the
ticket page. The customer's reply carries files: two chosen with the labelled file input (a small
XML and one over the gateway's inline size), a screenshot pasted into the form, and one dropped on
the zone and a pasted "image.png" (renamed captura-...) both removed again with the keyboard; the agent sees them on the reply and downloads each
byte-exact. The agent's question is a public discussion entry carrying a file chosen with its
labelled file input, and an internal note carries a pasted file: the customer sees the question's
file on it and downloads it byte-exact, and never sees the internal note or its file. Saves a
screenshot of each page. Usage: portal_flow.py BASE_URL SCREENSHOT_DIR ATTACHMENT REPLY_XML
REPLY_LARGE REPLY_PNG AGENT_FILE (customer and agent credentials in PORTAL_CUSTOMER / PORTAL_AGENT
as email:password)."""
import base64
import datetime
import os
import sys
import time
from zoneinfo import ZoneInfo

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, attachment = sys.argv[1], sys.argv[2], sys.argv[3]
reply_xml, reply_large, reply_png = sys.argv[4], sys.argv[5], sys.argv[6]
agent_file = sys.argv[7]
agent_name = os.path.basename(agent_file)
# The internal note's file, pasted into the discussion form: the customer must never see it.
internal_name = "evidencia-interna.txt"
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out





def open_ticket_page(ticket):
    portal.open_ticket(ticket)


def file_base64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def download_base64(href):
    """The file behind a link, fetched by the page with its session, as 'STATUS BASE64'."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(async (r) => done(r.status + ' ' + await base64(new Uint8Array(await r.arrayBuffer()))))"
        ".catch((e) => done('error ' + e));", href)


def history_text():
    # The page re-renders after each action: read again when the element went stale.
    for _ in range(20):
        try:
            return driver.find_element(By.ID, "history").text
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.2)
    return ""


def history_contains(text, reload_ticket=None, seconds=20):
    if reload_ticket:
        portal.settled()  # a reload must not cut the request that adds the text
    limit = time.time() + seconds
    while time.time() < limit:
        if text in history_text():
            return True
        time.sleep(0.5)
        if reload_ticket:
            open_ticket_page(reload_ticket)
    statuses = [e.text for e in driver.find_elements(By.ID, "action-status")]
    raise AssertionError(f"history lacks {text!r}: {history_text()!r} (status: {statuses!r})")


try:
    # The customer: dashboard, then a new ticket with a suggestion shown while typing.
    sign_in(*customer)
    wait.until(EC.presence_of_element_located((By.ID, "new-ticket")))
    shot("1-customer-dashboard")
    driver.find_element(By.ID, "new-ticket").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").send_keys("Fiscal")
    for character in "nota fiscal rejei":
        driver.find_element(By.ID, "subject").send_keys(character)
        time.sleep(0.03)
    # The list is drawn again as answers for later keystrokes arrive: find and click the
    # suggestion afresh until a click lands on one still on the page.
    limit = time.time() + 20
    while True:
        try:
            found = [s for s in driver.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion")
                     if s.is_displayed() and "Nota fiscal rejeitada" in s.text]
            if found:
                found[0].click()
                break
        except StaleElementReferenceException:
            pass
        assert time.time() < limit, "no suggestion: " + driver.find_element(By.ID, "suggestions").text
        time.sleep(0.2)
    time.sleep(0.5)
    shot("2-new-ticket-suggestion")
    driver.find_element(By.ID, "subject").send_keys("tada: erro 539 <script>alert(1)</script>")
    driver.find_element(By.ID, "request").send_keys("Ao transmitir a NF-e a rotina FIS001 devolve erro 539.")
    driver.find_element(By.ID, "file-input").send_keys(attachment)
    wait.until(lambda d: os.path.basename(attachment) in d.find_element(By.ID, "files").text)
    driver.find_element(By.ID, "ticket-submit").click()
    title = wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))
    # The script tag typed in the subject is shown as text, never run.
    assert "<script>" in title.text, title.text
    ticket = driver.execute_script("return decodeURIComponent(location.hash.slice(4))")
    assert os.path.basename(attachment) in driver.page_source
    shot("3-customer-ticket")
    sign_out()

    # The agent: the queue, then the ticket: take it and ask in public.
    sign_in(*agent)
    limit = time.time() + 20
    while ticket not in driver.page_source and time.time() < limit:
        time.sleep(0.5)
        driver.get(base + "/portal/#/?")
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "queue-filters")))
        portal.loaded()  # the filters are drawn before the list has arrived
    assert ticket in driver.page_source, "ticket not in the queue"
    # The SLA badge of the row: on time, with its due time.
    def sla_badge():
        found = driver.find_elements(By.CSS_SELECTOR, f'tr[data-ticket="{ticket}"] [data-sla]')
        return found[0] if found else None
    limit = time.time() + 15
    while (sla_badge() is None or sla_badge().get_attribute("data-sla") != "on_time") and time.time() < limit:
        time.sleep(0.5)
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "queue-filters")))
        wait.until(lambda d: ticket in d.page_source)
    badge = sla_badge()
    assert badge is not None, "no SLA badge: " + driver.find_element(By.ID, "queue").text
    assert badge.get_attribute("data-sla") == "on_time", badge.get_attribute("data-sla")
    assert "No prazo" in badge.text and "vence em" in badge.text, badge.text
    shot("4-agent-queue")
    # The running clock counts down on the page: ten days on, the badge shows it breached (before
    # workflow's timer marks it); back at the real time it is on time again.
    # Past its warning time (workflow's sla_warn_at_ms), it shows at risk, still counting down.
    assert int(badge.get_attribute("data-sla-warn") or 0) > int(time.time() * 1000), badge.get_attribute("outerHTML")
    driver.execute_script("refreshSLABadges(Number(arguments[0].dataset.slaWarn) + 1000)", badge)
    assert badge.get_attribute("data-sla") == "at_risk" and "Em risco" in badge.text and "vence em" in badge.text, badge.text
    driver.execute_script("refreshSLABadges(Date.now() + 10 * 86400000)")
    assert badge.get_attribute("data-sla") == "breached" and "Atrasada" in badge.text and "venceu" in badge.text, badge.text
    assert "sla-breached" in badge.get_attribute("class"), badge.get_attribute("class")
    driver.execute_script("refreshSLABadges()")
    assert badge.get_attribute("data-sla") == "on_time" and "vence em" in badge.text, badge.text
    open_ticket_page(ticket)
    driver.find_element(By.ID, "take").click()
    portal.settled()  # taken before the page is read again (a reload would cut the request)
    open_ticket_page(ticket)
    # First an internal note with a file pasted into its form: staff-only evidence.
    driver.find_element(By.ID, "discussion-text").send_keys("Evidência só para a equipe.")
    driver.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File(['senha do banco: nao mostrar'], arguments[0], {type: 'text/plain'}));"
        "document.getElementById('discussion-text').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));",
        internal_name)
    wait.until(lambda d: internal_name in d.find_element(By.ID, "discussion-files").text)
    driver.find_element(By.ID, "discussion-submit").click()
    history_contains("Evidência só para a equipe.", reload_ticket=ticket)
    assert internal_name in history_text(), history_text()
    # Then the public question, with a file chosen with the labelled file input.
    assert driver.find_elements(By.CSS_SELECTOR, 'label[for="discussion-file-input"]'), "the discussion's file input has no label"
    driver.find_element(By.ID, "discussion-text").send_keys("Pode enviar o XML da nota? Segue o modelo.")
    driver.find_element(By.ID, "discussion-public").click()
    driver.find_element(By.ID, "discussion-file-input").send_keys(agent_file)
    wait.until(lambda d: agent_name in d.find_element(By.ID, "discussion-files").text)
    shot("5-agent-discussion-files")
    driver.find_element(By.ID, "discussion-submit").click()
    history_contains("Pode enviar o XML da nota?", reload_ticket=ticket)
    shot("5-agent-ticket")
    sign_out()

    # The customer sees the question with its file, downloads it byte-exact, never sees the
    # internal note nor its file, and replies.
    sign_in(*customer)
    open_ticket_page(ticket)
    history_contains("Pode enviar o XML da nota?", reload_ticket=ticket)
    customer_links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#history .entry-files a")}
    assert list(customer_links) == [agent_name], customer_links
    got = download_base64(customer_links[agent_name])
    assert got == "200 " + file_base64(agent_file), f"{agent_name}: {got[:80]}"
    page_text = driver.find_element(By.ID, "main").text
    assert internal_name not in page_text and "Evidência só para a equipe." not in page_text, page_text
    shot("5-customer-agent-file")
    driver.find_element(By.ID, "reply-text").send_keys("Segue o XML em anexo.")
    # Files: two chosen with the file input (it has a label), a screenshot pasted into the form,
    # and one dropped on the zone by mistake and removed with the keyboard.
    assert driver.find_elements(By.CSS_SELECTOR, 'label[for="reply-file-input"]'), "the reply's file input has no label"
    driver.find_element(By.ID, "reply-file-input").send_keys(reply_xml + "\n" + reply_large)
    wait.until(lambda d: os.path.basename(reply_large) in d.find_element(By.ID, "reply-files").text)
    driver.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));"
        "const data = new DataTransfer();"
        "data.items.add(new File([bytes], arguments[1], {type: 'image/png'}));"
        "document.getElementById('reply-text').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));",
        file_base64(reply_png), os.path.basename(reply_png))
    driver.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File(['engano'], 'engano.txt', {type: 'text/plain'}));"
        "document.getElementById('reply-drop').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));")
    wait.until(lambda d: "engano.txt" in d.find_element(By.ID, "reply-files").text)
    assert os.path.basename(reply_png) in driver.find_element(By.ID, "reply-files").text
    driver.find_element(By.CSS_SELECTOR, '#reply-files button[aria-label$="engano.txt"]').send_keys(Keys.ENTER)
    wait.until(lambda d: "engano.txt" not in d.find_element(By.ID, "reply-files").text)
    # A screenshot pasted from the clipboard comes as "image.png": the page names it after the moment.
    driver.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File([new Uint8Array([137, 80, 78, 71])], 'image.png', {type: 'image/png'}));"
        "document.getElementById('reply-text').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));")
    wait.until(lambda d: "captura-" in d.find_element(By.ID, "reply-files").text)
    assert "image.png" not in driver.find_element(By.ID, "reply-files").text
    driver.find_element(By.CSS_SELECTOR, '#reply-files button[aria-label*="captura-"]').send_keys(Keys.ENTER)
    wait.until(lambda d: "captura-" not in d.find_element(By.ID, "reply-files").text)
    shot("6-customer-reply-files")
    driver.find_element(By.ID, "reply-submit").click()
    history_contains("Segue o XML em anexo.", reload_ticket=ticket)
    reply_names = {os.path.basename(p): p for p in (reply_xml, reply_large, reply_png)}
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#history .entry-files a")]
    assert sorted(listed) == sorted(list(reply_names) + [agent_name]), listed
    shot("6-customer-reply")
    # English switch.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == "Português")
    sign_out()

    # The agent links a knowledge article (it appears in the history) and e-mails the customer.
    sign_in(*agent)
    open_ticket_page(ticket)
    history_contains("Segue o XML em anexo.", reload_ticket=ticket)
    # The agent sees the reply's files on it and downloads each byte-exact.
    links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#history .entry-files a")}
    assert sorted(links) == sorted(list(reply_names) + [agent_name, internal_name]), links
    for name, path in reply_names.items():
        got = download_base64(links[name])
        assert got == "200 " + file_base64(path), f"{name}: {got[:80]}"
    driver.find_element(By.ID, "article-query").send_keys("nota fiscal")
    driver.find_element(By.ID, "article-search").click()
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#article-hits .article-link"))).click()
    history_contains("Artigo: Nota fiscal rejeitada", reload_ticket=ticket)
    driver.find_element(By.ID, "email-subject").send_keys("Sobre a nota fiscal")
    driver.find_element(By.ID, "email-body").send_keys("Estamos conferindo o XML enviado.")
    driver.find_element(By.ID, "email-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "email-sent")))
    # The agent records the solution.
    driver.find_element(By.ID, "solution-text").send_keys("CNPJ do destinatário corrigido; nota transmitida.")
    driver.find_element(By.ID, "solution-submit").click()
    portal.settled()
    limit = time.time() + 20
    while time.time() < limit:
        open_ticket_page(ticket)
        if driver.find_elements(By.ID, "ticket-solution"):
            break
        time.sleep(0.5)
    assert "nota transmitida" in driver.find_element(By.ID, "ticket-solution").text
    shot("7-agent-solution")
    # The solved question goes to the knowledge editors' queue as a FAQ request, and the public
    # question the agent asked is marked publishable for the forum.
    driver.find_element(By.ID, "faq-request-note").send_keys("Erro comum depois da troca de certificado.")
    driver.find_element(By.ID, "faq-request-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "faq-requested")))
    marks = driver.find_elements(By.CSS_SELECTOR, "#history .mark-publishable")
    assert marks, "no entry to mark publishable"
    assert not driver.find_elements(By.CSS_SELECTOR, "#history .entry.internal .mark-publishable"), "internal entries are not offered"
    marks[0].click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history .mark-publishable")) == len(marks) - 1)
    # The customer's reply read first: a solution is not proposed over an unread message.
    wait.until(EC.element_to_be_clickable((By.ID, "mark-read"))).click()
    portal.settled()
    limit = time.time() + 20
    while time.time() < limit and driver.find_elements(By.ID, "mark-read"):
        time.sleep(0.5)
        open_ticket_page(ticket)
    assert not driver.find_elements(By.ID, "mark-read"), "the reply is still unread"
    # ... and proposes it to the customer: the move to Resolvido with a text for the customer.
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#move-stage option[value="resolvido"]')))
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("resolvido")
    driver.find_element(By.CSS_SELECTOR, '#move-form input[name="public_note"]').send_keys("Nota transmitida; confirme, por favor.")
    driver.find_element(By.CSS_SELECTOR, '#move-form button[type="submit"]').click()
    # The page is in English (the customer's switch is kept): workflow's stage in English too.
    wait.until(lambda d: "Resolved" in d.find_element(By.ID, "ticket-stage").text)
    # The agent's dashboard: tickets by stage as an SVG chart drawn by the page.
    driver.find_element(By.ID, "nav-panel").click()
    chart = wait.until(EC.presence_of_element_located((By.ID, "stage-chart")))
    assert chart.find_elements(By.TAG_NAME, "rect"), "empty chart"
    shot("8-agent-dashboard")
    sign_out()
    # The customer accepts the proposed solution, then answers the survey on the ticket page.
    sign_in(*customer)
    open_ticket_page(ticket)
    accept = wait.until(EC.element_to_be_clickable((By.ID, "accept-solution")))
    assert driver.find_elements(By.ID, "reject-solution"), "no reject button"
    shot("9-customer-verdict")
    accept.click()
    portal.settled()
    limit = time.time() + 20
    while not driver.find_elements(By.ID, "ticket-survey-form") and time.time() < limit:
        time.sleep(0.5)
        open_ticket_page(ticket)
    assert driver.find_elements(By.ID, "ticket-survey-form"), "no survey on the finished ticket"
    driver.find_element(By.CSS_SELECTOR, "label:has(#ticket-survey-form-score-5)").click()
    driver.find_element(By.ID, "ticket-survey-form-comment").send_keys("Resolvido rápido, obrigado.")
    shot("10-customer-survey")
    driver.find_element(By.ID, "ticket-survey-form-submit").click()
    answer = wait.until(EC.presence_of_element_located((By.ID, "survey-answer")))
    assert "5/5" in answer.text, answer.text
    shot("11-customer-survey-answered")
    sign_out()
    # The agent's dashboard with the period's metrics: response times, categories, modules and
    # satisfaction as SVG charts, each with its numbers in a table; another period; English.
    sign_in(*agent)
    if driver.find_element(By.ID, "lang").text == "Português":  # the page is in English: back to pt-BR
        driver.find_element(By.ID, "lang").click()
        wait.until(lambda d: d.find_element(By.ID, "lang").text == "English")
    # The last 90 days, not "this month": a run that crosses midnight at the turn of a month
    # opened its ticket in the month before.
    driver.get(base + "/portal/#/painel?periodo=90-dias")
    wait.until(EC.presence_of_element_located((By.ID, "period")))
    portal.loaded()  # the period picker is drawn before the figures have arrived
    limit = time.time() + 20
    while time.time() < limit:
        if all(driver.find_elements(By.ID, i) for i in ("time-chart", "category-chart", "module-chart", "satisfaction-chart")):
            break
        time.sleep(1)
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "period")))
        portal.loaded()
    for chart_id in ("stage-chart", "time-chart", "category-chart", "module-chart", "satisfaction-chart"):
        chart = driver.find_element(By.ID, chart_id)
        assert chart.get_attribute("role") == "img", chart_id
        assert chart.find_elements(By.TAG_NAME, "title") and chart.find_elements(By.TAG_NAME, "desc"), chart_id
        assert chart.find_elements(By.CSS_SELECTOR, "rect[data-value]"), f"{chart_id}: no bars"
    assert "Problema" in driver.find_element(By.ID, "category-table").text
    assert "Fiscal" in driver.find_element(By.ID, "module-table").text
    satisfaction = driver.find_element(By.ID, "satisfaction-table").text
    assert "Nota 5 1" in satisfaction and "5 / 5" in satisfaction, satisfaction
    assert "Primeira resposta" in driver.find_element(By.ID, "time-table").text
    # Products, groups, time per stage and the open backlog: each section is there (with data or
    # "no data"); the ticket went through stages, so the time per stage has bars and names them.
    for section in ("product-chart", "group-chart", "stage-time-chart", "backlog-chart"):
        assert driver.find_elements(By.ID, section + "-section"), section
    assert driver.find_element(By.ID, "stage-time-chart").find_elements(By.CSS_SELECTOR, "rect[data-value]")
    assert "Saídas" in driver.find_element(By.ID, "stage-time-table").text
    cards = driver.find_element(By.ID, "metric-cards").text
    assert "Abertas" in cards and "Satisfação média" in cards and "5 / 5" in cards, cards
    driver.set_window_size(1280, 1800)  # the whole dashboard in one picture
    shot("19-agent-dashboard-metrics")
    driver.set_window_size(1280, 1100)
    Select(driver.find_element(By.ID, "period")).select_by_value("mes-passado")
    wait.until(lambda d: "mes-passado" in d.current_url and "Mês passado" in d.find_element(By.ID, "main").text)
    wait.until(EC.presence_of_element_located((By.ID, "metric-cards")))
    # Last month is São Paulo's (workflow's default calendar counts the metrics' days there),
    # from its midnight, whatever zone the browser is in.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    month_start = datetime.datetime.now(sao_paulo).date().replace(day=1)
    last_month = (month_start - datetime.timedelta(days=1)).replace(day=1)
    bounds = [int(datetime.datetime(d.year, d.month, 1, tzinfo=sao_paulo).timestamp() * 1000) for d in (last_month, month_start)]
    export = driver.find_element(By.ID, "export-csv").get_attribute("href")
    assert f"from_ms={bounds[0]}&to_ms={bounds[1]}" in export, (export, bounds)
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: "Time to first response and to resolution" in d.find_element(By.ID, "main").text)
    assert "Last month" in driver.find_element(By.ID, "main").text
    shot("20-agent-dashboard-last-month-en")
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == "English")
    # Another period by its dates: the form starts from the period on screen; a reversed range is
    # refused with a message; this month up to today shows the tickets of this test; the period's
    # tickets export as CSV with the session's cookie.
    Select(driver.find_element(By.ID, "period")).select_by_value("personalizado")
    wait.until(EC.presence_of_element_located((By.ID, "period-from")))
    start = driver.find_element(By.ID, "period-from").get_attribute("value")
    end = driver.find_element(By.ID, "period-to").get_attribute("value")
    assert start and end and start <= end and start.endswith("-01"), (start, end)
    def apply_period(first, last):
        for field, value in (("period-from", first), ("period-to", last)):
            driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, field), value)
        driver.find_element(By.ID, "period-apply").click()
    today = datetime.date.today()
    # From the first of yesterday's month: the metrics count days in São Paulo, where from 00:00 to
    # 03:00 UTC on the 1st it is still the month before (the ticket of this test is there).
    first = (today - datetime.timedelta(days=1)).replace(day=1)
    apply_period(today.isoformat(), (first - datetime.timedelta(days=1)).isoformat())
    wait.until(EC.presence_of_element_located((By.ID, "period-error")))
    assert "Período inválido" in driver.find_element(By.ID, "period-error").text
    apply_period(first.isoformat(), today.isoformat())
    wait.until(EC.presence_of_element_located((By.ID, "metric-cards")))
    assert f"de={first.isoformat()}" in driver.current_url
    assert "Abertas" in driver.find_element(By.ID, "metric-cards").text
    export = driver.find_element(By.ID, "export-csv").get_attribute("href")
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) => done(r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.text()).split('\\n').length))"
        ".catch((e) => done('error ' + e));", export)
    code, kind, lines = status.split(" ")[0], status.split(" ")[1], int(status.split(" ")[-1])
    assert code == "200" and kind.startswith("text/csv") and lines >= 2, status
    shot("22-agent-dashboard-custom-period")
    # Filters: labelled selects for group, product and agent; chosen with the keyboard and applied
    # with Enter on the button, they redraw the charts for the matching tickets and keep the period.
    for select_id, text in (("filter-group", "Grupo"), ("filter-product", "Produto"), ("filter-agent", "Agente")):
        label = driver.find_element(By.CSS_SELECTOR, f"label[for={select_id}]")
        assert label.text.startswith(text), label.text
    assert [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "filter-group")).options][:1] == [""]
    driver.find_element(By.ID, "filter-group").send_keys("Nível 1")
    assert Select(driver.find_element(By.ID, "filter-group")).first_selected_option.get_attribute("value") == "n1"
    driver.find_element(By.ID, "filter-product").send_keys("ERP")
    driver.find_element(By.ID, "filter-apply").send_keys(Keys.ENTER)
    wait.until(lambda d: "grupo=n1" in d.current_url and "produto=ERP" in d.current_url and d.find_elements(By.ID, "filter-note"))
    wait.until(EC.presence_of_element_located((By.ID, "metric-cards")))
    assert f"de={first.isoformat()}" in driver.current_url
    heading = driver.find_element(By.ID, "summary-heading").text
    assert "Grupo: Nível 1" in heading and "Produto: ERP" in heading, heading
    assert "Nível 1" in driver.find_element(By.ID, "group-table").text
    assert driver.find_element(By.ID, "category-chart").find_elements(By.CSS_SELECTOR, "rect[data-value]")
    assert "group=n1" in driver.find_element(By.ID, "export-csv").get_attribute("href")
    shot("24-agent-dashboard-filtered")
    # A group without tickets: the period is empty for it; then the filters are cleared.
    Select(driver.find_element(By.ID, "filter-product")).select_by_value("")
    driver.execute_script("const s = document.getElementById('filter-group'); s.append(new Option('x', 'grupo-vazio')); s.value = 'grupo-vazio';")
    driver.find_element(By.ID, "filter-apply").click()
    wait.until(lambda d: "grupo=grupo-vazio" in d.current_url and d.find_elements(By.ID, "metric-cards"))
    assert driver.find_element(By.CSS_SELECTOR, "#metric-cards [data-metric=opened] strong").text == "0"
    driver.find_element(By.ID, "filter-clear").click()
    wait.until(lambda d: "grupo=" not in d.current_url and d.find_elements(By.ID, "metric-cards"))
    assert not driver.find_elements(By.ID, "filter-note")
    sign_out()
    # The survey page of the e-mailed link (anonymous: the signed token is the authorization); a
    # forged one is refused (SurveyPageTests follows a real link).
    driver.get(base + "/portal/pesquisa#token=example")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main .error")))
    shot("12-survey-link")
    print("OK", ticket)
except Exception:
    # What the page showed, for the test's failure message.
    try:
        print("page:", driver.find_element(By.ID, "main").text, file=sys.stderr)
        shot("failure-" + os.path.basename(sys.argv[0]).split(".")[0])
    except Exception:
        pass
    raise
finally:
    driver.quit()

#!/usr/bin/python3
"""What a review of the portal as its people use it found, pinned in headless Chromium:
- signed out, "Esqueci minha senha" without an address says to type it (the press did nothing),
  marks the field and leaves the focus there; with one, it says the link is on its way;
- a customer typing a subject opens a knowledge-base suggestion under it once and folds it again
  (a second press appended the article a second time);
- an agent's action on a ticket (taking it) draws the page again with its outcome focused and in
  view (the page jumped to its top, the outcome far below); a refused send-back pressed the way
  Safari presses buttons (no focus on the button; the focus in another form's field) keeps the
  justification typed and shows the refusal in view (the text was lost on the redraw), naming no
  API field ("ticket_id: Marque as mensagens como lidas.");
- an administrator adding a member with a taken address sees the refusal in view, the field named
  by its label and marked (it read "email: taken", above the screen);
- screen readers hear what an action did, not every redraw: <main> is not a live region (it was,
  so each page drawn was read out whole); the one live region (#announcer) says a redrawn page's
  notice ("… foi adicionado à equipe") and is cleared by the next page; an outcome shown where
  the person works is read as the focus, so the live region stays quiet then (not said twice);
- an administrator's pages fit a 390 px phone (a long select's options widened two of them) and
  the backlog page asks nothing a non-agent sign-in lacks;
- the browser's console stays clean throughout: no favicon 404, no failed request the page did
  not mean, no DOM warning (the password form had no username field).
Usage: action_feedback.py BASE_URL SCREENSHOT_DIR TICKET_ID (prints "OK")
(credentials in PORTAL_CUSTOMER / PORTAL_AGENT / PORTAL_ADMIN as email:password)."""
import os
import sys
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, ticket = sys.argv[1:4]
customer, agent, admin = (os.environ[name].split(":", 1) for name in ("PORTAL_CUSTOMER", "PORTAL_AGENT", "PORTAL_ADMIN"))

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait
# The session check while signed out answers 401: expected, and the only request allowed to fail
# unless a step provokes one.
SIGNED_OUT = "/v1/me - Failed to load resource: the server responded with a status of 401"
problems = []


def console(where, *expected):
    problems.extend(f"{where}: {problem}" for problem in portal.console_problems((SIGNED_OUT,) + expected))


def focused_in_view(element_id="action-status"):
    """The text of the element `element_id` (the ticket page's outcome) when it has the focus and
    is inside the window, else None."""
    return driver.execute_script(
        "const s = document.getElementById(arguments[0]); if (!s) return null; const r = s.getBoundingClientRect();"
        "return document.activeElement === s && r.top >= 0 && r.bottom <= window.innerHeight && s.innerText.trim() ? s.innerText.trim() : null",
        element_id)


def announced():
    """What the live region for actions' outcomes (#announcer) says now (None without one)."""
    return driver.execute_script("const a = document.getElementById('announcer'); return a ? a.textContent : null")


def quiet_after_focus():
    """The live region says nothing once its short delay has passed (the outcome was focused)."""
    time.sleep(0.4)  # the region is filled 100 ms after a page is drawn (portal.js say): past that
    return announced() == ""


def suggestion():
    """The button of the seeded FAQ among the subject's suggestions (found again: the list is
    drawn anew as the answers for later keystrokes arrive)."""
    def find(d):
        try:
            return next((b for b in d.find_elements(By.CSS_SELECTOR, "#suggestions button.suggestion") if "Nota fiscal rejeitada" in b.text), None)
        except StaleElementReferenceException:
            return None
    return wait.until(find)


def expanded(value):
    def check(d):
        try:
            return suggestion().get_attribute("aria-expanded") == value
        except StaleElementReferenceException:
            return False
    wait.until(check)


def fits_the_screen(what):
    width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner + 1:
        wide = driver.execute_script(
            "const w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll('#main *'))"
            ".filter((e) => e.getBoundingClientRect().right > w + 1 && !e.closest('table')).slice(0, 3).map((e) => e.tagName + '#' + e.id)")
        problems.append(f"{what} is {width}px wide on a {inner}px screen ({wide})")


try:
    # Signed out: the forgotten password without an address, then with one.
    driver.get(base + "/portal/")
    wait.until(EC.element_to_be_clickable((By.ID, "forgot-password"))).click()
    note = wait.until(lambda d: portal.text("forgot-needs-email"))
    assert "Informe seu e-mail" in note, note
    assert driver.execute_script("return document.activeElement.id") == "email"
    assert driver.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    portal.fill("email", customer[0])
    driver.find_element(By.ID, "forgot-password").click()
    wait.until(lambda d: "Se o e-mail estiver cadastrado" in portal.text("reset-sent"))
    assert driver.find_element(By.ID, "email").get_attribute("aria-invalid") is None
    console("sign-in page")

    # The customer: a suggestion unfolds once and folds again.
    portal.sign_in(*customer)
    driver.get(base + "/portal/#/nova")
    wait.until(EC.presence_of_element_located((By.ID, "subject"))).send_keys("nota fiscal rejei")
    for _ in range(3):
        try:
            suggestion().click()
            break
        except StaleElementReferenceException:
            time.sleep(0.3)
    expanded("true")
    entries = lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, "#suggestions .entry") if e.is_displayed()]
    wait.until(lambda d: len(entries()) == 1)
    assert "Confira o CNPJ do destinatário" in entries()[0].text, entries()[0].text
    suggestion().click()
    expanded("false")
    assert not entries(), [e.text for e in entries()]
    suggestion().click()
    expanded("true")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#suggestions .entry")) == 1, driver.find_element(By.ID, "suggestions").text
    portal.shot("feedback-suggestion")
    console("new ticket")
    portal.sign_out()

    # The agent: taking the ticket shows "Salvo." where she is.
    portal.sign_in(*agent)
    portal.open_ticket(ticket)
    take = wait.until(EC.element_to_be_clickable((By.ID, "take")))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", take)
    take.click()
    assert wait.until(lambda d: focused_in_view()) == "Salvo."
    assert quiet_after_focus(), f"said twice: {announced()!r}"
    assert driver.execute_script("return document.getElementById('main').getAttribute('aria-live')") is None, "<main> is live"
    # Nobody passed her the ticket: the send-back is refused. Pressed as Safari presses (the
    # button never focused; the focus still in the discussion's text), the refusal is the
    # send-back's: its justification stays, the outcome in view.
    justification = "Não é do meu nível: o cliente precisa de consultoria."
    field = wait.until(EC.presence_of_element_located((By.ID, "send-back-justification")))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.send_keys(justification)
    driver.find_element(By.ID, "discussion-text").send_keys("Rascunho da discussão")
    shown = driver.find_element(By.ID, "ticket-title")
    driver.execute_script("arguments[0].click()", driver.find_element(By.ID, "send-back-submit"))
    wait.until(EC.staleness_of(shown))
    refusal = wait.until(lambda d: focused_in_view())
    assert refusal != "Salvo." and "Enviando" not in refusal, refusal
    # The refusal is about the ticket (its unread message), said in words, not "ticket_id: ...".
    assert "não lida" in refusal and "ticket_id" not in refusal, refusal
    wait.until(lambda d: d.find_element(By.ID, "send-back-justification").get_attribute("value") == justification)
    assert driver.find_element(By.ID, "discussion-text").get_attribute("value") == "Rascunho da discussão"
    portal.shot("feedback-refused-send-back")
    console("ticket page", "/send-back - Failed to load resource")
    portal.sign_out()

    # The administrator adds a member with a taken address: the refusal, far above the form, is
    # focused in view and names the field by its label in Portuguese ("email: taken" before).
    portal.sign_in(*admin)
    driver.get(base + "/portal/#/equipe")
    portal.loaded()
    portal.fill("member-name", "Ana de novo")
    portal.fill("member-email", agent[0])
    portal.fill("member-password", "Outra-Senha-Longa-123")
    submit = driver.find_element(By.ID, "member-submit")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", submit)
    submit.click()
    refusal = wait.until(lambda d: focused_in_view("team-status"))
    assert "Já existe um usuário com esse e-mail." in refusal and "E-mail: já está em uso por outro usuário" in refusal, refusal
    assert "taken" not in refusal, refusal
    assert driver.find_element(By.ID, "member-email").get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "member-name").get_attribute("value") == "Ana de novo"
    assert quiet_after_focus(), f"the refusal said twice: {announced()!r}"
    # With a free address the member is added: the page is drawn again and only its notice is said.
    portal.fill("member-email", "ana.de.novo@suporte.example")
    driver.find_element(By.ID, "member-submit").click()
    said = wait.until(lambda d: announced())
    assert said == "Ana de novo foi adicionado à equipe e já pode entrar.", said
    # Another page drawn: the notice is cleared, and the page itself is not said.
    driver.get(base + "/portal/#/")
    portal.loaded()
    assert wait.until(lambda d: announced() == ""), announced()
    console("team page", "/v1/users - Failed to load resource")

    # The administrator on a phone: every page of the navigation fits, and asks nothing it lacks.
    driver.set_window_size(390, 844)
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")]
    for href in links:
        driver.get(href)
        portal.loaded()
        wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        time.sleep(0.5)  # what a page draws once its second reads arrive (a form's choices)
        fits_the_screen(href.split("#", 1)[1])
    portal.shot("feedback-phone")
    driver.set_window_size(1280, 1100)
    console("administrator's pages")

    if problems:
        print(f"{len(problems)} problem(s):")
        for line in problems:
            print("  " + line)
        sys.exit(1)
    print("OK")
except Exception:
    portal.report_failure("action-feedback")
    raise
finally:
    driver.quit()

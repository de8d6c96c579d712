#!/usr/bin/python3
"""The deadlines page (#/prazos) in headless Chromium: an agent gets no link and no page; the
administrator creates a calendar with two intervals on weekdays (typed on Monday, copied to
Tuesday–Friday) and a holiday, after a first save that workflow refuses (an interval ending
before it starts: the reason shows beside the form and nothing is stored); an SLA policy for
Urgente on that calendar, in hours and minutes (a negative target is held back by the form);
workflow refuses deleting the calendar while the policy uses it; installs the default inactivity
preset and edits its policy to 7 business days on the calendar. A chefe then sees the lists
read-only (no form, no button).
Usage: deadlines_page.py BASE_URL SCREENSHOT_DIR  (prints "OK <calendar id>")
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CHEFE as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots = sys.argv[1:3]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
chefe = os.environ["PORTAL_CHEFE"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, read = portal.sign_in, portal.sign_out, portal.read


def retype(element, text):
    element.clear()
    element.send_keys(text)


def by_id(element_id):
    return driver.find_element(By.ID, element_id)


def notice(text):
    """Waits for the page to be drawn again with `text` in its notice."""
    wait.until(lambda d: text in d.find_element(By.ID, "deadline-status").text)


def row(table, attribute, value):
    found = driver.find_elements(By.CSS_SELECTOR, f"#{table} tr[{attribute}='{value}']")
    return found[0] if found else None


try:
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-deadlines"), "agents get no link"
    driver.get(base + "/portal/#/prazos")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "deadline-calendars") and not driver.find_elements(By.ID, "deadline-calendar-form"), \
        "agents do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-deadlines"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "deadline-calendar-form")))
    assert row("deadline-calendars", "data-calendar", "padrao") is not None, "the built-in calendar is listed"

    # A calendar: Monday 08:00–12:00 and 13:00–"12:30" (ends before it starts), copied to the
    # other weekdays, and São Paulo's anniversary as a holiday.
    by_id("deadline-calendar-name").send_keys("Comercial São Paulo")
    monday = by_id("deadline-day-1")
    retype(monday.find_element(By.CSS_SELECTOR, ".deadline-end"), "12:00")
    by_id("deadline-add-interval-1").click()
    second = monday.find_elements(By.CSS_SELECTOR, ".deadline-interval")[1]
    second.find_element(By.CSS_SELECTOR, ".deadline-start").send_keys("13:00")
    second.find_element(By.CSS_SELECTOR, ".deadline-end").send_keys("12:30")
    by_id("deadline-copy-monday").click()
    friday = by_id("deadline-day-5").find_elements(By.CSS_SELECTOR, ".deadline-interval")
    assert [(i.find_element(By.CSS_SELECTOR, ".deadline-start").get_attribute("value"),
             i.find_element(By.CSS_SELECTOR, ".deadline-end").get_attribute("value")) for i in friday] == [("08:00", "12:00"), ("13:00", "12:30")]
    by_id("deadline-holidays-add").click()
    holiday = driver.find_elements(By.CSS_SELECTOR, "#deadline-holidays li")[-1]
    driver.execute_script("arguments[0].value = arguments[1]", holiday.find_element(By.CSS_SELECTOR, ".deadline-date"), "2027-01-25")
    holiday.find_element(By.CSS_SELECTOR, ".deadline-date-name").send_keys("Aniversário de São Paulo")
    by_id("deadline-calendar-form-submit").click()
    wait.until(lambda d: "termina antes de começar" in d.find_element(By.ID, "deadline-calendar-form-status").text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", by_id("deadline-calendar-form-status"))
    shot("41-deadlines-refused")
    # Refused whole: no calendar stored, and the form keeps what was typed.
    assert [c["id"] for c in read("/v1/calendars")["calendars"]] == ["padrao"], read("/v1/calendars")
    assert by_id("deadline-calendar-name").get_attribute("value") == "Comercial São Paulo"

    retype(second.find_element(By.CSS_SELECTOR, ".deadline-end"), "18:00")
    by_id("deadline-copy-monday").click()
    by_id("deadline-calendar-form-submit").click()
    notice("Calendário Comercial São Paulo salvo")
    calendar = row("deadline-calendars", "data-calendar", "comercial-sao-paulo")
    assert calendar is not None and "Segunda–Sexta 08:00–12:00, 13:00–18:00" in calendar.text, calendar and calendar.text
    assert "Aniversário de São Paulo" in calendar.text and "nacionais" in calendar.text, calendar.text
    shot("42-deadlines-calendar")

    # An SLA policy for Urgente on the new calendar, typed in hours and minutes. A negative
    # target is held back by the form itself (nothing is sent).
    Select(by_id("deadline-sla-priority")).select_by_value("URGENTE")
    retype(by_id("deadline-sla-first-hours"), "-1")
    by_id("deadline-sla-form-submit").click()
    assert driver.execute_script("return !document.getElementById('deadline-sla-form').checkValidity()")
    assert read("/v1/sla-policies").get("policies", []) == [], "nothing stored"
    retype(by_id("deadline-sla-first-hours"), "0")
    retype(by_id("deadline-sla-first-minutes"), "45")
    retype(by_id("deadline-sla-next-hours"), "1")
    retype(by_id("deadline-sla-next-minutes"), "30")
    retype(by_id("deadline-sla-resolution-hours"), "6")
    Select(by_id("deadline-sla-calendar")).select_by_value("comercial-sao-paulo")
    by_id("deadline-sla-form-submit").click()
    notice("Política de SLA * (todos) · Urgente salva")
    sla = row("deadline-sla", "data-sla", "*|URGENTE")
    assert sla is not None, driver.find_element(By.ID, "deadline-sla-empty").text
    for text in ("45 min", "1 h 30 min", "6 h", "Comercial São Paulo", "Aguardando cliente"):
        assert text in sla.text, (text, sla.text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("deadline-sla-title"))
    shot("43-deadlines-sla")

    # The calendar is in use now: workflow refuses deleting it, naming the policy, and keeps it.
    # The default calendar has no delete button (it is edited, never deleted).
    assert not row("deadline-calendars", "data-calendar", "padrao").find_elements(By.CLASS_NAME, "deadline-delete")
    row("deadline-calendars", "data-calendar", "comercial-sao-paulo").find_element(By.CLASS_NAME, "deadline-delete").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "em uso" in d.find_element(By.ID, "deadline-calendars-status").text)
    assert "política de SLA * · Urgente" in by_id("deadline-calendars-status").text, by_id("deadline-calendars-status").text
    assert row("deadline-calendars", "data-calendar", "comercial-sao-paulo") is not None

    # Inactivity: the default preset (after confirming it replaces every policy), then its
    # policy edited to 7 business days of the new calendar.
    Select(by_id("deadline-preset")).select_by_value("padrao")
    by_id("deadline-preset-form-submit").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    notice("Modelo padrao instalado")
    policy = row("deadline-inactivity", "data-inactivity", "aguardando-cliente-10d")
    assert policy is not None and "10 dia(s) corridos" in policy.text and "2 dia(s) antes" in policy.text, policy and policy.text
    policy.find_element(By.CLASS_NAME, "deadline-edit").click()
    wait.until(lambda d: "Editar a política aguardando-cliente-10d" in d.find_element(By.ID, "deadline-inactivity-form").text)
    retype(by_id("deadline-inactivity-days"), "7")
    by_id("deadline-inactivity-business").click()
    Select(by_id("deadline-inactivity-calendar")).select_by_value("comercial-sao-paulo")
    by_id("deadline-inactivity-form-submit").click()
    notice("Política de inatividade aguardando-cliente-10d salva")
    policy = row("deadline-inactivity", "data-inactivity", "aguardando-cliente-10d")
    assert "7 dia(s) úteis" in policy.text and "Comercial São Paulo" in policy.text and "Ativa" in policy.text, policy.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("deadline-inactivity-title"))
    shot("44-deadlines-inactivity")
    sign_out()

    # A chefe reads the configuration: the link, the lists, no form and no button.
    sign_in(*chefe)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-deadlines"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "deadline-read-only")))
    assert "Segunda–Sexta 08:00–12:00, 13:00–18:00" in row("deadline-calendars", "data-calendar", "comercial-sao-paulo").text
    assert "45 min" in row("deadline-sla", "data-sla", "*|URGENTE").text
    assert "7 dia(s) úteis" in row("deadline-inactivity", "data-inactivity", "aguardando-cliente-10d").text
    assert not driver.find_elements(By.CSS_SELECTOR, "main form") and not driver.find_elements(By.CSS_SELECTOR, "main button"), \
        "read only: no forms, no buttons"
    print("OK", "comercial-sao-paulo", flush=True)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()

#!/usr/bin/python3
"""The development page (#/desenvolvimento) in headless Chromium. A customer gets no link and no
page. An agent sees the three items (Análise produto, Para desenvolver) and filters them by stage,
with no form and no planning control. The administrator: a version without a date is refused by
workflow (the reason beside the form, nothing stored), then saved with one; a second version is
made and deleted from its row (a version with items has no delete button); plans the first item
into it (it moves to Em desenvolvimento, under the version); gives the second an estimate of 16
hours and a promised date; a step sequence with a step lacking
a holder is refused (nothing stored), then saved with two steps (a group and a required field; an
agent); starts it on the planned item, whose advance is refused while the required field is empty
(the reason beside the steps), fills the field and advances it; delivers the version, and the
outcome lists the finished item, gone from the backlog. A product manager (product.decide by his
role in workflow's directory) then gets the version form but no sequence form.
Usage: backlog_page.py BASE_URL SCREENSHOT_DIR PLANNED_CODE WAITING_CODE ANALYSIS_CODE  (prints "OK <version id>")
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CUSTOMER / PORTAL_PRODUCT as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, planned, waiting, analysis = sys.argv[1:6]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
product = os.environ["PORTAL_PRODUCT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, read = portal.sign_in, portal.sign_out, portal.read


def by_id(element_id):
    return driver.find_element(By.ID, element_id)


def text_in(element_id, text):
    wait.until(lambda d: d.find_elements(By.ID, element_id) and text in d.find_element(By.ID, element_id).text)


def listed():
    return portal.listed_codes("blg-backlog", lambda main: "Desenvolvimento" in main)


def row_of(code):
    """The backlog row whose first cell links to `code`."""
    for row in driver.find_elements(By.CSS_SELECTOR, "#blg-backlog tbody tr[data-ticket]"):
        if row.find_element(By.CSS_SELECTOR, "td:first-child a").text == code:
            return row
    return None


try:
    sign_in(*customer)
    assert not driver.find_elements(By.ID, "nav-development"), "customers get no link"
    driver.get(base + "/portal/#/desenvolvimento")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "blg-backlog") and not driver.find_elements(By.ID, "blg-filters"), "customers do not get the page"
    sign_out()

    # An agent reads the backlog (workflow lets staff read it) but changes nothing.
    sign_in(*agent)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-development"))).click()
    codes = listed()
    assert set(codes) == {planned, waiting, analysis}, codes
    assert not driver.find_elements(By.ID, "blg-version-form") and not driver.find_elements(By.ID, "blg-sequence-form")
    assert not driver.find_elements(By.CSS_SELECTOR, ".blg-plan") and driver.find_elements(By.ID, "blg-read-only")
    Select(by_id("blg-filter-stage")).select_by_value("analise_produto")
    by_id("blg-filter-submit").click()
    wait.until(lambda d: "etapa=analise_produto" in d.current_url)
    assert listed() == [analysis], listed()
    shot("69-development-agent")
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-development"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "blg-version-form")))
    assert set(listed()) == {planned, waiting, analysis}
    assert not row_of(analysis).find_elements(By.CSS_SELECTOR, ".blg-plan"), "an item in product analysis is not planned"

    # A version without a target date: refused by workflow, nothing stored, the name kept.
    by_id("blg-version-name").send_keys("12.1.2501")
    by_id("blg-version-form-submit").click()
    text_in("blg-version-form-status", "version")
    assert read("/v1/versions?include_delivered=true").get("versions", []) == [], "nothing stored"
    assert by_id("blg-version-name").get_attribute("value") == "12.1.2501"
    driver.execute_script("arguments[0].value = arguments[1]", by_id("blg-version-target"), "2027-01-29")
    by_id("blg-version-form-submit").click()
    text_in("blg-status", "Versão 12.1.2501 salva")
    version = read("/v1/versions")["versions"][0]["id"]

    # A second version, deleted from its row (no item is planned into it): gone from the page
    # and from workflow.
    by_id("blg-version-name").send_keys("12.1.2599")
    driver.execute_script("arguments[0].value = arguments[1]", by_id("blg-version-target"), "2027-02-26")
    by_id("blg-version-form-submit").click()
    text_in("blg-status", "Versão 12.1.2599 salva")
    extra = [v["id"] for v in read("/v1/versions")["versions"] if v["name"] == "12.1.2599"][0]
    driver.execute_script("window.confirm = () => true")
    driver.find_element(By.CSS_SELECTOR, f"#blg-versions tr[data-version='{extra}'] .blg-delete-version").click()
    text_in("blg-status", "Versão 12.1.2599 excluída")
    assert not driver.find_elements(By.CSS_SELECTOR, f"#blg-versions tr[data-version='{extra}']")
    assert [v["name"] for v in read("/v1/versions?include_delivered=true")["versions"]] == ["12.1.2501"]

    # Plan the first item into it: it moves into development, under the version.
    row = row_of(planned)
    Select(row.find_element(By.CSS_SELECTOR, ".blg-plan-version")).select_by_visible_text("12.1.2501")
    row.find_element(By.CSS_SELECTOR, ".blg-plan-submit").click()
    text_in("blg-status", f"{planned} planejada na versão 12.1.2501")
    listed()
    assert "Em desenvolvimento" in row_of(planned).text, row_of(planned).text
    groups = driver.find_elements(By.CSS_SELECTOR, f"#blg-backlog tr.blg-group[data-version='{version}']")
    assert groups and "12.1.2501" in groups[0].text
    assert "Para desenvolver" in row_of(waiting).text
    assert not driver.find_elements(By.CSS_SELECTOR, f"#blg-versions tr[data-version='{version}'] .blg-delete-version"), "a version with items is kept"
    shot("65-development-backlog")

    # The waiting item's estimate and promised date (it has no steps: no steps part).
    row_of(waiting).find_element(By.CSS_SELECTOR, ".blg-details").click()
    wait.until(EC.presence_of_element_located((By.ID, "blg-planning-form")))
    assert not driver.find_elements(By.ID, "blg-ticket-steps-title")
    by_id("blg-effort").clear()
    by_id("blg-effort").send_keys("16")
    driver.execute_script("arguments[0].value = arguments[1]", by_id("blg-promised"), "2027-03-31")
    by_id("blg-planning-submit").click()
    text_in("blg-status", f"Planejamento de {waiting} salvo")
    listed()
    assert row_of(waiting).find_element(By.CSS_SELECTOR, ".blg-effort").text == "16"
    by_id("blg-ticket-close").click()

    # A step sequence whose first step has no holder: refused whole, nothing stored.
    by_id("blg-sequence-type").send_keys("melhoria-fiscal")
    first = driver.find_elements(By.CSS_SELECTOR, "#blg-sequence-step-list li")[0]
    first.find_element(By.CSS_SELECTOR, ".blg-step-name").send_keys("Especificação")
    first.find_element(By.CSS_SELECTOR, ".blg-step-fields").send_keys("documento")
    by_id("blg-sequence-form-submit").click()
    text_in("blg-sequence-form-status", "steps[0]")
    assert read("/v1/step-sequences").get("sequences", []) == [], "nothing stored"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", by_id("blg-sequence-form-status"))
    shot("66-development-sequence-refused")
    Select(first.find_element(By.CSS_SELECTOR, ".blg-step-group")).select_by_value("n1")
    by_id("blg-add-step").click()
    second = driver.find_elements(By.CSS_SELECTOR, "#blg-sequence-step-list li")[1]
    second.find_element(By.CSS_SELECTOR, ".blg-step-name").send_keys("Codificação")
    Select(second.find_element(By.CSS_SELECTOR, ".blg-step-agent")).select_by_value("A-ana")
    by_id("blg-sequence-form-submit").click()
    text_in("blg-status", "Sequência melhoria-fiscal salva")
    sequence = driver.find_element(By.CSS_SELECTOR, "#blg-sequences tr[data-sequence='melhoria-fiscal']")
    assert "Especificação" in sequence.text and "Nível 1" in sequence.text and "documento" in sequence.text and "Ana" in sequence.text, sequence.text

    # The planned item's steps: start the sequence, advance (refused: the required field is empty),
    # fill the field, advance.
    listed()
    row_of(planned).find_element(By.CSS_SELECTOR, ".blg-details").click()
    wait.until(EC.presence_of_element_located((By.ID, "blg-ticket-no-steps")))
    Select(by_id("blg-start-type")).select_by_value("melhoria-fiscal")
    by_id("blg-start-submit").click()
    text_in("blg-status", "começou o passo Especificação")
    wait.until(EC.presence_of_element_located((By.ID, "blg-ticket-steps")))
    current = driver.find_element(By.CSS_SELECTOR, "#blg-ticket-steps li[aria-current='step']")
    assert current.get_attribute("data-step") == "0" and "Especificação" in current.text, current.text
    assert "1/2 Especificação" in row_of(planned).text, row_of(planned).text
    by_id("blg-advance").click()
    text_in("blg-ticket-status", "fields.documento")
    listed()
    assert "1/2 Especificação" in row_of(planned).text, "the refused advance changed nothing"
    driver.find_element(By.CSS_SELECTOR, "#blg-fields-form .blg-field[data-field='documento']").send_keys("EF-2025-14")
    by_id("blg-fields-submit").click()
    text_in("blg-status", f"Campos de {planned} salvos")
    wait.until(EC.presence_of_element_located((By.ID, "blg-advance"))).click()
    text_in("blg-status", f"{planned} avançou para Codificação")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#blg-ticket-steps li[data-step='1'][aria-current='step']")))
    listed()
    assert "2/2 Codificação" in row_of(planned).text, row_of(planned).text
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("blg-ticket"))
    shot("67-development-steps")

    # Deliver the version: the item still in development is finished, and the outcome lists it.
    driver.execute_script("window.confirm = () => true")
    driver.find_element(By.CSS_SELECTOR, f"#blg-versions tr[data-version='{version}'] .blg-deliver").click()
    text_in("blg-delivered", "Versão 12.1.2501 entregue: 1 ocorrência(s) finalizada(s)")
    finished = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#blg-delivered-tickets a")]
    assert finished == [planned], finished
    assert set(listed()) == {waiting, analysis}
    delivered = driver.find_element(By.CSS_SELECTOR, f"#blg-versions tr[data-version='{version}']")
    assert not delivered.find_elements(By.CSS_SELECTOR, ".blg-deliver") and "aberta" not in delivered.text, delivered.text
    shot("68-development-delivered")
    sign_out()

    # A product manager (product.decide from his role in workflow's directory) plans and keeps
    # versions, and reads the sequences without a form.
    sign_in(*product)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-development"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "blg-version-form")))
    assert set(listed()) == {waiting, analysis}
    assert not driver.find_elements(By.ID, "blg-sequence-form") and driver.find_elements(By.CSS_SELECTOR, "#blg-sequences tr[data-sequence]")
    assert not driver.find_elements(By.CSS_SELECTOR, ".blg-plan"), "no open version: nothing to plan into"
    print("OK " + version)
except Exception:
    shot("failure-backlog_page")
    raise
finally:
    driver.quit()

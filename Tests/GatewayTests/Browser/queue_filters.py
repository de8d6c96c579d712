#!/usr/bin/python3
"""The agent's queue filters and pages in headless Chromium: stages offered by name with their
counts; priority, category, text, SLA state and "only mine" each narrow the queue to the seeded
ticket they should; 53 tickets fill a first page of 50 and a next page with the rest, the
filters kept across pages.
Usage: queue_filters.py BASE_URL SCREENSHOT_DIR URGENT_CODE FISCAL_CODE TAKEN_CODE
(credentials in PORTAL_AGENT as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, urgent, fiscal, taken = sys.argv[1:6]
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot


def codes():
    return portal.listed_codes("queue", lambda main: "Fila" in main)

def filter_by(**choices):
    """Sets the filters (select values, text, mine) from a clean queue, submits and waits."""
    driver.get(base + "/portal/#/")
    driver.refresh()
    codes()
    for name, value in choices.items():
        if name == "mine":
            driver.find_element(By.ID, "queue-mine").click()
        elif name == "text":
            driver.find_element(By.ID, "queue-text").send_keys(value)
        else:
            Select(driver.find_element(By.ID, f"queue-{name}")).select_by_value(value)
    before = driver.execute_script("return location.hash")
    shown = driver.find_elements(By.ID, "queue")
    driver.find_element(By.ID, "queue-filter").click()
    wait.until(lambda d: d.execute_script("return location.hash") != before)
    # The address changes at once, the page is drawn again on the next hashchange: the list read
    # must not be the one shown before the click (gone once the page redraws).
    if shown:
        wait.until(EC.staleness_of(shown[0]))
    return codes()


try:
    portal.sign_in(*agent)
    wait.until(EC.presence_of_element_located((By.ID, "queue")))
    stages = [o.text for o in Select(driver.find_element(By.ID, "queue-stage")).options]
    # Each filter's first choice agrees with its name: "Todas" as etapa, "Todos" as grupo and SLA.
    firsts = {name: Select(driver.find_element(By.ID, f"queue-{name}")).options[0].text for name in ("stage", "priority", "group_id", "sla_state")}
    assert firsts == {"stage": "Todas", "priority": "Todas", "group_id": "Todos", "sla_state": "Todos"}, firsts
    assert any(s.startswith("Aguardando atendimento (") for s in stages) and any(s.startswith("Em atendimento (1)") for s in stages), stages
    first = codes()
    assert len(first) == 50, len(first)
    assert driver.find_element(By.ID, "queue-next") and not driver.find_elements(By.ID, "queue-first")
    shot("36-agent-queue-filters")
    driver.find_element(By.ID, "queue-next").click()
    wait.until(EC.presence_of_element_located((By.ID, "queue-first")))
    second = codes()
    assert len(second) == 3 and not set(first) & set(second), (len(second), second)
    assert not driver.find_elements(By.ID, "queue-next")

    assert filter_by(priority="URGENTE") == [urgent]
    assert filter_by(category="EXIGENCIA_FISCAL") == [fiscal]
    assert filter_by(text="boleto") == [taken]
    assert filter_by(mine=True) == [taken]
    assert filter_by(stage="em_atendimento") == [taken], codes()
    # On track with its priority: all 53 are on track, newest first in pages of 50, so the urgent
    # one (opened first) is not always on the first page without it.
    assert filter_by(sla_state="on_track", priority="URGENTE") == [urgent]
    assert filter_by(sla_state="breached") == []
    # Filters and pages together: Baixa has 50 of the 53, one page exactly.
    assert len(filter_by(priority="BAIXA")) == 50 and not driver.find_elements(By.ID, "queue-next")
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text[:3000], file=sys.stderr)
    raise
finally:
    driver.quit()

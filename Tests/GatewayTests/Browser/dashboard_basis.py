#!/usr/bin/python3
"""The metrics dashboard says what each chart counts a ticket under, in headless Chromium: the
response times by the category of the moment, the categories, modules and products by the
classification now, the groups by the group that received the ticket; with a filter, everything
as it is now; finished tickets by outcome in a small table (a ticket cancelled as needing no
action: "sem necessidade de atuação" / "no action needed"); in pt-BR and in English. Usage: dashboard_basis.py BASE_URL SCREENSHOT_DIR
(credentials in PORTAL_AGENT as email:password)."""
import datetime
import os
import sys
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots = sys.argv[1], sys.argv[2]
agent = os.environ["PORTAL_AGENT"].split(":", 1)
portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
CHARTS = ("time-chart", "category-chart", "module-chart", "product-chart", "group-chart")


def bases(query):
    driver.get(f"{base}/portal/#/painel?{query}")
    driver.refresh()
    wait.until(lambda d: all(d.find_elements(By.ID, f"{c}-basis") for c in CHARTS))
    return {c: portal.text(f"{c}-basis") for c in CHARTS}


try:
    portal.sign_in(*agent)
    if driver.find_element(By.ID, "lang").text == "Português":  # the page is in English: pt-BR first
        driver.find_element(By.ID, "lang").click()
        wait.until(lambda d: d.find_element(By.ID, "lang").text == "English")
    # Periods are São Paulo's days, where workflow counts its metrics, even with the stored default
    # calendar moved to Tokyo (DashboardBasisTests does it): this month's CSV starts at São Paulo's
    # midnight of the 1st (the page took the stored calendar's zone, twelve hours off).
    bases("periodo=este-mes")
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    first = datetime.datetime.now(sao_paulo).date().replace(day=1)
    start = int(datetime.datetime(first.year, first.month, 1, tzinfo=sao_paulo).timestamp() * 1000)
    href = driver.find_element(By.ID, "export-csv").get_attribute("href")
    assert f"from_ms={start}&" in href, (href, start)
    shown = bases("periodo=90-dias")
    assert "categoria que a ocorrência tinha naquele momento" in shown["time-chart"], shown
    for chart in ("category-chart", "module-chart", "product-chart"):
        assert "classificação que tem agora" in shown[chart], shown
    assert "repasse para outro grupo não a move" in shown["group-chart"], shown
    # The two category charts say different things, as they count differently.
    assert shown["time-chart"] != shown["category-chart"]
    # Finished tickets by outcome: a small table, the outcome named as the ticket pages name it.
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#outcome-table tbody tr"))
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#outcome-table tbody tr")]
    assert "sem necessidade de atuação 1" in rows, rows
    assert "cada conclusão conta no dia em que aconteceu" in portal.text("outcome-basis").lower(), portal.text("outcome-basis")
    shot("dashboard-basis")
    filtered = bases("periodo=90-dias&grupo=n1")
    assert all(text.startswith("Com filtro, cada ocorrência conta pela categoria") for text in filtered.values()), filtered
    # A filter no ticket matches: nothing measured, so no average and no share (workflow answers
    # 100 % SLA met and 0 % reopened for an empty period, which the cards showed as results).
    bases("periodo=90-dias&grupo=grupo-vazio")
    cards = {card.get_attribute("data-metric"): card.find_element(By.TAG_NAME, "strong").text
             for card in driver.find_elements(By.CSS_SELECTOR, "#metric-cards .card")}
    assert cards["opened"] == "0", cards
    assert all(cards[key] == "—" for key in ("avgFirstResponse", "avgResolution", "slaMet", "reopenRate", "avgScore")), cards
    # The averages are business time, and their cards say so (the wall clock is in the chart's table).
    for key in ("avgFirstResponse", "avgResolution"):
        label = driver.find_element(By.CSS_SELECTOR, f"#metric-cards [data-metric={key}]").text
        assert "horário útil" in label, label
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == "Português")
    english = bases("periodo=90-dias")
    assert "the category the ticket had at that moment" in english["time-chart"], english
    assert "the classification it has now" in english["category-chart"], english
    assert "a transfer to another group does not move it" in english["group-chart"], english
    assert "no action needed 1" in [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#outcome-table tbody tr")]
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == "English")
    # An agent (below administrator) sees figures of the tickets they may see, counted as a
    # filtered report counts them: the level note instead of the filter's, every chart "now".
    level_agent = os.environ.get("PORTAL_LEVEL_AGENT")
    if level_agent:
        portal.sign_out()
        portal.sign_in(*level_agent.split(":", 1))
        if driver.find_element(By.ID, "lang").text == "Português":
            driver.find_element(By.ID, "lang").click()
            wait.until(lambda d: d.find_element(By.ID, "lang").text == "English")
        seen = bases("periodo=90-dias")
        assert all(text.startswith("Cada ocorrência conta pela categoria") for text in seen.values()), seen
        assert "até o seu nível de acesso" in portal.text("level-note"), portal.text("level-note")
        assert not driver.find_elements(By.ID, "filter-note")
        shot("dashboard-level-agent")
    print("OK")
except Exception:
    portal.report_failure("dashboard-basis")
    raise
finally:
    driver.quit()

#!/usr/bin/python3
"""A solution written in Markdown as the customer reads it, in headless Chromium: bold, italic,
lists, line breaks, inline code and an https link drawn; an <img onerror>, a javascript: link
and a <script> stay inert text. Usage: solution_markdown.py BASE_URL SCREENSHOT_DIR TICKET_ID
(credentials in PORTAL_CUSTOMER as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By

from portal_browser import Portal

base, shots, ticket = sys.argv[1], sys.argv[2], sys.argv[3]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
try:
    portal.sign_in(*customer)
    portal.open_ticket(ticket)
    solution = wait.until(lambda d: d.find_element(By.ID, "ticket-solution"))
    find = solution.find_elements
    assert [s.text for s in find(By.TAG_NAME, "strong")] == ["Passo 1"], solution.get_attribute("outerHTML")
    assert [e.text for e in find(By.TAG_NAME, "em")] == ["serviço"], solution.get_attribute("outerHTML")
    assert [li.text for li in find(By.CSS_SELECTOR, "ul > li")] == ["Abra o menu Fiscal", "Leia o manual"], solution.get_attribute("outerHTML")
    assert [li.text for li in find(By.CSS_SELECTOR, "ol > li")] == ["Salve", "Transmita"], solution.get_attribute("outerHTML")
    assert [c.text for c in find(By.TAG_NAME, "code")] == ["FIS001 <b>"], solution.get_attribute("outerHTML")
    assert len(find(By.TAG_NAME, "br")) == 1, solution.get_attribute("outerHTML")
    links = find(By.TAG_NAME, "a")
    assert [(a.text, a.get_attribute("href")) for a in links] == [("manual", "https://exemplo.com/manual")], \
        [(a.text, a.get_attribute("href")) for a in links]
    # The malicious parts: no element made of them, their text shown as typed, nothing ran.
    for tag in ("img", "script", "iframe", "b"):
        assert not find(By.TAG_NAME, tag), f"<{tag}> made from the solution: {solution.get_attribute('outerHTML')}"
    text = solution.text
    for literal in ('<img src=x onerror="window.pwned=1">', "[clique](javascript:window.pwned=2)", "<script>window.pwned=3</script>"):
        assert literal in text, f"{literal!r} not shown as text: {text!r}"
    for anchor in driver.find_elements(By.CSS_SELECTOR, "#main a"):
        assert not (anchor.get_attribute("href") or "").lower().startswith("javascript:"), anchor.get_attribute("outerHTML")
    assert driver.execute_script("return window.pwned === undefined"), "the solution's markup ran"
    shot("solution-markdown")
    print("OK")
except Exception:
    portal.report_failure("solution-markdown")
    raise
finally:
    driver.quit()

#!/usr/bin/python3
"""The customer's list of her organization's tickets in headless Chromium: all of them on one
page of up to 100, then a search by a word of the subject finds the one ticket that has it.
Usage: customer_tickets.py BASE_URL SCREENSHOT_DIR TOTAL CODE_WITH_BOLETO
(credentials in PORTAL_CUSTOMER as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By

from portal_browser import Portal

base, shots, total, boleto = sys.argv[1:5]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait


def codes():
    return portal.listed_codes("tickets", lambda main: "Buscar" in main)

try:
    portal.sign_in(*customer)
    assert len(codes()) == int(total), codes()
    assert not driver.find_elements(By.ID, "tickets-next") and not driver.find_elements(By.ID, "cards-note")
    driver.find_element(By.ID, "tickets-text").send_keys("boleto")
    driver.find_element(By.ID, "tickets-search-submit").click()
    wait.until(lambda d: "text=boleto" in d.execute_script("return location.hash"))
    assert codes() == [boleto], codes()
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text[:3000], file=sys.stderr)
    raise
finally:
    driver.quit()

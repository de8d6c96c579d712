#!/usr/bin/python3
"""The roles and access page (#/perfis) in headless Chromium: an agent gets no link and no page;
the administrator tries a role named "administrador" (workflow refuses it beside the form and
stores nothing), creates the role "triagem" with two permissions and adds a third by editing it,
gives it to Bruno (who then reaches anyone) and gives Ana two transfer destinations beyond her
default (group Nível 2 and Carla); deleting "triagem" while Bruno holds it is refused and the role
kept; Estratégica tickets start at level 2, and a negative level is held back by the form.
Usage: access_page.py BASE_URL SCREENSHOT_DIR  (prints "OK")
(credentials in PORTAL_ADMIN / PORTAL_AGENT as email:password)."""
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

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, read = portal.sign_in, portal.sign_out, portal.read


def by_id(element_id):
    return driver.find_element(By.ID, element_id)


def retype(element, text):
    element.clear()
    element.send_keys(text)


def row(table, attribute, value):
    found = driver.find_elements(By.CSS_SELECTOR, f"#{table} tr[{attribute}='{value}']")
    return found[0] if found else None


def notice(text):
    """Waits for the page to be drawn with `text` in its notice."""
    wait.until(lambda d: text in d.find_element(By.ID, "acc-status").text)


def saved(button_id, text):
    """Presses `button_id` and waits for the page to be drawn again with `text` in its notice."""
    before = by_id("acc-status")
    by_id(button_id).click()
    wait.until(EC.staleness_of(before))
    notice(text)


def permission(name):
    return by_id("acc-perm-" + name.replace(".", "-"))


def stored_roles():
    return {role["name"]: role.get("permissions", []) for role in read("/v1/roles").get("roles", [])}


try:
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-access"), "agents get no link"
    driver.get(base + "/portal/#/perfis")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "acc-roles-title") and not driver.find_elements(By.ID, "acc-role-form"), \
        "agents do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-access"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "acc-role-form")))
    # Every permission workflow knows is offered with what it allows.
    for name in ("directory.manage", "routing.manage", "product.decide", "tickets.transfer_any", "tickets.act_any", "tickets.link_customer"):
        assert permission(name).get_attribute("type") == "checkbox", name
    assert "qualquer agente ou grupo" in by_id(permission("tickets.transfer_any").get_attribute("aria-describedby")).text
    assert row("acc-agents", "data-agent", "A-ana") is not None and "Nível 1 e membros" in row("acc-agents", "data-agent", "A-ana").text

    # The administrator's name: workflow refuses it, beside the form; nothing is stored.
    by_id("acc-role-name").send_keys("administrador")
    permission("routing.manage").click()
    by_id("acc-role-submit").click()
    wait.until(lambda d: "Administradores já têm todas as permissões" in d.find_element(By.ID, "acc-role-status").text)
    assert "administrador" not in stored_roles(), stored_roles()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", by_id("acc-role-status"))
    shot("60-access-role-refused")

    # The role "triagem": act on any ticket and transfer anywhere.
    retype(by_id("acc-role-name"), "triagem")
    permission("routing.manage").click()
    permission("tickets.act_any").click()
    permission("tickets.transfer_any").click()
    saved("acc-role-submit", "Papel triagem salvo")
    triage = row("acc-roles", "data-role", "triagem")
    assert triage is not None and "tickets.act_any" in triage.text and "tickets.transfer_any" in triage.text, triage and triage.text
    assert "ninguém" in triage.find_element(By.CLASS_NAME, "acc-holders").text
    # Edited: linking customers too (the name is kept as it is).
    triage.find_element(By.CLASS_NAME, "acc-edit-role").click()
    wait.until(lambda d: d.find_element(By.ID, "acc-role-form").get_attribute("data-role") == "triagem")
    assert by_id("acc-role-name").get_attribute("readonly") is not None
    assert permission("tickets.act_any").is_selected() and not permission("routing.manage").is_selected()
    permission("tickets.link_customer").click()
    saved("acc-role-submit", "Papel triagem salvo")
    assert "tickets.link_customer" in row("acc-roles", "data-role", "triagem").text

    # Bruno gets the role: he reaches anyone. Ana keeps no role and gets Nível 2 and Carla.
    row("acc-agents", "data-agent", "A-bruno").find_element(By.CLASS_NAME, "acc-change-agent").click()
    wait.until(lambda d: d.find_element(By.ID, "acc-agent-form").get_attribute("data-agent") == "A-bruno")
    Select(by_id("acc-agent-role")).select_by_value("triagem")
    saved("acc-agent-submit", "Papel e destinos de Bruno salvos")
    bruno = row("acc-agents", "data-agent", "A-bruno")
    assert "triagem" in bruno.text and "qualquer agente ou grupo (tickets.transfer_any)" in bruno.text, bruno.text
    assert "Bruno" in row("acc-roles", "data-role", "triagem").find_element(By.CLASS_NAME, "acc-holders").text

    row("acc-agents", "data-agent", "A-ana").find_element(By.CLASS_NAME, "acc-change-agent").click()
    wait.until(lambda d: d.find_element(By.ID, "acc-agent-form").get_attribute("data-agent") == "A-ana")
    form = by_id("acc-agent-form")
    form.find_element(By.CSS_SELECTOR, "input.acc-dest[value='|n2']").click()
    form.find_element(By.CSS_SELECTOR, "input.acc-dest[value='A-carla|']").click()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
    shot("61-access-agent-destinations")
    saved("acc-agent-submit", "Papel e destinos de Ana salvos")
    ana = row("acc-agents", "data-agent", "A-ana")
    assert "padrão: Nível 1 e membros; listados: Nível 2 e membros, Carla" in ana.text, ana.text

    # Deleting a role Bruno holds: refused, naming him; the role stays.
    row("acc-roles", "data-role", "triagem").find_element(By.CLASS_NAME, "acc-delete-role").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "Em uso por Bruno" in d.find_element(By.ID, "acc-roles-status").text)
    assert row("acc-roles", "data-role", "triagem") is not None
    assert "triagem" in stored_roles()
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("acc-roles-title"))
    shot("62-access-roles")

    # Estratégica starts at level 2; a negative level is held back by the form (nothing sent).
    level = by_id("acc-level-ESTRATEGICA")
    retype(level, "2")
    saved("acc-level-save-ESTRATEGICA", "Ocorrências novas de Estratégica começam no nível 2")
    retype(by_id("acc-level-PROBLEMA"), "-1")
    by_id("acc-level-save-PROBLEMA").click()
    assert driver.execute_script("return !document.getElementById('acc-level-PROBLEMA').checkValidity()")
    levels = {entry["category"]: entry for entry in read("/v1/category-access-levels")["levels"]}
    assert levels["ESTRATEGICA"].get("access_level") == 2 and levels["PROBLEMA"].get("access_level", 0) == 0, levels
    assert "Estratégica (padrão)" not in row("acc-levels", "data-category", "ESTRATEGICA").text
    assert "Problema (padrão)" in row("acc-levels", "data-category", "PROBLEMA").text
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("acc-levels-title"))
    shot("63-access-levels")

    # The same page in English.
    by_id("lang").click()
    wait.until(lambda d: "Roles and permissions" in d.find_element(By.ID, "acc-roles-title").text)
    assert "default: Nível 1 and members; listed: Nível 2 and members, Carla" in row("acc-agents", "data-agent", "A-ana").text
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", by_id("acc-agents-title"))
    shot("64-access-english")
    by_id("lang").click()
    wait.until(lambda d: "Papéis e permissões" in d.find_element(By.ID, "acc-roles-title").text)
    print("OK", flush=True)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()

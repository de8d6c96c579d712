"""What every portal browser test shares: headless Chromium driven by Selenium with Debian's
chromedriver (no download), a patient wait, screenshots named portal-<name>.png, and signing in
and out through the portal's login form. The test scripts beside this file import it."""
import email
import email.policy
import glob
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def sink_mails(sink, address):
    """The messages the SMTP sink stored in folder `sink` for envelope recipient `address`, oldest
    first, each as (message, its text/plain part)."""
    found = []
    for envelope in sorted(glob.glob(os.path.join(sink, "*.json")), key=lambda p: int(os.path.basename(p)[:-5])):
        with open(envelope) as f:
            if address not in json.load(f).get("to", []):
                continue
        with open(envelope[:-5] + ".eml", "rb") as f:
            message = email.message_from_bytes(f.read(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                found.append((message, part.get_content()))
                break
    return found


LOADING = ("Carregando", "Loading…")


class Portal:
    """One browser on the portal at `base`, saving screenshots into `shots`."""

    def __init__(self, base, shots):
        self.base = base
        self.shots = shots
        os.makedirs(shots, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100",
                     "--disable-dev-shm-usage"):
            options.add_argument(flag)
        # The console's messages, read with console_problems().
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = self._start(options)
        # 30 s: many browsers and services share a CI runner's two cores; a wait ends when its condition holds.
        self.wait = WebDriverWait(self.driver, 30,
                                  ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))

    @staticmethod
    def _start(options, attempts=3):
        """Chromium under chromedriver, started again when the start fails: chromedriver listens on
        a port Selenium found free a moment before (someone may take it first), and a loaded
        machine can miss Chromium's start-up deadline. What fails after the start is not retried."""
        for attempt in range(attempts):
            try:
                return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            except WebDriverException as error:
                if attempt == attempts - 1:
                    raise
                print(f"chromium did not start ({error.msg}); again", file=sys.stderr)
                time.sleep(1)

    def settled(self, seconds=60):
        """Waits until the page shows no "Enviando…" / "Sending…" note: what the last click sent has
        been answered. Reloading the page before that (to read what the action changed) could
        cancel the request in the browser before it left, most likely for a large upload on a
        loaded machine."""
        sending = ("Enviando…", "Sending…")
        WebDriverWait(self.driver, seconds, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
            lambda d: not any(note in d.find_element(By.TAG_NAME, "body").text for note in sending))

    def console_problems(self, expected=()):
        """What the browser's console said since the last call that a person's page should not:
        errors (a script's, a request refused or not found) and Chromium's DOM warnings, less the
        ones whose text contains one of `expected` (a refusal the test provokes, the session check's
        401 while signed out)."""
        problems = []
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if entry.get("level") != "SEVERE" and "[DOM]" not in message:
                continue
            if not any(text in message for text in expected):
                problems.append(f"{entry.get('level')} {message}")
        return problems

    def loaded(self):
        """Waits until the page's main part no longer says "Carregando…" / "Loading…" (a page shows
        its frame, e.g. its filters, before the data it reads has arrived)."""
        self.wait.until(lambda d: not any(note in d.find_element(By.TAG_NAME, "main").text for note in LOADING))

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.shots, f"portal-{name}.png"))

    def text(self, element_id):
        """The text of the element with `element_id`, or "" while there is none."""
        found = self.driver.find_elements(By.ID, element_id)
        return found[0].text if found else ""

    def heading(self):
        """The page's h1 text."""
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def fill(self, element_id, value):
        """Types `value` into the field with `element_id`, replacing what it held."""
        field = self.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)

    def row_named(self, table_id, name):
        """The row of table `table_id` whose cell of class `name` reads `name`, or None."""
        for row in self.driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr"):
            if row.find_element(By.CLASS_NAME, "name").text == name:
                return row
        return None

    def report_failure(self, name):
        """What the page showed when a step failed (on stderr, for the test's failure message) and
        a screenshot `portal-failure-<name>-<pid>.png` in the temporary directory (not among the
        documentation's screenshots), its path printed too."""
        main = self.driver.find_elements(By.ID, "main")
        print(f"failed at {self.driver.current_url}: {main[0].text if main else self.driver.page_source[:2000]}", file=sys.stderr)
        path = os.path.join(tempfile.gettempdir(), f"portal-failure-{name}-{os.getpid()}.png")  # one per run: runs side by side keep theirs
        self.driver.save_screenshot(path)
        print(f"screenshot: {path}", file=sys.stderr)

    def read(self, path):
        """GET `path` on the API with the page's session (as the signed-in person), as JSON."""
        return json.loads(self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) => done(await r.text()))", path))

    def sign_in(self, email, password):
        self.driver.get(self.base + "/portal/")
        self.submit_login(email, password)
        self.wait.until(EC.presence_of_element_located((By.ID, "logout")))

    def submit_login(self, email, password):
        """Fills the sign-in form the page shows and submits it. The page may draw the form again
        meanwhile (a navigation by hash while signed out draws it once more when its session check
        answers, which a loaded machine delays): the form is then filled again, never half in the
        old one and half in the new one."""
        def submitted(driver):
            try:
                fields = [(driver.find_element(By.ID, "email"), email), (driver.find_element(By.ID, "password"), password)]
                for field, value in fields:
                    if field.get_attribute("value") != value:
                        field.clear()
                        field.send_keys(value)
                if any(field.get_attribute("value") != value for field, value in fields):
                    return False
                driver.find_element(By.ID, "login-submit").click()
                return True
            except (StaleElementReferenceException, NoSuchElementException):
                return False
        self.wait.until(submitted)

    def open_ticket(self, ticket):
        """The ticket's page, read again (not from the page's state) when it is the one shown. A
        ticket page shown before (another ticket's, or this one's before the refresh) is waited
        out: a navigation by hash redraws the page a moment after the browser says it is done."""
        url = f"{self.base}/portal/#/t/{ticket}"
        shown = self.driver.find_elements(By.ID, "ticket-title")
        if self.driver.current_url == url:
            self.driver.refresh()
        else:
            self.driver.get(url)
        if shown:
            self.wait.until(EC.staleness_of(shown[0]))
        self.wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))

    def sign_out(self):
        self.driver.find_element(By.ID, "logout").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "email")))

    def listed_codes(self, table_id, ready):
        """The ticket codes in table `table_id` once the page finished drawing: `ready(main_text)`
        says the page is the expected one, and "Carregando" must be gone (read again if the page
        redraws meanwhile). An empty list when the page shows no table."""
        def read(driver):
            main = driver.find_element(By.TAG_NAME, "main").text
            if any(note in main for note in LOADING) or not ready(main):
                return False
            try:
                return [a.text for a in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr td:first-child a")] or ["(none)"]
            except StaleElementReferenceException:
                return False
        found = self.wait.until(read)
        return [] if found == ["(none)"] else found

    def facts(self, element_id):
        """A definition list (dt/dd) as {term: definition}."""
        terms = self.driver.find_elements(By.CSS_SELECTOR, f"#{element_id} dt")
        values = self.driver.find_elements(By.CSS_SELECTOR, f"#{element_id} dd")
        return {t.text: v.text for t, v in zip(terms, values)}

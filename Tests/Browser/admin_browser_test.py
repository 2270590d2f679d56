#!/usr/bin/env python3
"""The admin settings page in a real browser (headless Chromium through chromedriver and selenium).

Starts, from the built binaries, the Salesforce sandbox (org activity-demo) and `docsend-sync admin` on a SQLite
store (the broker is given: `--amqp-url`), opens a session link, and goes through what an admin does: connect through
the sandbox's login page (typing into its form), change settings, see a refused mapping's problem under its field,
search, link and unlink an Account, replay a parked message, disconnect. It asserts on the page after each step and
takes a PNG of each state. One step is done with the keyboard only, and every page is checked for unlabelled controls.

Prints `PASS`/`FAIL` per step and closes with `N passed, N failed`; exits 1 on any failure. Everything listens on
127.0.0.1; every wait is bounded; what it started is stopped on exit (also on SIGTERM/SIGINT).

    python3 Tests/Browser/admin_browser_test.py --bin .build/debug --amqp-url amqp://guest:guest@127.0.0.1:5672/ \
        [--management-url http://127.0.0.1:15672] [--screenshots docs/admin]
"""

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

TEAM = "team_northwind"
START_TIMEOUT = 60  # seconds for the sandbox and the admin service to print their URL
PAGE_TIMEOUT = 30  # seconds for a page to load or a condition to hold
# The sandbox's connected app (seeds demo and activity-demo; docs/salesforce-sandbox.md).
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"

# Every control of the page has a label (or an aria-label), and every id its aria-describedby names exists.
UNLABELLED_JS = """
const bad = [];
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
  const named = el.tagName === 'BUTTON' ? (el.textContent.trim() || el.getAttribute('aria-label'))
                                        : (el.labels.length > 0 || el.getAttribute('aria-label'));
  if (!named) bad.push(el.outerHTML.slice(0, 120));
  for (const id of (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)) {
    if (!document.getElementById(id)) bad.push('aria-describedby ' + id + ' missing: ' + el.outerHTML.slice(0, 80));
  }
}
return bad;
"""


class Failure(Exception):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="admin-browser.")
        self.processes = []
        self.driver = None
        self.passed = 0
        self.failed = 0
        self.shots = []

    # --- processes ------------------------------------------------------------------------------------------

    def start(self, name, argv, env, pattern):
        """Starts a process logging into the work folder; returns the first match of `pattern` in its output."""
        log_path = os.path.join(self.work, name + ".log")
        log = open(log_path, "w")
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes.append((name, process, log_path))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with open(log_path) as handle:
                match = re.search(pattern, handle.read())
            if match:
                return match.group(1)
            if process.poll() is not None:
                break
            time.sleep(0.2)
        raise Failure(f"{name} did not start:\n" + self.tail(log_path))

    @staticmethod
    def tail(path, lines=25):
        try:
            with open(path) as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except WebDriverException:
                pass
            self.driver = None
        for name, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop within 15 s: killed", file=sys.stderr)
                    process.kill()
                    process.wait(timeout=5)
        self.processes = []

    def environment(self, sandbox):
        prefix = "browser-" + secrets.token_hex(4)
        env = dict(os.environ)
        for key in list(env):
            if key.startswith("DOCSEND_SYNC_"):
                del env[key]
        env.update({
            "DOCSEND_SYNC_AMQP_URL": self.args.amqp_url,
            # Queues of their own: the broker may be shared with other tests.
            "DOCSEND_SYNC_TOPOLOGY_PREFIX": prefix,
            "DOCSEND_SYNC_TOPOLOGY_EXCHANGE": prefix + ".activity",
            "DOCSEND_SYNC_DATA_DIRECTORY": os.path.join(self.work, "data"),
            "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DOCSEND_SYNC_SALESFORCE_LOGIN_URL": sandbox,
            "DOCSEND_SYNC_SALESFORCE_CLIENT_ID": CLIENT_ID,
            "DOCSEND_SYNC_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            "DOCSEND_SYNC_ADMIN_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DOCSEND_SYNC_ADMIN_HOST": "127.0.0.1",
            "DOCSEND_SYNC_ADMIN_SANDBOX_LOGIN_URL": sandbox,
        })
        os.makedirs(env["DOCSEND_SYNC_DATA_DIRECTORY"], exist_ok=True)
        return env, prefix

    # --- the broker's management API: one parked message of the team ----------------------------------------

    def park_a_message(self, prefix):
        url = self.args.management_url.rstrip("/") + "/api/exchanges/%2F/amq.default/publish"
        body = {
            "routing_key": prefix + ".parking",
            "payload": json.dumps({"team_id": TEAM, "visit_id": "visit_browser_1", "event_id": "evt_browser_1"}),
            "payload_encoding": "string",
            "properties": {
                "message_id": "evt_browser_1", "type": "visit.updated", "content_type": "application/json",
                "headers": {
                    "docsend-failure-code": "salesforce.INVALID_FIELD",
                    "docsend-failure-reason": "No such column 'DocSend_Old_Field__c' on entity 'Task'",
                    "docsend-failed-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "docsend-attempts": 1,
                    "docsend-origin-queue": prefix + ".visits",
                },
            },
        }
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"guest:guest").decode(),
        })
        with urllib.request.urlopen(request, timeout=10) as answer:
            if not json.load(answer).get("routed"):
                raise Failure("the parked message was not routed to " + prefix + ".parking")

    # --- the browser ----------------------------------------------------------------------------------------

    def open_browser(self):
        options = Options()
        options.binary_location = self.args.chromium
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1100,900", "--force-device-scale-factor=1", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking", "--lang=en-US"]:
            options.add_argument(flag)
        service = Service(executable_path=self.args.chromedriver, log_output=os.path.join(self.work, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.driver.implicitly_wait(0)

    def wait(self, condition, what):
        try:
            # A form post navigates: an element read while the old page goes away is stale, and the next poll reads
            # the new page.
            return WebDriverWait(
                self.driver, PAGE_TIMEOUT, poll_frequency=0.1,
                ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
            ).until(lambda d: condition(d))
        except Exception as error:
            raise Failure(f"{what} (at {self.driver.current_url}): {error.__class__.__name__}") from error

    def outcome(self):
        return self.driver.find_element(By.ID, "main").get_attribute("data-outcome")

    def expect_outcome(self, outcome):
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'main[data-outcome="{outcome}"]'),
                  f"the page should say {outcome}")

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def expect_text(self, *texts):
        body = self.text()
        for text in texts:
            if text not in body:
                raise Failure(f"the page does not say {text!r}; it says:\n{body[:1500]}")

    def check_labels(self):
        bad = self.driver.execute_script(UNLABELLED_JS)
        if bad:
            raise Failure("controls without a label: " + "; ".join(bad))
        if self.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != "en":
            raise Failure("the page has no lang")
        levels = [int(h.tag_name[1]) for h in self.driver.find_elements(By.CSS_SELECTOR, "h1, h2, h3, h4, h5, h6")]
        if levels.count(1) != 1 or levels[0] != 1 or any(b > a + 1 for a, b in zip(levels, levels[1:])):
            raise Failure(f"headings out of order: {levels}")

    def screenshot(self, name):
        """The whole page, as a PNG."""
        width, height = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, Math.max(200, document.body.scrollHeight)];")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = os.path.join(self.args.screenshots, name + ".png")
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        self.shots.append(path)

    def field(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def submit(self, button_id):
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.field(button_id).click()
        self.wait(lambda d: self.stale(old), "a new page after " + button_id)

    @staticmethod
    def stale(element):
        try:
            element.tag_name
            return False
        except WebDriverException:
            return True

    def step(self, name, body):
        try:
            body()
            self.passed += 1
            print(f"PASS {name}", flush=True)
        except Exception as error:  # a failed step stops the run: the next ones depend on it
            self.failed += 1
            print(f"FAIL {name}: {error}", flush=True)
            raise

    # --- the steps ------------------------------------------------------------------------------------------

    def run(self):
        bin_dir = self.args.bin
        sandbox = self.start(
            "sandbox", [os.path.join(bin_dir, "salesforce-sandbox"), "--port", "0", "--seed", "activity-demo"],
            dict(os.environ), r"salesforce-sandbox listening on (http://127\.0\.0\.1:\d+)")
        env, prefix = self.environment(sandbox)
        admin = self.start(
            "admin", [os.path.join(bin_dir, "docsend-sync"), "admin", "--port", "0"], env,
            r"docsend-url=(http://127\.0\.0\.1:\d+)[^\n]*serving the admin API")
        link = subprocess.run(
            [os.path.join(bin_dir, "docsend-sync"), "admin", "link", "--team", TEAM, "--public-url", admin],
            env=env, capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        if self.args.management_url:
            self.park_a_message(prefix)
        self.open_browser()
        d = self.driver
        state = {}

        def opens_the_page():
            d.get(link)
            self.wait(lambda _: urllib.parse.urlparse(d.current_url).path == f"/teams/{TEAM}", "the link opens the page")
            self.expect_outcome("settings")
            self.expect_text("Salesforce settings", "Not connected", "Require email to view")
            self.check_labels()
            self.screenshot("01-not-connected")

        def connects_with_the_keyboard_through_the_login_page():
            # Keyboard only: Tab from the top to the skip link, Enter; then Tab to the Production choice, Space,
            # Tab to "Connect Salesforce", Enter.
            # Keys go to whatever has the focus, as a person's would (a fresh load: the document).
            d.get(d.current_url)
            self.expect_outcome("settings")

            def press(key):
                ActionChains(d).send_keys(key).perform()
                return d.switch_to.active_element

            if "skip" not in (press(Keys.TAB).get_attribute("class") or ""):
                raise Failure("the first Tab does not reach the skip link")
            press(Keys.ENTER)
            self.wait(lambda _: d.switch_to.active_element.get_attribute("id") == "main", "the skip link moves focus")
            focused = None
            for _ in range(40):
                focused = press(Keys.TAB).get_attribute("id")
                if focused in ("host-production", "host-sandbox", "host-my_domain", "connect-button"):
                    break
            if focused != "host-production":
                raise Failure(f"Tab reaches {focused}, not the Production choice")
            press(Keys.SPACE)
            if not self.field("host-production").is_selected():
                raise Failure("Space did not choose Production")
            for _ in range(10):
                if focused == "connect-button":
                    break
                focused = press(Keys.TAB).get_attribute("id")
            if focused != "connect-button":
                raise Failure("Tab does not reach the Connect button")
            press(Keys.ENTER)
            # The sandbox's login page: type the demo user into its form, Allow.
            self.wait(lambda _: "/services/oauth2/authorize" in d.current_url and d.find_elements(By.NAME, "username"),
                      "Connect leads to the sandbox's login page")
            state["authorize"] = d.current_url
            user = d.find_element(By.NAME, "username")
            first = Select(user).options[0].text
            user.send_keys(first)
            if Select(user).first_selected_option.text != first:
                raise Failure("typing the user name did not choose it")
            self.screenshot("02-salesforce-login")
            d.find_element(By.CSS_SELECTOR, 'button[value="allow"]').click()
            self.expect_outcome("connected")
            state["callback"] = d.current_url
            self.expect_text("Connected to Salesforce", first)
            self.check_labels()
            self.screenshot("03-connected")

        def a_used_login_is_refused_plainly():
            d.get(state["callback"])
            self.expect_outcome("state_unknown")
            self.expect_text("This login is unknown or was already used", "start the connection again")
            self.screenshot("04-login-already-used")
            d.find_element(By.ID, "back-link").click()
            self.expect_outcome("settings")
            self.expect_text("Connected", "Parked messages")
            if self.args.management_url:
                self.expect_text("salesforce.INVALID_FIELD", "No such column 'DocSend_Old_Field__c'")

        def changes_settings():
            space = self.field("f-sync_space_links")
            if space.is_selected():
                space.click()
            tasks = self.field("f-create_open_tasks_for_unmatched_records")
            if not tasks.is_selected():
                tasks.click()
            Select(self.field("f-field_mapping-visit_duration")).select_by_value("DocSend_Duration__c")
            self.submit("save-settings")
            self.expect_text("Settings saved.")
            if self.field("f-sync_space_links").is_selected() or not self.field("f-create_open_tasks_for_unmatched_records").is_selected():
                raise Failure("the saved toggles are not shown")
            chosen = Select(self.field("f-field_mapping-visit_duration")).first_selected_option.get_attribute("value")
            if chosen != "DocSend_Duration__c":
                raise Failure(f"the saved mapping is not shown: {chosen}")
            self.check_labels()
            self.screenshot("05-settings-saved")

        def a_field_of_the_wrong_type_is_refused_under_the_field():
            # Percent viewed is a number; DocSend_Visit_Id__c is a Text field.
            Select(self.field("f-field_mapping-percent_viewed")).select_by_value("DocSend_Visit_Id__c")
            self.submit("save-settings")
            self.expect_text("The settings were not saved", "Percent viewed → \"DocSend_Visit_Id__c\"")
            select = self.field("f-field_mapping-percent_viewed")
            if select.get_attribute("aria-invalid") != "true":
                raise Failure("the refused field is not marked invalid")
            error = self.field("f-field_mapping-percent_viewed-error")
            if "f-field_mapping-percent_viewed-error" not in select.get_attribute("aria-describedby").split():
                raise Failure("the error is not tied to its field")
            if not error.text:
                raise Failure("no error under the field")
            self.check_labels()
            # The summary links to the field.
            d.find_element(By.CSS_SELECTOR, 'a[href="#f-field_mapping-percent_viewed"]').click()
            self.wait(lambda _: d.switch_to.active_element.get_attribute("id") == "f-field_mapping-percent_viewed",
                      "the summary's link focuses the field")
            self.screenshot("06-validation-error")
            Select(self.field("f-field_mapping-percent_viewed")).select_by_value("")
            self.submit("save-settings")
            self.expect_text("Settings saved.")

        def links_and_unlinks_an_account():
            search = self.field("f-account_search")
            search.clear()
            search.send_keys("acme")
            self.submit("search-button")
            self.expect_text("Acme Corporation")
            self.field("f-docsend_account_id").send_keys("acct_acme")
            Select(self.field("f-salesforce_account_id")).select_by_visible_text(
                next(o.text for o in Select(self.field("f-salesforce_account_id")).options if o.text.startswith("Acme Corporation")))
            self.submit("add-link-button")
            self.expect_text("Account linked.", "acct_acme")
            self.screenshot("07-account-linked")
            d.find_element(By.CSS_SELECTOR, 'button[aria-label="Remove the link of DocSend account acct_acme"]').click()
            self.wait(lambda _: "Account link removed." in self.text(), "the link is removed")
            self.expect_text("No DocSend account is linked yet.")

        def replays_the_parked_message():
            if not self.args.management_url:
                print("  (no --management-url: no parked message to replay)")
                return
            self.submit("replay-button")
            self.expect_text("1 parked message(s) sent back to work.", "No parked messages.")

        def disconnects():
            self.submit("disconnect-button")
            self.expect_outcome("confirm_disconnect")
            self.expect_text("Disconnect Salesforce?")
            self.check_labels()
            self.screenshot("08-disconnect-confirmation")
            self.submit("confirm-disconnect")
            self.expect_outcome("disconnected")
            self.expect_text("Disconnected from Salesforce", "Salesforce revoked DocSend's access.")
            self.screenshot("09-disconnected")
            d.find_element(By.ID, "back-link").click()
            self.expect_outcome("settings")
            self.expect_text("Not connected")
            # The sandbox saw the revoke.
            with urllib.request.urlopen(sandbox + "/_sandbox/requests", timeout=10) as answer:
                requests = json.load(answer)
            entries = requests.get("requests", requests) if isinstance(requests, dict) else requests
            if not any("/services/oauth2/revoke" in json.dumps(entry) for entry in entries):
                raise Failure("the sandbox's request log shows no revoke")

        for name, body in [
            ("the session link opens the settings page", opens_the_page),
            ("connect with the keyboard through the sandbox's login page", connects_with_the_keyboard_through_the_login_page),
            ("a login used twice is refused, said plainly", a_used_login_is_refused_plainly),
            ("change settings", changes_settings),
            ("a field of the wrong type is refused under the field", a_field_of_the_wrong_type_is_refused_under_the_field),
            ("search, link and unlink an Account", links_and_unlinks_an_account),
            ("replay the parked message", replays_the_parked_message),
            ("disconnect (confirmed; the token revoked)", disconnects),
        ]:
            self.step(name, body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="folder with docsend-sync and salesforce-sandbox")
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--management-url", default="", help="the broker's management API (to park a message)")
    parser.add_argument("--screenshots", default="", help="where the PNGs go (default: a temporary folder)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()

    run = Run(args)
    if not args.screenshots:
        args.screenshots = os.path.join(run.work, "screenshots")
    os.makedirs(args.screenshots, exist_ok=True)

    def stop_on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        run.run()
    except Exception as error:
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        for name, _, path in run.processes:
            print(f"--- the end of {name}'s log:\n{run.tail(path)}", file=sys.stderr)
        if run.failed == 0:
            run.failed = 1
    finally:
        run.stop()
    if args.screenshots.startswith(run.work):
        print(f"screenshots: {len(run.shots)} taken, not kept (--screenshots DIR keeps them)")
    else:
        print("screenshots: " + ", ".join(run.shots))
    shutil.rmtree(run.work, ignore_errors=True)
    print(f"{run.passed} passed, {run.failed} failed")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()

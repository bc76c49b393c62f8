#!/usr/bin/env python3
"""Drives the dashboard in headless Chromium over the Chrome DevTools Protocol and checks what it shows.

Started by dashboard-test.sh against a running plant (simulate → gateway → mosquitto → stream → api): logs in
through the form, then waits for the plant tree, coloured machine states, live values with sparklines, OEE
per line, the alarm raised by the test's rule (and acknowledges it), the work order, a trend chart, and the
504 message when `stream` does not answer. Every wait polls the page; a failure names what was missing and
what the page showed instead, and saves a screenshot.
"""
import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import websocket  # pip install websocket-client

DEFAULT_PLANT = [  # deploy/plants/default.yaml
    "acme/dresden/body-shop/line-1/press-1", "acme/dresden/body-shop/line-1/press-2",
    "acme/dresden/body-shop/line-1/cnc-1", "acme/dresden/body-shop/line-1/cnc-2",
    "acme/dresden/body-shop/line-1/compressor-1", "acme/dresden/filling/line-2/filler-1",
    "acme/dresden/filling/line-2/filler-2", "acme/dresden/filling/line-2/packer-1",
    "acme/dresden/filling/line-2/packer-2", "acme/dresden/filling/line-2/compressor-2",
]
PRESS = "acme/dresden/body-shop/line-1/press-1"
PRESS2 = "acme/dresden/body-shop/line-1/press-2"
RUNNING_GREEN = "rgb(30, 158, 69)"  # --running in style.css
DOWN_RED = "rgb(220, 38, 38)"  # --down in style.css


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


def publish_event(args, asset, short_type, full_type, data):
    """Publishes one CloudEvent on the asset's UNS event topic, as stream would."""
    event = {"specversion": "1.0", "id": f"dashboard-test-{time.time_ns()}", "source": "/shopfloor/dashboard-test",
             "type": full_type, "time": rfc3339(time.time()), "subject": asset, "datacontenttype": "application/json",
             "data": data}
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(args.mqtt_port), "-q", "1",
                    "-t", f"{args.uns_prefix}/{asset}/event/{short_type}", "-m", json.dumps(event)], check=True)


class Failure(Exception):
    pass


class Browser:
    """One headless Chromium with one page, spoken to over its DevTools WebSocket."""

    def __init__(self, binary, profile):
        os.makedirs(profile, exist_ok=True)
        args = [binary, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1400,1800",
                "--disable-dev-shm-usage", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(os.path.join(profile, "chromium.log"), "w"))
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 20
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.process.poll() is not None or time.time() > deadline:
                raise Failure(f"chromium did not start (see {profile}/chromium.log)")
            time.sleep(0.05)
        port = open(port_file).read().split()[0]
        targets = []
        while not targets:
            targets = [t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list")) if t["type"] == "page"]
            if time.time() > deadline:
                raise Failure("chromium has no page target")
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.errors = []
        self.send("Runtime.enable")
        self.send("Page.enable")

    def send(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.errors.append(details.get("exception", {}).get("description") or details.get("text"))
            elif message.get("method") == "Runtime.consoleAPICalled" and message["params"]["type"] == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in message["params"]["args"]))
            if message.get("id") == ident:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message["result"]

    def eval(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise Failure(f"page script failed: {expression[:80]}…: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def wait(self, what, expression, seconds, show="document.body.innerText.slice(0, 600)"):
        """Polls `expression` until it is truthy; fails naming `what` and showing `show`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                value = self.eval(expression)
            except Failure:  # e.g. the page is still loading: its elements are not there yet
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise Failure(f"{what}: not seen within {seconds} s. The page shows: {self.eval(show)!r}")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def js(value):
    return json.dumps(value)


def check(browser, args):
    step = lambda text: print(f"dashboard-test: {text}", flush=True)
    browser.send("Page.navigate", url=args.url)
    browser.wait("the login form", "!document.getElementById('login').hidden", 15)

    # A wrong password is refused with the api's message, and the form stays.
    browser.eval(f"document.getElementById('login-user').value = {js(args.user)};"
                 "document.getElementById('login-password').value = 'wrong';"
                 "document.querySelector('#login-form button').click()")
    browser.wait("the error for a wrong password", "document.getElementById('login-error').textContent.includes('wrong password')", 10,
                 show="document.getElementById('login-error').textContent")
    browser.eval(f"document.getElementById('login-password').value = {js(args.password)};"
                 "document.querySelector('#login-form button').click()")
    browser.wait("the dashboard after logging in", "!document.getElementById('app').hidden && "
                 f"document.getElementById('whoami').textContent.includes({js(args.user)})", 10,
                 show="document.getElementById('login-error').textContent")
    step("logged in through the form")

    # The plant tree: every machine of the default plant, under its line. The api learns assets from the UNS,
    # so the page reloads until they are all there (a user would press reload too).
    deadline = time.time() + 40
    while True:
        missing = browser.eval(f"{js(DEFAULT_PLANT)}.filter(p => !document.querySelector("
                               "`#tree li[data-level=\"cell\"][data-path=\"${p}\"]`))")
        if not missing:
            break
        if time.time() > deadline:
            shown = browser.eval("document.getElementById('tree').innerText")
            raise Failure(f"plant tree: machines missing after 40 s: {missing}; the tree shows {shown!r}")
        time.sleep(2)
        browser.send("Page.reload")
        browser.wait("the dashboard after a reload", "!document.getElementById('app').hidden", 10)
    lines = browser.eval("[...document.querySelectorAll('#tree li[data-level=line]')].map(l => l.dataset.path)")
    if "acme/dresden/body-shop/line-1" not in lines or "acme/dresden/filling/line-2" not in lines:
        raise Failure(f"plant tree: lines are {lines}")
    step(f"plant tree shows the {len(DEFAULT_PLANT)} machines of the default plant")

    # Machine states in colour: a running machine's tile carries the running colour.
    running = browser.wait(
        "a machine tile coloured as running",
        f"[...document.querySelectorAll('.machine[data-state=running]')].filter(t => getComputedStyle(t).borderLeftColor === {js(RUNNING_GREEN)}).length",
        20, show="[...document.querySelectorAll('.machine')].map(t => t.dataset.path + '=' + t.dataset.state).join(', ')")
    states = browser.eval("[...document.querySelectorAll('.machine')].map(t => t.dataset.state)")
    if len(states) != len(DEFAULT_PLANT) or "unknown" in states:
        raise Failure(f"machine tiles: expected {len(DEFAULT_PLANT)} with a known state, got {states}")
    # A state change arriving live (CloudEvent on the UNS → api → SSE) recolours the tile at once, over what the
    # machine's state tag says: press-2 goes down (red) and, with press-1 running, line-1 gets an availability.
    browser.wait("the live indicator", "document.getElementById('live').textContent === 'live'", 10,
                 show="document.getElementById('live').textContent")
    now = time.time()
    publish_event(args, "acme/dresden/body-shop/line-1/press-1", "equipment.state_changed", "io.shopfloor.equipment.state_changed.v1",
                  {"asset": "acme/dresden/body-shop/line-1/press-1", "to": "running", "since": rfc3339(now - 120)})
    publish_event(args, PRESS2, "equipment.state_changed", "io.shopfloor.equipment.state_changed.v1",
                  {"asset": PRESS2, "from": "running", "to": "down", "reason": "die jam (fault 111)", "since": rfc3339(now - 30)})
    browser.wait("press-2's tile turning red (down) from a live state_changed event",
                 f"(t => t && t.dataset.state === 'down' && getComputedStyle(t).borderLeftColor === {js(DOWN_RED)})"
                 f"(document.querySelector('.machine[data-path=\"{PRESS2}\"]'))", 10,
                 show=f"(t => t && t.dataset.state + ' ' + getComputedStyle(t).borderLeftColor)(document.querySelector('.machine[data-path=\"{PRESS2}\"]'))")
    step("press-2 turned red (down) live")
    dot = browser.eval(f"getComputedStyle(document.querySelector('#tree [data-state-of=\"{PRESS}\"]')).backgroundColor")
    step(f"machine states in colour: {running} running (green) of {states}; press-1's tree dot is {dot}")

    # Live values: press-1's table fills, a row changes through the live stream, sparklines are drawn.
    browser.eval(f"document.querySelector('.machine[data-path=\"{PRESS}\"]').click()")
    browser.wait("live values of press-1", "document.querySelectorAll('#values tr[data-metric]').length >= 10", 10,
                 show="document.getElementById('values-message').textContent")
    browser.wait("the live indicator", "document.getElementById('live').textContent === 'live'", 10,
                 show="document.getElementById('live').textContent")
    before = browser.eval("Object.fromEntries([...document.querySelectorAll('#values tr')].map(r => [r.dataset.metric, r.querySelector('.value').textContent]))")
    changed = browser.wait(
        "a live value of press-1 changing on the page",
        f"(() => {{ const before = {js(before)}; return [...document.querySelectorAll('#values tr')]"
        ".filter(r => Number(r.dataset.updates || 0) > 0 && r.querySelector('.value').textContent !== before[r.dataset.metric])"
        ".map(r => r.dataset.metric + ': ' + before[r.dataset.metric] + ' → ' + r.querySelector('.value').textContent); })().join('; ')",
        20, show="document.getElementById('values').innerText.slice(0, 400)")
    browser.wait("a sparkline with a line", "[...document.querySelectorAll('#values svg.sparkline path')].some(p => (p.getAttribute('d') || '').includes('L'))", 15)
    step(f"live values update: {changed}")

    # OEE per line: one card per line, with figures or a dash, never an error.
    browser.wait("an availability figure for line-1 (press-1 running, press-2 down)",
                 "(c => c && /%/.test(c.querySelector('.bar-row .bar-value').textContent))"
                 "(document.querySelector('.oee-card[data-path=\"acme/dresden/body-shop/line-1\"]'))", 20,
                 show="document.getElementById('oee').innerText")
    browser.wait("an OEE card per line", "['acme/dresden/body-shop/line-1', 'acme/dresden/filling/line-2']"
                 ".every(p => document.querySelector(`.oee-card[data-path=\"${p}\"] .oee-value`))", 15,
                 show="document.getElementById('oee').innerText")
    oee = browser.eval("[...document.querySelectorAll('.oee-card')].map(c => c.dataset.path.split('/').pop() + ' ' + c.querySelector('.oee-value').textContent).join(', ')")
    step(f"OEE per line: {oee}")

    # Open alarms: the test's rule (press-1 vibration above 1 mm/s) raises one; the operator acknowledges it.
    row = f"#alarms tbody tr[data-severity=high]"
    browser.wait("press-1's vibration alarm in the alarms panel",
                 f"[...document.querySelectorAll('{row}')].some(r => r.innerText.includes('press-1') && r.innerText.includes('vibration'))",
                 30, show="document.getElementById('alarms').innerText + ' / ' + document.getElementById('alarms-message').textContent")
    browser.eval(f"[...document.querySelectorAll('{row}')].find(r => r.innerText.includes('vibration')).querySelector('button.ack').click()")
    browser.wait("the alarm acknowledged by the operator",
                 f"[...document.querySelectorAll('{row}.acked')].some(r => r.innerText.includes('acknowledged by {args.user}'))", 10,
                 show="document.getElementById('alarms').innerText + ' / ' + document.getElementById('alarms-message').textContent")
    step("alarm shown and acknowledged")

    # Stops: press-2's stop from the state change above; the operator classifies it from the reason tree.
    stop = f"#downtime tr[data-asset=\"{PRESS2}\"][data-state=down]"
    browser.wait("press-2's stop in the stops panel", f"!!document.querySelector('{stop}') && document.querySelector('{stop}').innerText.includes('die jam')",
                 15, show="document.getElementById('downtime').innerText + ' / ' + document.getElementById('downtime-message').textContent")
    code = browser.eval(f"(select => {{ const option = [...select.options].find(o => o.value && !o.text.includes('planned'));"
                        f" select.value = option.value; document.querySelector('{stop} button.classify').click(); return option.value; }})"
                        f"(document.querySelector('{stop} select'))")
    browser.wait(f"press-2's stop classified as {code} by the operator",
                 f"document.querySelector('{stop} .classification').textContent.includes({js(code + ' by ' + args.user)})", 10,
                 show=f"document.querySelector('{stop}').innerText + ' / ' + document.getElementById('downtime-message').textContent")
    step(f"stop of press-2 shown and classified as {code}")

    # Work orders: the one the test created, running, with its progress.
    order = browser.wait("work order WO-1001 running", "(r => r && r.dataset.status === 'running' && r.innerText)"
                         "(document.querySelector('#workorders tr[data-id=\"WO-1001\"]'))", 10,
                         show="document.getElementById('workorders').innerText")
    if "/ 500" not in order or "pause" not in order:
        raise Failure(f"work order row lacks progress or actions: {order!r}")
    step("work order panel: " + " ".join(order.split()))

    # Trend chart: press-1's vibration over 15 minutes (raw samples) and over 1 hour (buckets with a band).
    def draw(range_value):
        browser.eval(f"document.getElementById('trend-asset').value = {js(PRESS)};"
                     "document.getElementById('trend-asset').dispatchEvent(new Event('change'));"
                     "document.getElementById('trend-metric').value = 'vibration';"
                     f"document.getElementById('trend-range').value = {js(range_value)};"
                     "document.getElementById('trend').dataset.state = '';"
                     "document.querySelector('#trend-form button').click()")
        return browser.wait(f"the trend chart over {range_value} ms", "(s => ['drawn', 'error', 'empty'].includes(s) && s)(document.getElementById('trend').dataset.state)",
                            15, show="document.getElementById('trend-message').textContent")

    deadline = time.time() + 20
    while True:
        state = draw("900000")
        points = browser.eval("((document.querySelector('#trend path.line') || {getAttribute: () => ''}).getAttribute('d').match(/L/g) || []).length")
        if state == "drawn" and points >= 1:
            break
        if time.time() > deadline:
            shown = browser.eval("document.getElementById('trend-message').textContent")
            raise Failure(f"trend chart: state {state}, {points + 1 if points else 0} points: {shown!r}")
        time.sleep(1)
    readout = browser.eval("(() => { const svg = document.querySelector('#trend svg'); const box = svg.getBoundingClientRect();"
                           "svg.dispatchEvent(new MouseEvent('mousemove', {clientX: box.left + box.width * 0.9, clientY: box.top + box.height / 2}));"
                           "return document.querySelector('#trend .cursor text').textContent; })()")
    if "mm/s" not in readout:
        raise Failure(f"hovering the trend chart shows {readout!r}, not a time and a value in mm/s")
    state = draw("3600000")
    band = browser.eval("!!document.querySelector('#trend polygon.band')")
    if state != "drawn" or not band:
        shown = browser.eval("document.getElementById('trend-message').textContent")
        raise Failure(f"bucketed trend: state {state}, band {band}: {shown!r}")
    step(f"trend chart drawn: {points + 1} raw samples over 15 min (hover: {readout!r}); buckets with a min–max band over 1 h")

    # When stream does not answer, the chart says so (the api's 504 message).
    if args.stream_pid:
        os.kill(args.stream_pid, signal.SIGSTOP)
        try:
            state = draw("900000")
            message = browser.eval("document.getElementById('trend-message').textContent")
        finally:
            os.kill(args.stream_pid, signal.SIGCONT)
        if state != "error" or "504" not in message or "did not answer" not in message:
            raise Failure(f"with stream stopped the trend should show the api's 504 message; it shows {state}: {message!r}")
        step(f"stream stopped: the trend panel says {message!r}")
        deadline = time.time() + 20
        while draw("3600000") != "drawn":
            if time.time() > deadline:
                raise Failure("after stream resumed the trend chart was not drawn again within 20 s")
            time.sleep(1)
        step("stream resumed: the chart draws again")

    if args.screenshot:
        browser.screenshot(args.screenshot)

    # Logging out ends the session: the login form returns and the api refuses the old cookie.
    browser.eval("document.getElementById('logout').click()")
    browser.wait("the login form after logging out", "!document.getElementById('login').hidden && document.getElementById('app').hidden", 10)
    status = browser.eval("fetch('/v1/auth/me').then(r => r.status)")
    if status != 401:
        raise Failure(f"after logging out GET /v1/auth/me answered {status}, not 401")
    step("logged out: the api answers 401")

    # A viewer sees the same panels without the operator's buttons.
    browser.eval("document.getElementById('login-user').value = 'viewer';"
                 f"document.getElementById('login-password').value = {js(args.viewer_password)};"
                 "document.querySelector('#login-form button').click()")
    browser.wait("the viewer's dashboard with the alarm and the work order",
                 "document.getElementById('whoami').textContent.includes('viewer') && "
                 "!!document.querySelector('#alarms tbody tr') && !!document.querySelector('#workorders tr[data-id=\"WO-1001\"]')", 10,
                 show="document.getElementById('whoami').textContent + ' | ' + document.getElementById('alarms').innerText + ' | ' "
                      "+ document.getElementById('alarms-message').textContent + ' | ' + document.getElementById('workorders').innerText")
    buttons = browser.eval("document.querySelectorAll('#alarms button, #downtime button, #workorders button').length")
    if buttons:
        raise Failure(f"a viewer sees {buttons} alarm, stop or work-order buttons; only operators and admins may act")
    browser.eval("document.getElementById('logout').click()")
    browser.wait("the login form after the viewer logs out", "!document.getElementById('login').hidden", 10)
    step("viewer: same panels, no acknowledge, classify or work-order buttons")

    if browser.errors:
        raise Failure(f"the page logged errors: {browser.errors}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--profile", required=True, help="Chromium's user data directory (screenshots go next to it)")
    parser.add_argument("--viewer-password", required=True, help="password of the user `viewer` (role viewer)")
    parser.add_argument("--mqtt-port", type=int, required=True, help="the plant's broker (events are published there)")
    parser.add_argument("--uns-prefix", required=True)
    parser.add_argument("--stream-pid", type=int, help="stopped for a moment to check the 504 message")
    parser.add_argument("--screenshot", help="save a screenshot here at the end")
    args = parser.parse_args()
    started = time.time()
    browser = None
    try:
        browser = Browser(args.chromium, args.profile)
        check(browser, args)
    except Failure as failure:
        shot = os.path.join(os.path.dirname(args.profile.rstrip("/")), "dashboard-failure.png")
        try:
            if browser:
                browser.screenshot(shot)
                if args.screenshot:
                    browser.screenshot(args.screenshot)
        except Exception:  # noqa: BLE001 - the screenshot is a bonus; the failure is what counts
            shot = None
        print(f"dashboard-test: FAILED: {failure}" + (f" (screenshot: {shot})" if shot else ""), file=sys.stderr)
        if browser and browser.errors:
            print(f"dashboard-test: page errors: {browser.errors}", file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
    print(f"dashboard-test: passed in {time.time() - started:.1f} s (browser part)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

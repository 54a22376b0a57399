#!/usr/bin/python3
"""Glass-to-glass latency of the console's wall video, and the CPU each browser viewer costs.

    bench/console/latency.py BUILD_DIR [--seconds S] [--stream clock]

Starts build/bench/console/bench-console (a wall whose input frames carry the wall-clock time
as 24 black/white blocks), signs a headless Chromium in, plays the wall over WebRTC and then
over MSE, and reads the time code back from every frame the page presents
(requestVideoFrameCallback): latency = the page's clock at presentation - the time in the
frame (same machine, same clock). Prints p50/p95 per transport, and the engine's CPU (from
/proc) with no viewer and with one viewer of each kind. With --stream clock the page plays the
camera's own stream (640x360, encoded for its viewers) instead of the wall.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

READ_JS = """
const done = arguments[arguments.length - 1];
const seconds = arguments[0];
const refWidth = arguments[1]; /* the picture the time code was drawn on: 1280 wall, 640 camera */
const v = document.getElementById('wall');
const c = document.createElement('canvas');
const g = c.getContext('2d', {willReadFrequently: true});
const samples = [];
let bad = 0;
const t_end = performance.now() + seconds * 1000;
function frame(now, meta) {
  const t = Date.now();
  c.width = v.videoWidth; c.height = v.videoHeight;
  g.drawImage(v, 0, 0);
  const sx = v.videoWidth / refWidth, sy = v.videoHeight / (refWidth * 9 / 16);
  let code = 0;
  for (let i = 0; i < 24; i++) {
    const d = g.getImageData(Math.round((4 + i * 26 + 12) * sx), Math.round(16 * sy), 1, 1).data;
    code = code * 2 + ((d[0] + d[1] + d[2]) > 384 ? 1 : 0);
  }
  let lat = ((t & 0xffffff) - code + 0x1000000) % 0x1000000;
  if (lat < 5000) samples.push(lat); else bad++;
  if (performance.now() < t_end) v.requestVideoFrameCallback(frame);
  else done({samples: samples, bad: bad});
}
v.requestVideoFrameCallback(frame);
"""


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def rate(pid, seconds):
    c0, t0 = cpu(pid), time.time()
    time.sleep(seconds)
    return (cpu(pid) - c0) / (time.time() - t0)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 20
    stream = sys.argv[sys.argv.index("--stream") + 1] if "--stream" in sys.argv else "wall"
    tmp = tempfile.mkdtemp(prefix="ps-latency-")
    users = os.path.join(tmp, "users.ini")
    subprocess.run([os.path.join(build, "app", "portsight"), "user", "add", "bench", "--role",
                    "viewer", "--users", users], input="bench-password\n", text=True,
                   capture_output=True, check=True)
    port = 18000 + os.getpid() % 1000
    srv = subprocess.Popen([os.path.join(build, "bench", "console", "bench-console"),
                            "--listen", f"127.0.0.1:{port}", "--users", users],
                           stdout=subprocess.PIPE, text=True)
    driver = None
    try:
        srv.stdout.readline()
        time.sleep(2)
        print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
        idle = rate(srv.pid, seconds / 2)
        print(f"engine CPU, no viewer: {idle * 100:.1f} % of one core")
        opts = webdriver.ChromeOptions()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                  f"--user-data-dir={os.path.join(tmp, 'chrome')}", "--window-size=1400,1000"):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
        driver.set_script_timeout(seconds + 30)
        base = f"http://127.0.0.1:{port}"
        driver.get(base + "/login")
        driver.find_element(By.ID, "user").send_keys("bench")
        driver.find_element(By.ID, "password").send_keys("bench-password\n")
        time.sleep(2)
        for transport in ("webrtc", "mse"):
            driver.get(base + "/?transport=" + transport + "&stream=" + stream)
            for _ in range(100):
                if driver.execute_script("return window.psTransport") == transport:
                    break
                time.sleep(0.2)
            else:
                print(f"{transport}: did not play")
                continue
            time.sleep(3)
            busy = rate(srv.pid, seconds / 2)
            r = driver.execute_async_script(READ_JS, seconds, 1280 if stream == "wall" else 640)
            s = r["samples"]
            if not s:
                print(f"{transport}: no frame decoded ({r['bad']} unreadable)")
                continue
            print(f"{stream} {transport}: glass-to-glass p50 {pct(s, 50):.0f} ms, p95 {pct(s, 95):.0f} ms "
                  f"over {len(s)} frames ({r['bad']} unreadable); engine CPU with this viewer "
                  f"{busy * 100:.1f} % of one core (+{(busy - idle) * 100:.1f} %)")
        print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    finally:
        if driver:
            driver.quit()
        srv.terminate()
        srv.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""report.html in a real browser: headless Chromium (Debian's chromium, scripts/install-deps).

Usage: test_browser.py BUILD_DIR SOURCE_DIR [unittest arguments]

For a report rendered here from a synthetic store (with mutation maps) and for the committed demo
report (docs/report/report.html): a copy of the page with a small script added at its end is loaded
twice, once with --dump-dom (the script writes, after the load event, each figure's <img>: whether
the browser decoded it, its natural size and where it was laid out) and once with --screenshot of the
whole page. Every figure of the manifest must be in the page, decoded at its PNG's size, and the
screenshot must show it: the screenshot's pixels where the browser laid it out equal the PNG's. The
screenshot as a whole must not be blank. Every file the page links to must exist beside it.
Skipped (with the reason) where chromium (or $DEEPMR_CHROMIUM) is not installed. Runs as root with --no-sandbox.
"""
import glob
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report  # noqa: E402  (its helpers: the synthetic store, the page parser, run_report)

SOURCE = test_report.SOURCE
CHROMIUM_NAME = os.environ.get("DEEPMR_CHROMIUM") or "chromium"  # DEEPMR_CHROMIUM: another browser binary
CHROMIUM = shutil.which(CHROMIUM_NAME)
WIDTH = 1200
MAX_HEIGHT = 60000

PROBE = """<script id="browser-probe">
window.addEventListener('load', function () {
  var figures = [];
  document.querySelectorAll('figure').forEach(function (f) {
    var img = f.querySelector('img'), r = img ? img.getBoundingClientRect() : null;
    figures.push({file: f.getAttribute('data-file'), img: !!img, complete: img ? img.complete : false,
                  naturalWidth: img ? img.naturalWidth : 0, naturalHeight: img ? img.naturalHeight : 0,
                  left: r ? r.left + window.scrollX : 0, top: r ? r.top + window.scrollY : 0,
                  width: r ? r.width : 0, height: r ? r.height : 0,
                  border: img ? parseFloat(getComputedStyle(img).borderLeftWidth) : 0,
                  borderTop: img ? parseFloat(getComputedStyle(img).borderTopWidth) : 0});
  });
  var pre = document.createElement('pre');
  pre.id = 'browser-check';
  pre.textContent = JSON.stringify({figures: figures, height: document.documentElement.scrollHeight});
  document.body.appendChild(pre);
});
</script>
"""


def chromium(*arguments, timeout=240):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--force-device-scale-factor=1", "--virtual-time-budget=10000"] + list(arguments)
    env = dict(os.environ, HOME=os.environ.get("HOME") or tempfile.gettempdir())
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@unittest.skipIf(CHROMIUM is None, "%s is not installed (scripts/install-deps installs Debian's chromium)"
                 % CHROMIUM_NAME)
class Browser(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="deepmr-browser-")

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def render(self, report_dir):
        """Loads report_dir/report.html (a probed copy) in Chromium: (the probe's JSON, screenshot RGB)."""
        with open(os.path.join(report_dir, "report.html"), encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count("</body>"), 1)
        probed = os.path.join(self.directory, "probed.html")
        with open(probed, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", PROBE + "</body>"))
        url = "file://" + probed
        result = chromium("--window-size=%d,2000" % WIDTH, "--dump-dom", url)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        found = re.search(r'<pre id="browser-check">(.*?)</pre>', result.stdout, re.S)
        self.assertIsNotNone(found, "the page's load event never came (no probe output): " + result.stderr[-2000:])
        check = json.loads(html.unescape(found.group(1)))
        height = int(check["height"])
        self.assertLess(height, MAX_HEIGHT, "page too tall to screenshot")
        shot = os.path.join(self.directory, "screenshot.png")
        result = chromium("--window-size=%d,%d" % (WIDTH, height), "--screenshot=" + shot, url)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertTrue(os.path.exists(shot), result.stderr[-2000:])
        image = matplotlib.image.imread(shot)[..., :3]
        self.assertEqual(image.shape[:2], (height, WIDTH))
        return check, image

    def assertRendered(self, report_dir, expected_figures):
        check, screenshot = self.render(report_dir)
        # Not blank: text, tables and figures: many non-white pixels, many distinct colours.
        non_white = float(np.mean(np.any(screenshot < 0.9, axis=-1)))
        self.assertGreater(non_white, 0.05, "the screenshot is (nearly) blank")
        colours = len(np.unique((screenshot[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0))
        self.assertGreater(colours, 200, "the screenshot has only %d distinct colours" % colours)

        laid_out = {f["file"]: f for f in check["figures"]}
        self.assertEqual(len(laid_out), len(check["figures"]), "a figure appears twice")
        self.assertEqual(sorted(laid_out), sorted(expected_figures))
        for name in expected_figures:
            f = laid_out[name]
            width, height = png_size(os.path.join(report_dir, name))
            self.assertTrue(f["img"] and f["complete"], name + " not loaded")
            self.assertEqual((f["naturalWidth"], f["naturalHeight"]), (width, height), name + " not decoded")
            self.assertAlmostEqual(f["width"], width + 2 * f["border"], delta=0.5, msg=name + " scaled")
            # The screenshot shows the figure where the browser laid it out, pixel for pixel.
            png = matplotlib.image.imread(os.path.join(report_dir, name))[..., :3]
            best = None
            x0, y0 = f["left"] + f["border"], f["top"] + f["borderTop"]
            for dy in (0, -1, 1):
                for dx in (0, -1, 1):
                    x, y = int(round(x0)) + dx, int(round(y0)) + dy
                    crop = screenshot[y:y + height, x:x + width]
                    if crop.shape == png.shape:
                        diff = float(np.abs(crop - png).mean())
                        best = diff if best is None else min(best, diff)
            self.assertIsNotNone(best, name + " lies outside the screenshot")
            self.assertLess(best, 0.01, "%s: the screenshot differs from the PNG there (mean %.3f)" % (name, best))

        # Every file the page refers to exists beside it (the links under each figure).
        with open(os.path.join(report_dir, "report.html"), encoding="utf-8") as f:
            page = test_report.Page(f.read())
        for tag, target in page.resources:
            self.assertTrue(os.path.isfile(os.path.join(report_dir, target)), "%s links to missing %s" % (tag, target))
        return check

    def test_report_of_a_synthetic_store(self):
        store = test_report.synthetic_store(os.path.join(self.directory, "s.h5"))
        out = os.path.join(self.directory, "report")
        result = test_report.run_report(store, "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "manifest.json")) as f:
            figures = json.load(f)["figures"]
        self.assertEqual(sorted(figures), sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png"))))
        self.assertTrue([n for n in figures if n.startswith("mutmap_")])
        self.assertRendered(out, figures)

    def test_committed_demo_report(self):
        out = os.path.join(SOURCE, "docs", "report")
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["skipped"], [])
        self.assertEqual(manifest["internal_errors"], [])
        maps = [n for n in manifest["figures"] if n.startswith("mutmap_")]
        self.assertTrue(maps, "the committed demo report has no mutation maps")
        self.assertRendered(out, manifest["figures"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])

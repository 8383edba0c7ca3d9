"""Brand analysis accuracy, beside a naive baseline measured in the same run.

Serves the corpus (brand_corpus.py: twenty theme pages written from their authors'
documented palettes and fonts) on 127.0.0.1, runs the analyzer's `analyze-site` binary over
it (robots, pages, stylesheets, logo: the whole analysis, no database), and scores each
site: primary within CIEDE2000 10 of the documented one, heading font equal to the
documented one. The baseline is what a naive extractor does with the same pages: the most
used non-grey colour in the CSS and the first font-family it finds. Writes brand.{md,json}.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brand_corpus  # noqa: E402

TYPES = {"html": "text/html; charset=utf-8", "css": "text/css", "png": "image/png"}


def serve(files):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            if path.endswith("/"):
                path += "index.html"
            body = files.get(path)
            if path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
            self.send_response(200 if body is not None else 404)
            self.send_header("content-type", TYPES.get(path.rsplit(".", 1)[-1], "text/plain"))
            self.send_header("content-length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lab(hex_colour):
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(c1, c2):
    """CIEDE2000 (Sharma, Wu, Dalal 2005) between two #RRGGBB colours."""
    (l1, a1, b1), (l2, a2, b2) = lab(c1), lab(c2)
    cbar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dH = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbar, cbarp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbar = (h1p + h2p) / 2
    else:
        hbar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbar - 30)) + 0.24 * math.cos(math.radians(2 * hbar))
         + 0.32 * math.cos(math.radians(3 * hbar + 6)) - 0.20 * math.cos(math.radians(4 * hbar - 63)))
    sl = 1 + 0.015 * (lbar - 50) ** 2 / math.sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    rt = (-2 * math.sqrt(cbarp ** 7 / (cbarp ** 7 + 25 ** 7))
          * math.sin(math.radians(60 * math.exp(-(((hbar - 275) / 25) ** 2)))))
    return math.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dH / sh) ** 2 + rt * (dc / sc) * (dH / sh))


def naive(base):
    """The baseline: the most used non-grey hex colour in the page's CSS, the first family."""
    started = time.perf_counter()
    html = urllib.request.urlopen(base, timeout=10).read().decode()
    css = " ".join(re.findall(r"<style>(.*?)</style>", html, re.S)) + " " + " ".join(re.findall(r'style="([^"]*)"', html))
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        css += urllib.request.urlopen(base + href, timeout=10).read().decode()
    counts = {}
    for h in re.findall(r"#[0-9a-fA-F]{6}\b", css):
        h = h.upper()
        r, g, b = (int(h[i:i + 2], 16) for i in (1, 3, 5))
        if max(r, g, b) - min(r, g, b) > 24:
            counts[h] = counts.get(h, 0) + 1
    primary = max(counts, key=counts.get) if counts else None
    family = re.search(r"font-family:\s*['\"]?([^'\",;]+)", css)
    return primary, family.group(1).strip() if family else None, time.perf_counter() - started


def score(truth, primary, heading):
    de = ciede2000(primary, truth["primary"]) if primary else None
    return {"primary": primary, "delta_e": round(de, 1) if de is not None else None,
            "colour_ok": de is not None and de <= 10, "heading": heading,
            "font_ok": (heading or "").lower() == truth["heading_font"].lower()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--profile", default="release")
    args = ap.parse_args()
    sites = list(brand_corpus.corpus())
    files = {f"/{slug}/{p}": data for slug, _, fs in sites for p, data in fs.items()}
    server = serve(files)
    host = f"127.0.0.1:{server.server_address[1]}"
    urls = [f"http://{host}/{slug}/" for slug, _, _ in sites]
    env = dict(os.environ, FETCH_ALLOW_HOSTS=host, GEMINI_API_KEY="", RUST_LOG="warn")
    out = subprocess.run([os.path.join(args.bin_dir, "analyze-site"), *urls], env=env, check=True,
                         capture_output=True, text=True).stdout
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    rows = []
    for (slug, truth, _), url, got in zip(sites, urls, results):
        kit = got.get("kit") or {}
        ours = score(truth, (kit.get("color_palette") or {}).get("primary"),
                     (kit.get("typography") or {}).get("heading_font"))
        b_primary, b_font, b_seconds = naive(url)
        rows.append({"site": truth["name"], "documented_by": truth["documented_by"], "truth": truth,
                     "analyzer": dict(ours, seconds=round(got.get("seconds", 0), 4), error=got.get("error")),
                     "baseline": dict(score(truth, b_primary, b_font), seconds=round(b_seconds, 4))})
    server.shutdown()

    def share(who, key):
        return sum(r[who][key] for r in rows) / len(rows)

    summary = {
        "sites": len(rows), "profile": args.profile,
        "analyzer": {"primary_within_de10": share("analyzer", "colour_ok"), "heading_font": share("analyzer", "font_ok"),
                     "both": sum(r["analyzer"]["colour_ok"] and r["analyzer"]["font_ok"] for r in rows) / len(rows),
                     "median_seconds": statistics.median(r["analyzer"]["seconds"] for r in rows)},
        "baseline": {"primary_within_de10": share("baseline", "colour_ok"), "heading_font": share("baseline", "font_ok"),
                     "both": sum(r["baseline"]["colour_ok"] and r["baseline"]["font_ok"] for r in rows) / len(rows),
                     "median_seconds": statistics.median(r["baseline"]["seconds"] for r in rows)},
    }
    summary["time_ratio"] = round(summary["analyzer"]["median_seconds"] / max(summary["baseline"]["median_seconds"], 1e-9), 1)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "brand.json"), "w") as f:
        json.dump({"summary": summary, "sites": rows}, f, indent=2)
    a, b = summary["analyzer"], summary["baseline"]
    lines = ["# Brand analysis accuracy", "",
             f"{len(rows)} theme pages written from their authors' documented palettes and fonts "
             "(infra/benches/brand_corpus.py), served on 127.0.0.1; the analyzer's whole analysis "
             "(robots, pages, stylesheets, logo) against a naive extractor (most used non-grey CSS "
             f"colour, first font-family) in the same run. Profile: {args.profile}.", "",
             "| | primary within ΔE2000 10 | heading font | both | median time |", "|---|---|---|---|---|",
             f"| analyzer | {a['primary_within_de10']:.0%} | {a['heading_font']:.0%} | {a['both']:.0%} | {a['median_seconds'] * 1000:.0f} ms |",
             f"| naive baseline | {b['primary_within_de10']:.0%} | {b['heading_font']:.0%} | {b['both']:.0%} | {b['median_seconds'] * 1000:.0f} ms |",
             "", f"Median time ratio (analyzer / baseline): {summary['time_ratio']}×. The analyzer reads robots.txt, "
             "every page it picks, every stylesheet and the logo; the baseline reads the home page and its stylesheets.", "",
             "| site | documented | analyzer primary (ΔE) | analyzer heading | baseline primary (ΔE) | baseline font |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        t, o, n = r["truth"], r["analyzer"], r["baseline"]
        lines.append(f"| {r['site']} ({r['documented_by']}) | {t['primary']}, {t['heading_font']} | "
                     f"{o['primary']} ({o['delta_e']}) {'✓' if o['colour_ok'] else '✗'} | {o['heading']} {'✓' if o['font_ok'] else '✗'} | "
                     f"{n['primary']} ({n['delta_e']}) {'✓' if n['colour_ok'] else '✗'} | {n['heading']} {'✓' if n['font_ok'] else '✗'} |")
    with open(os.path.join(args.out_dir, "brand.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:9]))


if __name__ == "__main__":
    main()

"""Report rendering at its documented size (10 campaigns x 90 days, breakdowns, 24
creatives, 6 thumbnails): the `report-render` binary renders charts, HTML and PDF as the
report worker does, `runs` times, beside a CSV of the same figures written in the same
process (the cheapest export an owner could be given). Writes reports.{md,json}.
"""
import argparse
import json
import os
import subprocess

LAMBDA_MB, LAMBDA_S = 512, 120  # template.yaml: ReportWorkerFunction


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--profile", default="release")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    out = subprocess.run([os.path.join(a.bin_dir, "report-render"), str(a.runs)], check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out)
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "reports.json"), "w") as f:
        json.dump(r, f, indent=2)
    mb = r["peak_rss_mb_after"]
    ok_mem = "met" if mb < LAMBDA_MB / 4 else "missed"
    ok_time = "met" if r["render_ms_max"] / 1000 < LAMBDA_S / 20 else "missed"
    lines = [
        "# Report rendering",
        "",
        f"{r['campaigns']} campaigns x {r['days']} days, four breakdowns, {r['creatives']} creatives with "
        f"{r['thumbnails']} thumbnails shrunk from 1080x1080 PNGs; two charts (plotters), the HTML page and the "
        f"A4 PDF, {r['runs']} renders. Baseline in the same process: the same figures as CSV. Profile: {a.profile}.",
        "",
        "| | median ms | worst ms | output |",
        "|---|---|---|---|",
        f"| render (charts + HTML + PDF) | {r['render_ms_median']:.1f} | {r['render_ms_max']:.1f} | "
        f"HTML {r['html_bytes'] / 1024:.0f} KB, PDF {r['pdf_bytes'] / 1024:.0f} KB, charts {r['chart_png_bytes'] / 1024:.0f} KB |",
        f"| CSV baseline | {r['csv_ms_median']:.3f} | | {r['csv_bytes'] / 1024:.1f} KB |",
        "",
        f"Ratio render / CSV: {r['ratio']:.0f}x. Peak RSS of the whole process: {r['peak_rss_mb_before']:.1f} MB with the "
        f"figures and thumbnails in memory, {mb:.1f} MB after rendering.",
        "",
        f"- under a quarter of the worker's {LAMBDA_MB} MB: **{ok_mem}** ({mb:.1f} MB)",
        f"- worst render under a twentieth of its {LAMBDA_S} s timeout: **{ok_time}** ({r['render_ms_max']:.0f} ms)",
        "",
    ]
    with open(os.path.join(a.out_dir, "reports.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

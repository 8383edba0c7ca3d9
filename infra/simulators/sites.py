"""Small-business websites and SSRF targets for the brand analyzer, offline.

  /cafe/    Bean There Café: external stylesheet with @import, Google Fonts, JSON-LD with
            logo and sameAs, a PNG logo, about and menu pages, a cookie banner
  /clinic/  Smile Dental Clinic: CSS custom properties, @font-face, an inline SVG logo,
            testimonials, contact page
  /shop/    Kesari Handloom: theme-color, a web app manifest, og:image, inline button styles
  /private/ a site robots.txt disallows
  /ssrf/redirect-loopback   302 to http://127.0.0.1:5432/
  /ssrf/redirect-metadata   302 to http://169.254.169.254/latest/meta-data/
  /ssrf/redirect-loop       redirects forever
  /ssrf/huge                an endless page (no content-length), 8 MiB before it stops
  /ssrf/slow                answers after 15 s

Each site's documented kit (what the analyzer should find) is in KITS, so tests compare
against the same truth the pages were written from.
"""
import io
import json
import os
import time

from .base import Simulator

HERE = os.path.join(os.path.dirname(__file__), "sites")

KITS = {
    "cafe": {"primary": "#C0392B", "secondary": "#2E4057", "accent": "#F4D35E",
             "heading_font": "Playfair Display", "body_font": "Lato", "name": "Bean There Café"},
    "clinic": {"primary": "#0A7E8C", "secondary": "#1B264F", "accent": "#F25F5C",
               "heading_font": "Nunito", "body_font": "Open Sans", "name": "Smile Dental Clinic"},
    "shop": {"primary": "#6A1B9A", "secondary": "#FF8F00", "accent": None,
             "heading_font": "Merriweather", "body_font": "Georgia", "name": "Kesari Handloom"},
}

TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".png": "image/png",
         ".svg": "image/svg+xml", ".json": "application/manifest+json", ".txt": "text/plain"}


def logo_png(fill, mark, size=(240, 96)):
    from PIL import Image, ImageDraw
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rounded_rectangle([4, 4, w - 4, h - 4], radius=18, fill=fill)
    d.ellipse([w - h + 12, 16, w - 16, h - 16], fill=mark)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def hex_rgb(h):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


class Sites(Simulator):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.images = {
            "/cafe/img/logo.png": logo_png(hex_rgb("#C0392B"), hex_rgb("#F4D35E")),
            "/shop/icons/icon-512.png": logo_png(hex_rgb("#6A1B9A"), hex_rgb("#FF8F00"), (512, 512)),
            "/shop/img/share.png": logo_png(hex_rgb("#777777"), hex_rgb("#999999")),
        }

    def error_body(self, status, message):
        return {"error": message}

    def route(self, h, method, path, query, body):
        if path.startswith("/ssrf/"):
            return self.ssrf(h, path)
        if path == "/robots.txt":
            return h.reply(200, raw=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        if path in self.images:
            return h.reply(200, raw=self.images[path], content_type="image/png")
        if path.endswith("/"):
            path += "index.html"
        file = os.path.normpath(os.path.join(HERE, path.lstrip("/")))
        if not file.startswith(HERE + os.sep) or not os.path.isfile(file):
            return h.reply(404, raw=b"<h1>Not found</h1>", content_type="text/html")
        with open(file, "rb") as f:
            data = f.read()
        h.reply(200, raw=data, content_type=TYPES.get(os.path.splitext(file)[1], "application/octet-stream"))

    def ssrf(self, h, path):
        if path == "/ssrf/redirect-loopback":
            return h.reply(302, raw=b"", content_type="text/plain", headers={"Location": "http://127.0.0.1:5432/"})
        if path == "/ssrf/redirect-metadata":
            return h.reply(302, raw=b"", content_type="text/plain",
                           headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if path == "/ssrf/redirect-loop":
            return h.reply(302, raw=b"", content_type="text/plain", headers={"Location": "/ssrf/redirect-loop"})
        if path == "/ssrf/slow":
            time.sleep(15)
            return h.reply(200, raw=b"<html><title>late</title></html>", content_type="text/html")
        if path == "/ssrf/huge":
            h.send_response(200)
            h.send_header("content-type", "text/html")
            h.send_header("connection", "close")
            h.end_headers()
            chunk = b"<p>" + b"a" * 65533 + b"\n"
            try:
                for _ in range(128):
                    h.wfile.write(chunk)
            except OSError:
                pass
            h.close_connection = True
            return
        h.reply(404, raw=b"", content_type="text/plain")


if __name__ == "__main__":
    sim = Sites(port=int(os.environ.get("PORT", "8765"))).start()
    print(sim.url, flush=True)
    while True:
        time.sleep(3600)

"""The brand accuracy corpus: twenty theme pages written here from the palettes and fonts
their authors document (Start Bootstrap's themes in their SCSS variables, Bootswatch's in
its _variables.scss), in four shapes real templates take: Bootstrap's compiled custom
properties with every default colour beside the theme's, plain CSS, inline styles with
@font-face, and a colour carried mostly by the logo and theme-color. No template code is
copied; the documented facts are the truth each analysis is scored against.
"""
import io

# name, documented by, primary, heading font, body font
TEMPLATES = [
    ("Agency", "Start Bootstrap", "#FFC800", "Montserrat", "Roboto Slab"),
    ("Freelancer", "Start Bootstrap", "#1ABC9C", "Montserrat", "Lato"),
    ("Creative", "Start Bootstrap", "#F4623A", "Merriweather Sans", "Merriweather"),
    ("Grayscale", "Start Bootstrap", "#64A19D", "Varela Round", "Nunito"),
    ("Clean Blog", "Start Bootstrap", "#0085A1", "Open Sans", "Lora"),
    ("New Age", "Start Bootstrap", "#2937F0", "Newsreader", "Mulish"),
    ("Stylish Portfolio", "Start Bootstrap", "#1D809F", "Source Sans Pro", "Source Sans Pro"),
    ("Resume", "Start Bootstrap", "#BD5D38", "Saira Extra Condensed", "Muli"),
    ("Business Casual", "Start Bootstrap", "#E6A756", "Raleway", "Lora"),
    ("Cosmo", "Bootswatch", "#2780E3", "Source Sans Pro", "Source Sans Pro"),
    ("Journal", "Bootswatch", "#EB6864", "News Cycle", "Georgia"),
    ("Lumen", "Bootswatch", "#158CBA", "Source Sans Pro", "Source Sans Pro"),
    ("Sandstone", "Bootswatch", "#325D88", "Roboto", "Roboto"),
    ("Simplex", "Bootswatch", "#D9230F", "Open Sans", "Open Sans"),
    ("Superhero", "Bootswatch", "#DF6919", "Lato", "Lato"),
    ("United", "Bootswatch", "#E95420", "Ubuntu", "Ubuntu"),
    ("Yeti", "Bootswatch", "#008CBA", "Open Sans", "Open Sans"),
    ("Minty", "Bootswatch", "#78C2AD", "Montserrat", "Montserrat"),
    ("Materia", "Bootswatch", "#2196F3", "Roboto", "Roboto"),
    ("Zephyr", "Bootswatch", "#3459E6", "Inter", "Inter"),
]

BOOTSTRAP_DEFAULTS = {
    "blue": "#0d6efd", "indigo": "#6610f2", "purple": "#6f42c1", "pink": "#d63384", "red": "#dc3545",
    "orange": "#fd7e14", "yellow": "#ffc107", "green": "#198754", "teal": "#20c997", "cyan": "#0dcaf0",
    "gray": "#6c757d", "gray-dark": "#343a40", "secondary": "#6c757d", "success": "#198754",
    "info": "#0dcaf0", "warning": "#ffc107", "danger": "#dc3545", "light": "#f8f9fa", "dark": "#212529",
}

SYSTEM = {"Georgia"}


def slug(name):
    return name.lower().replace(" ", "-")


def darker(hex_colour, by=0.82):
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#%02X%02X%02X" % (int(r * by), int(g * by), int(b * by))


def fonts_link(heading, body):
    families = [f for f in dict.fromkeys([heading, body]) if f not in SYSTEM]
    q = "&".join(f"family={f.replace(' ', '+')}:wght@400;700" for f in families)
    return f'<link href="https://fonts.googleapis.com/css2?{q}&display=swap" rel="stylesheet">' if q else ""


def logo_png(colour, size=(200, 60)):
    from PIL import Image, ImageDraw
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle([2, 2, size[0] - 2, size[1] - 2], radius=12, fill=rgb)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


BODY = """<header class="navbar"><a class="navbar-brand" href="./"><img src="logo.png" alt="{name} logo"></a>
<nav><a href="about.html">About</a> <a href="#services">Services</a> <a href="#contact">Contact</a></nav></header>
<main><section class="masthead"><h1>{name}: it's nice to meet you</h1>
<p>We build things people love. Trusted by 500 customers since 2014.</p>
<a class="btn btn-primary btn-xl" href="#services">Tell me more</a></section>
<section id="services"><h2>Services</h2><p>E-commerce, responsive design and web security.</p>
<div class="alert alert-danger">Form errors appear here.</div><div class="alert alert-success">Sent!</div>
<h3>Portfolio</h3><p class="text-muted">Lorem ipsum dolor sit amet.</p></section></main>
<footer class="footer"><a href="https://www.instagram.com/{slug}">Instagram</a></footer>"""


def bootstrap_css(primary, heading, body):
    vars_ = "".join(f"--bs-{k}:{v};" for k, v in BOOTSTRAP_DEFAULTS.items())
    return (f":root{{{vars_}--bs-primary:{primary};--bs-primary-rgb:0,0,0;--bs-body-font-family:\"{body}\",sans-serif;"
            f"--bs-body-color:#212529;--bs-body-bg:#fff}}"
            f"body{{margin:0;font-family:var(--bs-body-font-family);color:var(--bs-body-color);background-color:var(--bs-body-bg)}}"
            f"h1,h2,h3,h4,h5,h6{{font-family:\"{heading}\",-apple-system,sans-serif;font-weight:700}}"
            f".btn-primary{{color:#000;background-color:var(--bs-primary);border-color:var(--bs-primary)}}"
            f".btn-primary:hover{{background-color:{darker(primary)}}}"
            f".btn-secondary{{background-color:var(--bs-secondary)}}.btn-danger{{background-color:var(--bs-danger)}}"
            f".alert-danger{{color:#842029;background-color:#f8d7da}}.alert-success{{color:#0f5132;background-color:#d1e7dd}}"
            f".text-muted{{color:#6c757d!important}}.navbar{{background-color:#212529}}"
            f"a{{color:var(--bs-primary)}}.footer{{background:#f8f9fa}}"
            f".badge.bg-info{{background-color:var(--bs-info)}}.text-warning{{color:var(--bs-warning)}}")


def plain_css(primary, heading, body):
    return (f"body{{font-family:'{body}',Helvetica,Arial,sans-serif;color:#333;background:#fafafa}}"
            f"h1,h2{{font-family:'{heading}',serif;color:#222}}h3{{font-family:'{heading}',serif}}"
            f".masthead{{background-color:{primary};color:#fff}}.btn{{background:{primary};border:1px solid {darker(primary)}}}"
            f"a{{color:{primary}}}a:hover{{color:{darker(primary)}}}.navbar{{background:#fff;border-bottom:1px solid #e5e5e5}}"
            f".alert-danger{{color:#a94442;background:#f2dede}}.alert-success{{color:#3c763d}}")


def render(i, entry):
    """The files of one corpus site, by path under its directory."""
    name, _, primary, heading, body = entry
    shape = ("bootstrap", "plain", "inline", "logo")[i % 4]
    head = [f"<title>{name} | Theme</title>", fonts_link(heading, body)]
    css = ""
    html_body = BODY.format(name=name, slug=slug(name))
    if shape == "bootstrap":
        css = bootstrap_css(primary, heading, body)
    elif shape == "plain":
        css = plain_css(primary, heading, body)
    elif shape == "inline":
        head = [f"<title>{name}</title>",
                f"<style>@font-face{{font-family:'{heading}';src:url(h.woff2)}}"
                f"body{{font-family:'{body}',sans-serif;color:#1f1f1f}}h1,h2{{font-family:'{heading}',sans-serif}}</style>",
                fonts_link(body, body)]
        html_body = html_body.replace('class="btn btn-primary btn-xl"', f'class="btn" style="background-color:{primary};color:#fff"')
        html_body = html_body.replace('<header class="navbar">', f'<header class="navbar" style="background:{primary}">')
    else:
        head.append(f'<meta name="theme-color" content="{primary}">')
        css = (f"body{{font-family:\"{body}\",sans-serif;color:#222;background:#fff}}"
               f"h1,h2{{font-family:\"{heading}\",sans-serif}}.btn{{border:2px solid #222;color:#222}}")
    if css:
        head.append('<link rel="stylesheet" href="theme.css">')
    html = f"<!doctype html><html><head><meta charset='utf-8'>{''.join(head)}</head><body>{html_body}</body></html>"
    files = {"index.html": html.encode(), "logo.png": logo_png(primary if shape == "logo" else "#333333"),
             "about.html": f"<html><head><title>About {name}</title></head><body><h1>About</h1><p>{name} since 2014.</p></body></html>".encode()}
    if css:
        files["theme.css"] = css.encode()
    return files


def corpus():
    """(slug, truth, files) for every template."""
    for i, entry in enumerate(TEMPLATES):
        name, source, primary, heading, body = entry
        yield slug(name), {"name": name, "documented_by": source, "primary": primary,
                           "heading_font": heading, "body_font": body}, render(i, entry)

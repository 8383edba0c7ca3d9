"""Google's Gemini image and Veo video endpoints (Generative Language API v1beta), offline.

  POST /v1beta/models/{model}:generateContent      images: generationConfig.imageConfig.aspectRatio
                                                    of 1:1 2:3 3:2 3:4 4:3 9:16 16:9 21:9, answered
                                                    with a real PNG (base64 inlineData) at Gemini's
                                                    sizes (16:9 is 1344×768)
  POST /v1beta/models/{model}:predictLongRunning   Veo: 16:9 or 9:16 → an operation
  GET  /v1beta/models/{model}/operations/{id}      done after `video_seconds`
  GET  /v1beta/files/{id}:download?alt=media       302 to /_media/{id}.mp4 (no key needed there, like
                                                   Google's storage): the MP4, real, playable, the asked ratio

With generationConfig.responseMimeType "application/json" generateContent answers text
instead, shaped by its responseSchema: a brand voice written from the facts in the prompt.
An image prompt that names "Brand colours: primary #RRGGBB, …" is painted in those colours
(the primary fills most of it), as a model told the palette would.

Every call needs x-goog-api-key. Failures can be switched on with POST /_sim/fail, or per
request: a prompt containing "#fail-permanent" is refused (400), "#fail-transient" meets
a 503. Pictures are deterministic for a prompt.
"""
import base64
import hashlib
import io
import threading
import time

from .base import Simulator

IMAGE_SIZES = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
               "4:3": (1184, 864), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672)}
VIDEO_SIZES = {"16:9": (640, 360), "9:16": (360, 640)}


def colours(prompt):
    """Background and stripes: the brand's primary and next colour when the prompt names
    them, else colours derived from the prompt."""
    import re
    line = next((l for l in prompt.splitlines() if l.startswith("Brand colours:")), "")
    hexes = re.findall(r"#([0-9A-Fa-f]{6})", line)
    if hexes:
        rgb = [tuple(int(h[i:i + 2], 16) for i in (0, 2, 4)) for h in hexes]
        return rgb[0], rgb[1] if len(rgb) > 1 else (255, 255, 255)
    d = hashlib.sha256(prompt.encode()).digest()
    return (d[0], d[1], d[2]), (d[3], d[4], d[5])


TONES = {"caring": ["care", "gentle", "patient", "health", "family"],
         "luxurious": ["luxury", "premium", "silk", "finest", "handwoven"],
         "playful": ["fun", "love", "treat", "delicious"],
         "professional": ["services", "expert", "certified", "quality"],
         "friendly": ["welcome", "local", "community", "coffee"]}


def brand_voice(prompt, schema):
    """A deterministic brand voice from the facts JSON at the end of the prompt."""
    import json as _json
    facts = {}
    if "Facts:" in prompt:
        try:
            facts = _json.loads(prompt.split("Facts:", 1)[1].strip())
        except ValueError:
            facts = {}
    text = _json.dumps(facts).lower()
    tone = max(TONES, key=lambda t: sum(text.count(w) for w in TONES[t]))
    m = facts.get("messaging") or {}
    name = facts.get("business") or "the business"
    dos = [f"Open with the promise on the home page: {m['hero_headline']}"] if m.get("hero_headline") else []
    dos += [f"Close with: {c}" for c in (m.get("calls_to_action") or [])[:1]]
    if facts.get("primary"):
        dos.append(f"Let {facts['primary']} lead every creative")
    answer = {"tone": tone, "style": "warm, short sentences" if tone in ("caring", "friendly") else "confident and precise",
              "personality": f"{tone} and genuine", "dos": dos or ["Keep it simple"],
              "donts": ["Don't invent offers", "Don't stray from the palette"],
              "key_phrases": (m.get("key_phrases") or [])[:5],
              "summary": f"{name} speaks in a {tone} voice."}
    required = (schema or {}).get("required") or list(answer)
    return {k: answer[k] for k in required if k in answer}


def png(prompt, size):
    from PIL import Image, ImageDraw
    bg, fg = colours(prompt)
    w, h = size
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    for i in range(0, max(w, h), 48):
        draw.line([(i, 0), (0, i)], fill=fg, width=6)
    draw.ellipse([w // 4, h // 4, w * 3 // 4, h * 3 // 4], outline=(255, 255, 255), width=8)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=1)
    return buf.getvalue()


def mp4(prompt, size, seconds=2, fps=12):
    import av
    from PIL import Image
    bg, fg = colours(prompt)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(seconds * fps):
            shade = tuple((c + i * 8) % 256 for c in bg)
            frame = av.VideoFrame.from_image(Image.new("RGB", size, shade if i % 2 else fg))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


class Google(Simulator):
    def __init__(self, api_key, video_seconds=2.0, **kw):
        super().__init__(**kw)
        self.api_key, self.video_seconds = api_key, video_seconds
        self.operations = {}
        self.files = {}

    def error_body(self, status, message):
        names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                 500: "INTERNAL", 503: "UNAVAILABLE"}
        return {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}}

    def route(self, h, method, path, query, body):
        if method == "GET" and path.startswith("/_media/"):
            # Where a download redirects, as Google's storage: signed URL, no API key.
            data = self.files.get(path[len("/_media/"):].removesuffix(".mp4"))
            if data is None:
                return h.reply(404, self.error_body(404, "File not found"))
            return h.reply(200, raw=data, content_type="video/mp4")
        if h.headers.get("x-goog-api-key") != self.api_key and query.get("key") != self.api_key:
            return h.reply(403, self.error_body(403, "Method doesn't allow unregistered callers. Please use an API key."))
        if not path.startswith("/v1beta/"):
            return h.reply(404, self.error_body(404, "Not found"))
        rest = path[len("/v1beta/"):]
        if method == "POST" and rest.startswith("models/") and rest.endswith(":generateContent"):
            return self.image(h, rest[len("models/"):-len(":generateContent")], body or {})
        if method == "POST" and rest.startswith("models/") and rest.endswith(":predictLongRunning"):
            return self.start_video(h, rest[len("models/"):-len(":predictLongRunning")], body or {})
        if method == "GET" and "/operations/" in rest:
            return self.operation(h, rest)
        if method == "GET" and rest.startswith("files/") and rest.endswith(":download"):
            file_id = rest[len("files/"):-len(":download")]
            if file_id not in self.files:
                return h.reply(404, self.error_body(404, "File not found"))
            return h.reply(302, raw=b"", content_type="text/plain", headers={"Location": f"/_media/{file_id}.mp4"})
        h.reply(404, self.error_body(404, f"Not found: {path}"))

    def _scripted_failure(self, h, prompt):
        if "#fail-permanent" in prompt:
            h.reply(400, self.error_body(400, "The prompt could not be processed: it violates the usage policy."))
            return True
        if "#fail-transient" in prompt:
            h.reply(503, self.error_body(503, "The model is overloaded. Please try again later."))
            return True
        return False

    def image(self, h, model, body):
        try:
            prompt = " ".join(p.get("text", "") for c in body["contents"] for p in c["parts"])
        except (KeyError, TypeError):
            return h.reply(400, self.error_body(400, "* GenerateContentRequest.contents: contents is not specified"))
        if self._scripted_failure(h, prompt):
            return
        config = body.get("generationConfig") or {}
        if config.get("responseMimeType") == "application/json":
            import json as _json
            text = _json.dumps(brand_voice(prompt, config.get("responseSchema")))
            return h.reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                                 "finishReason": "STOP", "index": 0}],
                                 "modelVersion": model})
        ratio = (config.get("imageConfig") or {}).get("aspectRatio", "1:1")
        if ratio not in IMAGE_SIZES:
            return h.reply(400, self.error_body(400, f"Unsupported aspect ratio: {ratio}. Supported: "
                                                     + ", ".join(IMAGE_SIZES)))
        data = base64.b64encode(png(prompt, IMAGE_SIZES[ratio])).decode()
        h.reply(200, {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": data}}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": len(prompt.split()), "candidatesTokenCount": 1290,
                              "totalTokenCount": len(prompt.split()) + 1290},
            "modelVersion": model, "responseId": hashlib.md5(prompt.encode()).hexdigest()[:22]})

    def start_video(self, h, model, body):
        try:
            prompt = body["instances"][0]["prompt"]
        except (KeyError, IndexError, TypeError):
            return h.reply(400, self.error_body(400, "instances[0].prompt is required"))
        if self._scripted_failure(h, prompt):
            return
        ratio = (body.get("parameters") or {}).get("aspectRatio", "16:9")
        if ratio not in VIDEO_SIZES:
            return h.reply(400, self.error_body(400, f"aspectRatio must be 16:9 or 9:16, not {ratio}"))
        op_id = hashlib.sha256(f"{prompt}{time.time_ns()}".encode()).hexdigest()[:12]
        name = f"models/{model}/operations/{op_id}"
        op = {"name": name, "ready_at": time.time() + self.video_seconds, "prompt": prompt, "ratio": ratio}
        with self.lock:
            self.operations[name] = op
        threading.Thread(target=self._render, args=(op_id, op), daemon=True).start()
        h.reply(200, {"name": name})

    def _render(self, op_id, op):
        self.files[op_id] = mp4(op["prompt"], VIDEO_SIZES[op["ratio"]])

    def operation(self, h, name):
        op = self.operations.get(name)
        if op is None:
            return h.reply(404, self.error_body(404, f"Operation {name} not found"))
        op_id = name.rsplit("/", 1)[1]
        if time.time() < op["ready_at"] or op_id not in self.files:
            return h.reply(200, {"name": name, "done": False})
        uri = f"{self.url}/v1beta/files/{op_id}:download?alt=media"
        h.reply(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}})

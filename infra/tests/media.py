"""Real, decodable test media: images with Pillow, video with PyAV (FFmpeg).

Run as a script to (re)write the fixtures the Rust tests read:
    infra/.venv/bin/python infra/tests/media.py functions/asset-uploaded/tests/fixtures
"""
import io
import os
import sys


def image(width, height, fmt, color=(200, 40, 40)):
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).rectangle([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 220, 60))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def video(width, height, container="mp4", seconds=1, fps=12):
    import av
    from PIL import Image
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (i * 20 % 255, 80, 160)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


FIXTURES = {
    "portrait.jpg": lambda: image(1080, 1350, "JPEG"),
    "square.png": lambda: image(600, 600, "PNG"),
    "landscape.webp": lambda: image(640, 360, "WEBP"),
    "panorama.png": lambda: image(1500, 500, "PNG"),
    "clip.mp4": lambda: video(320, 180, "mp4"),
    "vertical.mov": lambda: video(180, 320, "mov"),
    "not-an-image.png": lambda: b"this is a text file with a .png name\n" * 10,
}

if __name__ == "__main__":
    target = sys.argv[1]
    os.makedirs(target, exist_ok=True)
    for name, make in FIXTURES.items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(make())
        print(name, os.path.getsize(os.path.join(target, name)))

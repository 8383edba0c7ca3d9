"""The third-party stand-ins (infra/simulators) the local stack points the functions at."""
import os

from .logs import log


def start_simulators(gateway_url):
    """Meta Graph, Razorpay, Stripe and Google (Gemini/Veo) stand-ins, unless the environment
    already points the functions elsewhere (META_GRAPH_URL, RAZORPAY_API_URL, STRIPE_API_URL,
    GEMINI_API_URL)."""
    from simulators.google import Google
    from simulators.meta import Meta
    from simulators.razorpay import Razorpay
    from simulators.sites import Sites
    from simulators.stripe import Stripe
    started = []
    if not os.environ.get("META_GRAPH_URL"):
        sim = Meta(os.environ.get("META_APP_ID", ""), os.environ.get("META_APP_SECRET", "")).start()
        os.environ["META_GRAPH_URL"] = f"{sim.url}/v25.0"
        started.append(sim)
        log("simulator", name="meta", url=sim.url)
    if not os.environ.get("RAZORPAY_API_URL"):
        sim = Razorpay(os.environ.get("RAZORPAY_KEY_ID", ""), os.environ.get("RAZORPAY_KEY_SECRET", ""),
                       os.environ.get("RAZORPAY_WEBHOOK_SECRET", ""), f"{gateway_url}/webhooks/razorpay").start()
        os.environ["RAZORPAY_API_URL"] = f"{sim.url}/v1"
        started.append(sim)
        log("simulator", name="razorpay", url=sim.url, checkout=f"{sim.url}/checkout/<subscription id>")
    if not os.environ.get("STRIPE_API_URL"):
        sim = Stripe(os.environ.get("STRIPE_SECRET_KEY", ""), os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
                     f"{gateway_url}/webhooks/stripe").start()
        os.environ["STRIPE_API_URL"] = sim.url
        started.append(sim)
        log("simulator", name="stripe", url=sim.url, checkout=f"{sim.url}/pay/<checkout session id>")
    if not os.environ.get("GEMINI_API_URL"):
        sim = Google(os.environ.get("GEMINI_API_KEY", "")).start()
        os.environ["GEMINI_API_URL"] = f"{sim.url}/v1beta"
        started.append(sim)
        log("simulator", name="google", url=sim.url)
    # Small-business sites for the brand analyzer, and SSRF targets. Their host:port is
    # added to whatever FETCH_ALLOW_HOSTS already holds (set it to analyse another local site).
    sim = Sites().start()
    host_port = sim.url.removeprefix("http://")
    allow = [h for h in os.environ.get("FETCH_ALLOW_HOSTS", "").split(",") if h.strip()]
    os.environ["FETCH_ALLOW_HOSTS"] = ",".join(allow + [host_port])
    os.environ["SITES_URL"] = sim.url
    started.append(sim)
    log("simulator", name="sites", url=sim.url, cafe=f"{sim.url}/cafe/", clinic=f"{sim.url}/clinic/",
        shop=f"{sim.url}/shop/")
    return started

"""Local stand-ins for the third-party APIs Adpilot calls, speaking their documented wire
formats, so the platform runs end to end offline. The platform only knows their base
URLs (RAZORPAY_API_URL, GEMINI_API_URL, META_GRAPH_URL); infra/gateway.py starts them."""

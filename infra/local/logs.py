"""The local stack's log lines: one JSON object per event on stderr."""
import json
import sys
from datetime import datetime, timezone


def log(event, **fields):
    """One JSON line per event, to stderr: what an operator greps."""
    fields.update(ts=datetime.now(timezone.utc).isoformat(timespec="milliseconds"), event=event, src="gateway")
    print(json.dumps(fields), file=sys.stderr, flush=True)

"""EventBridge schedules, locally: each Schedule event of the template invokes its function."""
import json
import re
import threading
import time
import uuid

from .logs import log
from .runtime import events_of
from .template import STACK


def schedule_seconds(expression):
    """rate(N minute|minutes|hour|hours|day|days) → seconds; a cron(...) runs daily locally."""
    m = re.match(r"rate\((\d+)\s+(minute|hour|day)s?\)", expression or "")
    if m:
        return int(m.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[m.group(2)]
    return 86400


def start_schedules(functions, first_after=5):
    """Invokes each function on its Schedule events: first shortly after start (so a
    newcomer sees scheduled work happen), then at the schedule's rate."""
    for fn, ev_name, p in events_of(functions, "Schedule"):
        every = schedule_seconds(p.get("Schedule"))
        payload = json.loads(p["Input"]) if p.get("Input") else {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": STACK["AWS::AccountId"], "region": STACK["AWS::Region"], "resources": [], "detail": {}}

        def tick(fn=fn, ev_name=ev_name, every=every, payload=payload):
            time.sleep(first_after)
            while True:
                kind, out = fn.invoke(payload)
                log("schedule", function=fn.spec.name, schedule=ev_name, outcome=kind,
                    result=out.decode(errors="replace")[:300])
                time.sleep(every)

        threading.Thread(target=tick, daemon=True).start()
        log("schedule_registered", function=fn.spec.name, schedule=ev_name, every_seconds=every)

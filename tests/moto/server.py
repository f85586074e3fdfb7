"""moto's EC2 server for Kiln's tests, with a thin layer in front of it.

    python server.py PORT

The layer
- records every call (action, region, parameters): GET /__kiln/calls;
- injects faults: POST /__kiln/faults with a JSON list of
  {"action": "RunInstances", "status": 503, "code": "RequestLimitExceeded", "count": 2}
  (count -1: every call), for the next matching calls; {"action": ..., "delay": SECONDS,
  "count": N} holds matching calls that long and then lets them through (a slow API, or a
  test that needs the build to be inside one call);
- answers EnableImageDeprecation and DisableImageDeprecation itself, because moto does not
  implement them (it answers HTTP 500). This is the only emulated part: every other call is
  moto's. The deprecation time is kept per image and shown by GET /__kiln/deprecations;
- lists the ids of the account's snapshots in a region, from moto's own store, quickly:
  GET /__kiln/snapshots?region=us-east-1 (describing moto's ~1,300 default AMIs' snapshots
  through the API takes seconds; tests/moto/state.py uses this).
"""

import io
import json
import sys
import threading
import time
import urllib.parse
import uuid

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

lock = threading.Lock()
calls = []
faults = []
deprecations = {}


def region_of(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    if marker in auth:
        parts = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        if len(parts) >= 3:
            return parts[2]
    return ""


def xml(environ, start, status, body):
    data = body.encode()
    start(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
    return [data]


def app(inner):
    def handle(environ, start):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__kiln/"):
            return control(environ, start, path)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        params.update(dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""))))
        action = params.get("Action", "")
        region = region_of(environ)
        with lock:
            calls.append({"action": action, "region": region, "params": params})
            fault = None
            for f in faults:
                if f["action"] in (action, "*") and f["count"] != 0:
                    f["count"] -= 1
                    fault = f
                    break
        if fault is not None and fault.get("delay"):
            time.sleep(float(fault["delay"]))
            fault = None
        if fault is not None:
            return xml(
                environ,
                start,
                f'{fault["status"]} Fault',
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                f'<Code>{fault["code"]}</Code><Message>injected by the test</Message>'
                f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>",
            )
        if action in ("EnableImageDeprecation", "DisableImageDeprecation"):
            image = params.get("ImageId", "")
            with lock:
                if action == "EnableImageDeprecation":
                    deprecations[f"{region}/{image}"] = params.get("DeprecateAt", "")
                else:
                    deprecations.pop(f"{region}/{image}", None)
            return xml(
                environ,
                start,
                "200 OK",
                f'<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                f"<requestId>{uuid.uuid4()}</requestId><return>true</return></{action}Response>",
            )
        return inner(environ, start)

    return handle


def control(environ, start, path):
    if path == "/__kiln/faults" and environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        new = json.loads(environ["wsgi.input"].read(length) or b"[]")
        with lock:
            faults[:] = new
        out = b"ok"
    elif path == "/__kiln/calls":
        with lock:
            out = json.dumps(calls).encode()
    elif path == "/__kiln/snapshots":
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        backend = ec2_backends[DEFAULT_ACCOUNT_ID][query.get("region", "us-east-1")]
        with lock:
            out = json.dumps(sorted(backend.snapshots)).encode()
    elif path == "/__kiln/deprecations":
        with lock:
            out = json.dumps(deprecations).encode()
    else:
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown control path"]
    start("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


if __name__ == "__main__":
    port = int(sys.argv[1])
    inner = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app(inner), threaded=True, use_reloader=False)

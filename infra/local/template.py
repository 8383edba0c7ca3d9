"""template.yaml as the local stack reads it: the functions (binary, timeout, memory,
environment, events), the HTTP routes, and the intrinsic functions with a local meaning."""
import os
import re

import yaml


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, …) as plain mappings."""


def _cfn_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class FunctionSpec:
    def __init__(self, name, binary, timeout, memory, env, routes, events):
        self.name, self.binary, self.timeout, self.memory = name, binary, timeout, memory
        self.env, self.routes, self.events = env, routes, events


STACK = {"AWS::StackName": "adpilot-local", "AWS::AccountId": "000000000000",
         "AWS::Region": os.environ.get("AWS_REGION", "ap-south-1"), "AWS::Partition": "aws",
         "AWS::URLSuffix": "amazonaws.com"}


class Resolver:
    """Evaluates the intrinsic functions that have a local meaning (pseudo parameters,
    buckets and queues); anything else (secrets, the database) resolves to None and
    comes from the environment instead."""

    def __init__(self, resources):
        self.resources = resources
        self.physical = {}  # logical id -> bucket name / queue URL
        self.arns = {}

    def _sub(self, text, variables=None):
        def one(m):
            name = m.group(1)
            if variables and name in variables:
                v = self.resolve(variables[name])
            elif name in STACK:
                v = STACK[name]
            elif "." in name:
                v = self.arns.get(name.split(".")[0]) if name.endswith(".Arn") else None
            else:
                v = self.physical.get(name)
            if v is None:
                raise LookupError(name)
            return str(v)
        try:
            return re.sub(r"\$\{([^}]+)\}", one, text)
        except LookupError:
            return None

    def resolve(self, v):
        if isinstance(v, (str, int, float)):
            return str(v)
        if not isinstance(v, dict) or len(v) != 1:
            return None
        (fn, arg), = v.items()
        if fn == "Ref":
            return STACK.get(arg) or self.physical.get(arg)
        if fn == "Fn::Sub":
            return self._sub(arg) if isinstance(arg, str) else self._sub(arg[0], arg[1])
        if fn == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.arns.get(name) if attr == "Arn" else None
        return None


def load_template(path):
    with open(path) as f:
        doc = yaml.load(f, Loader=CfnLoader)
    glob = (doc.get("Globals") or {}).get("Function") or {}
    resources = doc.get("Resources") or {}
    resolver = Resolver(resources)
    for name, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::S3::Bucket":
            resolver.physical[name] = resolver.resolve(props.get("BucketName")) or f"adpilot-local-{name.lower()}"
        elif res.get("Type") == "AWS::SQS::Queue":
            resolver.physical[name] = resolver.resolve(props.get("QueueName")) or f"adpilot-local-{name}"
    specs = []
    for name, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        env = {}  # raw template values, resolved when an instance starts
        for source in (glob, props):
            env.update((source.get("Environment") or {}).get("Variables") or {})
        routes, events = [], {}
        for ev_name, ev in (props.get("Events") or {}).items():
            events[ev_name] = ev
            if ev.get("Type") == "HttpApi":
                p = ev.get("Properties") or {}
                routes.append((p.get("Method", "ANY").upper(), p.get("Path", "$default")))
        specs.append(FunctionSpec(
            name, binary or name.lower(),
            int(props.get("Timeout", glob.get("Timeout", 3))),
            int(props.get("MemorySize", glob.get("MemorySize", 128))),
            env, routes, events))
    return specs, resources, resolver


class Route:
    def __init__(self, method, template, function):
        self.method, self.template, self.function = method, template, function
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}$")
        literal = re.sub(r"\{[^}]+\}", "", template)
        self.specificity = (len(literal), -template.count("{"))

    def match(self, method, path):
        m = self.regex.match(path)
        if not m or self.method not in ("ANY", method):
            return None
        return m.groupdict()

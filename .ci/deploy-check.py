#!/usr/bin/env python3
"""Offline checks of the examples' SAM templates and of a cargo-lambda bootstrap.

Run by .ci/deploy-check.sh with the Python of its virtual environment (PyYAML, and
aws-sam-translator for `transform`):

  deploy-check.py templates ARCH TEMPLATE...   what cfn-lint does not check for SAM functions
  deploy-check.py transform TEMPLATE OUT.json  the SAM transform, offline (cfn-lint lints OUT)
  deploy-check.py bootstrap ARCH PATH          an ELF executable for ARCH that Lambda can run

ARCH is a Lambda architecture: x86_64 or arm64. Every failure is printed; the exit status is 1
if there was one.
"""

import os
import re
import struct
import sys

import yaml

# Limits of DurableConfig and of the function (Lambda quotas, CloudFormation schema).
EXECUTION_TIMEOUT = (1, 31_622_400)  # seconds, the whole execution (366 days)
RETENTION_DAYS = (1, 90)
INVOCATION_TIMEOUT = (1, 900)  # seconds, one invocation
MEMORY_MB = (128, 10_240)
DURABLE_CONFIG_KEYS = {"ExecutionTimeout", "RetentionPeriodInDays", "KMSKeyArn"}
RUNTIME = "provided.al2023"
# glibc of provided.al2023: a binary that needs a newer symbol version fails at start.
MAX_GLIBC = (2, 34)
# ELF e_machine of each Lambda architecture.
ELF_MACHINE = {"x86_64": 62, "arm64": 183}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...)."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)


def package_name(crate_dir):
    """The [package] name of the crate in crate_dir (its main binary's name)."""
    try:
        with open(os.path.join(crate_dir, "Cargo.toml"), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    package = re.search(r"^\[package\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    name = package and re.search(r'^name\s*=\s*"([^"]+)"', package.group(1), re.M)
    return name.group(1) if name else None


def binaries(crate_dir):
    """The binaries of the crate in crate_dir: its main one (the package's name) and those
    of src/bin/*.rs."""
    names = set()
    main = package_name(crate_dir)
    if main is not None:
        names.add(main)
    bin_dir = os.path.join(crate_dir, "src", "bin")
    if os.path.isdir(bin_dir):
        names.update(f[:-3] for f in os.listdir(bin_dir) if f.endswith(".rs"))
    return names


def in_range(value, bounds):
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def check_function(name, props, metadata, template_dir, arch, errors):
    def fail(message):
        errors.append(f"{name}: {message}")

    if props.get("Runtime") != RUNTIME:
        fail(f"Runtime is {props.get('Runtime')!r}, not {RUNTIME}")
    if props.get("Architectures") != [arch]:
        fail(f"Architectures is {props.get('Architectures')!r}, not [{arch}] (the build's)")
    # The build: `cargo lambda build` writes target/lambda/<bin>/bootstrap; the template ships
    # that directory as it is, so the runtime's entry point is `bootstrap`.
    if isinstance(metadata, dict) and "BuildMethod" in metadata:
        fail("Metadata.BuildMethod is set: the templates ship the pre-built cargo-lambda output")
    if props.get("Handler") != "bootstrap":
        fail(f"Handler is {props.get('Handler')!r}, not bootstrap")
    code_uri = props.get("CodeUri")
    names = binaries(template_dir)
    expected = {
        os.path.join(REPO, "target", "lambda", name): name for name in sorted(names)
    }
    if package_name(template_dir) is None:
        fail("no crate (Cargo.toml with a [package] name) beside the template")
    elif not isinstance(code_uri, str):
        fail(f"CodeUri is {code_uri!r}, not a path")
    elif os.path.normpath(os.path.join(template_dir, code_uri)) not in expected:
        choices = ", ".join(f"{os.path.relpath(path, template_dir)}/" for path in expected)
        fail(f"CodeUri {code_uri!r} is none of {choices} "
             f"(cargo lambda's output for the crate's binaries)")
    if not in_range(props.get("Timeout"), INVOCATION_TIMEOUT):
        fail(f"Timeout is {props.get('Timeout')!r}, not a number of seconds from 1 to 900")
    if not in_range(props.get("MemorySize"), MEMORY_MB):
        fail(f"MemorySize is {props.get('MemorySize')!r}, not a number of MB from 128 to 10240")
    if props.get("LoggingConfig", {}).get("LogFormat") != "JSON":
        fail("LoggingConfig.LogFormat is not JSON")
    if not isinstance(props.get("AutoPublishAlias"), str):
        fail("AutoPublishAlias is not an alias name: executions would not be pinned to a published version")

    durable = props.get("DurableConfig")
    if durable is None:
        # A plain function says why in its Metadata (NotDurable).
        if not (isinstance(metadata, dict) and metadata.get("NotDurable")):
            fail("no DurableConfig (a plain function says why in Metadata.NotDurable)")
        return
    if not isinstance(durable, dict):
        fail(f"DurableConfig is {durable!r}, not a mapping")
        return
    for key in sorted(set(durable) - DURABLE_CONFIG_KEYS):
        fail(f"DurableConfig.{key} is not a property (allowed: {', '.join(sorted(DURABLE_CONFIG_KEYS))})")
    timeout = durable.get("ExecutionTimeout")
    if not in_range(timeout, EXECUTION_TIMEOUT):
        fail(f"DurableConfig.ExecutionTimeout is {timeout!r}, not a number of seconds from 1 to 31622400")
    elif in_range(props.get("Timeout"), INVOCATION_TIMEOUT) and timeout < props["Timeout"]:
        fail(f"DurableConfig.ExecutionTimeout ({timeout} s) is shorter than one invocation's Timeout")
    if not in_range(durable.get("RetentionPeriodInDays"), RETENTION_DAYS):
        fail(f"DurableConfig.RetentionPeriodInDays is {durable.get('RetentionPeriodInDays')!r}, "
             "not set explicitly to a number of days from 1 to 90")


def check_templates(arch, paths):
    errors = []
    for path in paths:
        template = load_template(path)
        template_dir = os.path.dirname(os.path.abspath(path))
        shown = os.path.relpath(path, REPO)
        found = []
        globals_ = (template.get("Globals") or {}).get("Function") or {}
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            found.append(logical_id)
            # SAM merges Globals into each function; a function's own value wins (maps
            # are merged key by key).
            props = dict(globals_)
            for key, value in (resource.get("Properties") or {}).items():
                if isinstance(value, dict) and isinstance(props.get(key), dict):
                    value = {**props[key], **value}
                props[key] = value
            check_function(f"{shown}: {logical_id}", props, resource.get("Metadata"),
                           template_dir, arch, errors)
        if not found:
            errors.append(f"{shown}: no AWS::Serverless::Function")
        print(f"deploy-check: {shown}: {len(found)} function(s) checked")
    return errors


def transform(path, out):
    """Runs the SAM transform as `sam deploy` would after uploading CodeUri."""
    import json
    import logging

    # Its metrics are never published here; its warning about them is noise.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        def load(self):
            return {}

    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for section in [(template.get("Globals") or {}).get("Function") or {}] + [
        resource.get("Properties") or {}
        for resource in (template.get("Resources") or {}).values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]:
        if "CodeUri" in section:
            section["CodeUri"] = "s3://deploy-check/bootstrap.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    output = sam_transform(template, {}, NoManagedPolicies())
    with open(out, "w", encoding="utf-8") as f:
        json.dump(output, f, indent=1)
    return []


def check_bootstrap(arch, path):
    errors = []
    if not os.path.isfile(path):
        return [f"{path}: missing"]
    if not os.access(path, os.X_OK):
        errors.append(f"{path}: not executable")
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return errors + [f"{path}: not a 64-bit little-endian ELF file"]
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_type not in (2, 3):  # ET_EXEC, or ET_DYN for a position-independent executable
        errors.append(f"{path}: ELF type {e_type} is not an executable")
    if e_machine != ELF_MACHINE[arch]:
        errors.append(f"{path}: ELF machine {e_machine}, not {arch} ({ELF_MACHINE[arch]})")
    e_shoff, = struct.unpack_from("<Q", data, 40)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 58)
    sections = []
    for i in range(e_shnum):
        sh_name, sh_type, _, _, sh_offset, sh_size, sh_link = struct.unpack_from(
            "<IIQQQQI", data, e_shoff + i * e_shentsize)
        sections.append((sh_name, sh_type, sh_offset, sh_size, sh_link))

    def cstring(offset):
        return data[offset:data.index(b"\0", offset)].decode()

    names = [cstring(sections[e_shstrndx][2] + s[0]) for s in sections] if sections else []
    if ".symtab" in names:
        errors.append(f"{path}: not stripped (it has a .symtab)")
    if ".interp" in names:
        interp = sections[names.index(".interp")]
        print(f"deploy-check: interpreter {cstring(interp[2])}")
    # The glibc symbol versions the binary needs (SHT_GNU_verneed).
    needed = set()
    for _, sh_type, offset, _, link in sections:
        if sh_type != 0x6FFFFFFE:
            continue
        strtab = sections[link][2]
        entry = offset
        while True:
            _, vn_cnt, _, vn_aux, vn_next = struct.unpack_from("<HHIII", data, entry)
            aux = entry + vn_aux
            for _ in range(vn_cnt):
                _, _, _, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                match = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", cstring(strtab + vna_name))
                if match:
                    needed.add((int(match.group(1)), int(match.group(2))))
                aux += vna_next
            if not vn_next:
                break
            entry += vn_next
    if needed:
        newest = max(needed)
        print(f"deploy-check: needs glibc {newest[0]}.{newest[1]} (provided.al2023 has "
              f"{MAX_GLIBC[0]}.{MAX_GLIBC[1]})")
        if newest > MAX_GLIBC:
            errors.append(f"{path}: needs GLIBC_{newest[0]}.{newest[1]}, newer than provided.al2023's")
    print(f"deploy-check: {path}: ELF executable for {arch}, "
          f"{len(data):,} bytes ({len(data)} bytes)")
    return errors


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    if command == "templates" and len(args) >= 2 and args[0] in ELF_MACHINE:
        errors = check_templates(args[0], args[1:])
    elif command == "transform" and len(args) == 2:
        errors = transform(*args)
    elif command == "bootstrap" and len(args) == 2 and args[0] in ELF_MACHINE:
        errors = check_bootstrap(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for error in errors:
        print(f"deploy-check: error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Write ``stratus/aws/api/<service>.py`` from botocore's (patched) service models.

    python -m tools.gen_api            # (re)write the files
    python -m tools.gen_api --check    # exit 1, listing the files that would change

Each file holds type aliases for scalar shapes, ``Literal`` aliases for enums, list and map
aliases and ``TypedDict``s for structures (each after the shapes it uses), one ``AwsError``
subclass per error shape, and ``<Service>Api``: one ``async`` method per operation that
raises ``NotImplementedOperation``. The output depends only on botocore's version and our
patches, so it is committed and a unit test fails when it drifts.
"""

from __future__ import annotations

import argparse
import json
import keyword
import sys
from pathlib import Path
from typing import Any

import botocore
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel, Shape

from stratus.aws.api import class_name, module_name
from stratus.aws.models import PATCHES_DIR, raw_model
from stratus.services import PROVIDERS
from stratus.services.base import Provider

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT / "stratus" / "aws" / "api"

# Services to generate besides those with a provider (e.g. ones a provider calls into).
EXTRA_SERVICES: list[str] = []
SERVICES: list[str] = sorted(set(PROVIDERS) | set(EXTRA_SERVICES))

LINE = 100
SCALARS = {
    "string": "str",
    "character": "str",
    "integer": "int",
    "long": "int",
    "short": "int",
    "byte": "int",
    "bigInteger": "int",
    "boolean": "bool",
    "float": "float",
    "double": "float",
    "bigDecimal": "float",
    "timestamp": "datetime",
    "blob": "bytes",
}
COMPOSITES = ("structure", "list", "map")
# Names the generated module uses: a shape so named (or named as a keyword) gets a trailing "_".
RESERVED = {
    "Any", "ClassVar", "Literal", "Required", "TypeAlias", "TypedDict", "datetime",
    "AwsError", "NotImplementedOperation", "Provider", "RequestContext",
    "bool", "bytes", "dict", "float", "int", "list", "str",
}  # fmt: skip
# Provider's own names (and the attributes its __init__ sets): no operation may shadow them.
PROVIDER_NAMES = set(dir(Provider)) | {"node", "store", "clock", "timers", "OPERATIONS"}


class Generator:
    """Renders one service's module; ``py`` maps each shape name to its Python name."""

    def __init__(self, service: str, description: dict[str, Any]) -> None:
        self.service = service
        self.description = description  # the model's JSON, for what botocore's Shape drops
        self.model = ServiceModel(description, service_name=service)
        self.shapes = {n: self.model.shape_for(n) for n in sorted(self.model.shape_names)}
        self.py = {name: py_name(name) for name in self.shapes}
        if len(set(self.py.values())) != len(self.py):
            raise ValueError(f"{service}: two shapes map to one Python name")
        self.used: set[str] = set()  # typing names and imports the body needs
        self.defined: set[str] = set()  # shapes rendered so far: later ones are quoted

    def render(self) -> str:
        # Module-level names are evaluated at import (no ``from __future__ import
        # annotations``, so TypedDict sees ``Required``): each composite shape comes after
        # those it uses, and only references inside a cycle are quoted.
        scalars = [s for s in self.shapes.values() if s.type_name in SCALARS]
        errors = [n for n, s in self.shapes.items() if s.metadata.get("exception")]
        plain = [self.alias(s.name, self.definition(s)) for s in scalars if not self.enum(s.name)]
        enums = [self.enum_alias(s.name) for s in scalars if self.enum(s.name)]
        composites = [self.composite(n) for n in self.dependency_order()]
        items = [*plain, *enums, *composites, *(self.error(n) for n in errors), self.api_class()]
        body = items[0]
        for before, text in zip(items, items[1:]):
            # Blank lines as a formatter puts them: two around a multi-line definition.
            body += ("\n\n\n" if "\n" in before + text else "\n") + text
        return self.header() + "\n" + self.imports() + "\n" + body + "\n"

    def enum(self, name: str) -> list[str]:
        return self.shapes[name].metadata.get("enum", [])

    def composite_deps(self, shape: Shape) -> list[Shape]:
        if shape.type_name == "list":
            return [shape.member]
        if shape.type_name == "map":
            return [shape.key, shape.value]
        return list(shape.members.values()) if shape.type_name == "structure" else []

    def is_composite(self, shape: Shape) -> bool:
        meta = shape.metadata
        plain = not meta.get("exception") and not meta.get("document")
        return shape.type_name in COMPOSITES and plain

    def dependency_order(self) -> list[str]:
        """Structures, lists and maps, each after the shapes it uses (DFS from sorted names)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            seen.add(name)
            for dep in self.composite_deps(self.shapes[name]):
                if self.is_composite(dep) and dep.name not in seen:
                    visit(dep.name)
            order.append(name)

        for name, shape in self.shapes.items():
            if self.is_composite(shape) and name not in seen:
                visit(name)
        return order

    def header(self) -> str:
        source = f"botocore {botocore.__version__}"
        if (PATCHES_DIR / f"{self.service}.json").exists():
            source += f" and stratus/aws/patches/{self.service}.json"
        meta = self.model.metadata
        title = meta.get("serviceFullName", self.service)
        return (
            f"# Generated by tools/gen_api.py from {source}.\n"
            "# Do not edit: run `python -m tools.gen_api` to regenerate.\n"
            f'"""{title} ({meta.get("apiVersion", "")}): shapes, errors and operations."""\n'
        )

    def imports(self) -> str:
        typing = sorted(self.used & {"Any", "ClassVar", "Literal", "Required", "TypeAlias"})
        lines = []
        if "datetime" in self.used:
            lines += ["from datetime import datetime"]
        lines += [f"from typing import {', '.join(typing + ['TypedDict'])}", ""]
        lines += [
            "from stratus.aws.context import RequestContext",
            "from stratus.aws.errors import AwsError, NotImplementedOperation",
            "from stratus.services.base import Provider",
        ]
        return "\n".join(lines) + "\n"

    def definition(self, shape: Shape) -> str:
        """The right-hand side of a scalar, list or map shape's alias."""
        kind = shape.type_name
        if kind == "list":
            return f"list[{self.ref(shape.member)}]"
        if kind == "map":
            return f"dict[{self.ref(shape.key)}, {self.ref(shape.value)}]"
        if kind not in SCALARS:
            raise ValueError(f"{self.service}: shape {shape.name} has unknown type {kind}")
        if kind == "timestamp":
            self.used.add("datetime")
        return SCALARS[kind]

    def ref(self, shape: Shape) -> str:
        """A reference to a named shape, quoted when it is defined further down."""
        if shape.metadata.get("document"):
            self.used.add("Any")
            return "Any"  # free-form JSON
        if shape.metadata.get("exception"):
            self.used.add("Any")
            return "dict[str, Any]"  # an error shape used as a member: it is no TypedDict
        name = self.py[shape.name]
        return q(name) if self.is_composite(shape) and shape.name not in self.defined else name

    def alias(self, name: str, value: str) -> str:
        self.used.add("TypeAlias")
        line = f"{self.py[name]}: TypeAlias = {value}"
        if len(line) <= LINE or "\n" in value:
            return line
        head, _, inner = value.partition("[")  # too long: one argument per line
        return f"{self.py[name]}: TypeAlias = {head}[\n    {inner[:-1]}\n]"

    def enum_alias(self, name: str) -> str:
        self.used.add("Literal")
        values = [q(value) for value in self.enum(name)]
        one_line = self.alias(name, f"Literal[{', '.join(values)}]")
        if len(one_line) <= LINE:
            return one_line
        return self.alias(name, "Literal[\n" + "".join(f"    {v},\n" for v in values) + "]")

    def composite(self, name: str) -> str:
        shape = self.shapes[name]
        if shape.type_name == "structure":
            text = self.structure(name, shape)
        else:
            text = self.alias(name, self.definition(shape))
        self.defined.add(name)
        return text

    def structure(self, name: str, shape: Shape) -> str:
        required = set(shape.required_members)
        members = []
        for member, target in shape.members.items():
            kind = self.ref(target)
            if member in required:
                self.used.add("Required")
                kind = f"Required[{kind}]"
            members.append((member, kind))
        py = self.py[name]
        if all(m.isidentifier() and not keyword.iskeyword(m) for m, _ in members):
            body = [f"    {m}: {k}" for m, k in members] or ["    pass"]
            return f"class {py}(TypedDict, total=False):\n" + "\n".join(body)
        # A member name that is not a Python identifier needs the functional syntax.
        body = "".join(f"        {q(m)}: {k},\n" for m, k in members)
        return f"{py} = TypedDict(\n    {q(py)},\n    {{\n{body}    }},\n    total=False,\n)"

    def error(self, name: str) -> str:
        shape = self.shapes[name]
        error = shape.metadata.get("error", {})
        # botocore's Shape drops the "fault" (server error) trait: read it from the JSON.
        server = bool(self.description["shapes"][name].get("fault"))
        lines = [f"class {self.py[name]}(AwsError):", f"    code = {q(name)}"]
        query_code = error.get("code")
        if query_code and query_code != name:
            lines.append(f"    query_code = {q(query_code)}")
        status = error.get("httpStatusCode", 500 if server else 400)
        if status != 400:
            lines.append(f"    status = {status}")
        sender_fault = error.get("senderFault", not server)
        if sender_fault is not True:
            lines.append(f"    sender_fault = {bool(sender_fault)}")
        return "\n".join(lines)

    def api_class(self) -> str:
        self.used.add("ClassVar")
        cls = class_name(self.service)
        methods: dict[str, str] = {}
        for op_name in sorted(self.model.operation_names):
            method = xform_name(op_name)
            if method in PROVIDER_NAMES or method in methods.values():
                raise ValueError(f"{self.service}: operation {op_name} -> clashing method {method}")
            methods[op_name] = method
        lines = [f"class {cls}(Provider):", f"    service = {q(self.service)}", ""]
        lines.append("    OPERATIONS: ClassVar[dict[str, str]] = {")
        lines += [f"        {q(op)}: {q(meth)}," for op, meth in methods.items()]
        lines.append("    }")
        for op_name, method in methods.items():
            lines += ["", *self.method(self.model.operation_model(op_name), method)]
        return "\n".join(lines)

    def method(self, op: OperationModel, method: str) -> list[str]:
        request = self.io_type(op.input_shape)
        result = self.io_type(op.output_shape)
        head = f"    async def {method}(self, ctx: RequestContext, request: {request}) -> {result}:"
        if len(head) > LINE:
            head = (
                f"    async def {method}(\n        self, ctx: RequestContext, request: {request}\n"
                f"    ) -> {result}:"
            )
        raise_ = f"        raise NotImplementedOperation({q(self.service)}, {q(op.name)})"
        return [head, raise_]

    def io_type(self, shape: Shape | None) -> str:
        if shape is None or shape.name not in self.shapes:
            self.used.add("Any")
            return "dict[str, Any]"
        return self.py[shape.name]


def py_name(shape: str) -> str:
    """A shape's Python name: ``__string`` would be name-mangled inside a class body."""
    name = "_" + shape.lstrip("_") if shape.startswith("__") else shape
    return f"{name}_" if name in RESERVED or keyword.iskeyword(name) else name


def q(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are valid Python)."""
    return json.dumps(text)


def same(path: Path, text: str) -> bool:
    return path.exists() and path.read_text() == text


def generate(service: str) -> str:
    """The source of ``stratus/aws/api/<module>.py`` for ``service``."""
    return Generator(service, raw_model(service)).render()


def outputs() -> dict[Path, str]:
    return {API_DIR / f"{module_name(s)}.py": generate(s) for s in SERVICES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_api", description=__doc__)
    parser.add_argument("--check", action="store_true", help="list stale files; write nothing")
    args = parser.parse_args(argv)
    expected = outputs()
    stale = [path for path, text in expected.items() if not same(path, text)]
    # A module of a service no longer generated would be dead code.
    generated = set(expected) | {API_DIR / "__init__.py"}
    orphans = [path for path in sorted(API_DIR.glob("*.py")) if path not in generated]
    for path in stale:
        print(f"{path.relative_to(ROOT)} {'differs' if args.check else 'written'}")
        if not args.check:
            path.write_text(expected[path])
    for path in orphans:
        print(f"{path.relative_to(ROOT)} {'is not generated' if args.check else 'removed'}")
        if not args.check:
            path.unlink()
    stale += orphans
    if args.check and stale:
        print("run `python -m tools.gen_api` to regenerate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

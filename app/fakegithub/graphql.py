"""A small GraphQL engine for the fake GitHub: parse, validate against a schema excerpt, execute.

It knows the five mutations of reference/graphql-subset.graphql (input types and enums are
read from that file when it is available, else from the same definitions built in here) and a few
read fields (`node`, `nodes`, `repository { issue / pullRequest / issueOrPullRequest }`, `rateLimit`).
Errors follow GitHub's shapes: validation problems give `{"errors": [...]}` and execute nothing;
resolution problems give `{"data": {field: null}, "errors": [{"type": "NOT_FOUND", ...}]}`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ----------------------------------------------------------------------------- schema excerpt
BUILTIN_ENUMS = {
    "LockReason": ["OFF_TOPIC", "RESOLVED", "SPAM", "TOO_HEATED"],
    "ReportedContentClassifiers": ["ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM"],
}
BUILTIN_INPUTS = {
    "AddCommentInput": {"body": "String!", "clientMutationId": "String", "subjectId": "ID!"},
    "LockLockableInput": {"clientMutationId": "String", "lockReason": "LockReason", "lockableId": "ID!"},
    "MinimizeCommentInput": {"classifier": "ReportedContentClassifiers!", "clientMutationId": "String",
                             "subjectId": "ID!"},
    "UnlockLockableInput": {"clientMutationId": "String", "lockableId": "ID!"},
    "UnminimizeCommentInput": {"clientMutationId": "String", "subjectId": "ID!"},
}
MUTATIONS = {
    "addComment": ("AddCommentPayload", {"input": "AddCommentInput!"}),
    "lockLockable": ("LockLockablePayload", {"input": "LockLockableInput!"}),
    "minimizeComment": ("MinimizeCommentPayload", {"input": "MinimizeCommentInput!"}),
    "unlockLockable": ("UnlockLockablePayload", {"input": "UnlockLockableInput!"}),
    "unminimizeComment": ("UnminimizeCommentPayload", {"input": "UnminimizeCommentInput!"}),
}
_LOCKABLE = {
    "id": "ID!", "databaseId": "Int", "number": "Int!", "title": "String!", "body": "String!", "url": "URI!",
    "locked": "Boolean!", "activeLockReason": "LockReason", "closed": "Boolean!", "author": "Actor",
    "createdAt": "DateTime!", "updatedAt": "DateTime!", "repository": "Repository!", "viewerCanUpdate": "Boolean!",
}
_COMMENT = {
    "id": "ID!", "databaseId": "Int", "body": "String!", "url": "URI!", "isMinimized": "Boolean!",
    "minimizedReason": "String", "viewerCanMinimize": "Boolean!", "author": "Actor", "createdAt": "DateTime!",
    "updatedAt": "DateTime!", "repository": "Repository!", "viewerCanUpdate": "Boolean!", "viewerCanDelete": "Boolean!",
}
_ACTOR = {"id": "ID!", "login": "String!", "url": "URI!", "avatarUrl": "URI!", "databaseId": "Int"}
OBJECTS: dict[str, dict[str, Any]] = {
    "Query": {
        "node": ("Node", {"id": "ID!"}), "nodes": ("[Node]!", {"ids": "[ID!]!"}),
        "repository": ("Repository", {"owner": "String!", "name": "String!", "followRenames": "Boolean"}),
        "rateLimit": ("RateLimit", {"dryRun": "Boolean"}),
    },
    "Mutation": dict(MUTATIONS),
    "Issue": {**_LOCKABLE, "state": "IssueState!", "stateReason": "IssueStateReason"},
    "PullRequest": {**_LOCKABLE, "state": "PullRequestState!", "isDraft": "Boolean!", "merged": "Boolean!"},
    "IssueComment": {**_COMMENT, "issue": "Issue!"},
    "PullRequestReviewComment": {**_COMMENT, "path": "String!", "pullRequest": "PullRequest!"},
    "User": dict(_ACTOR), "Bot": dict(_ACTOR), "Organization": dict(_ACTOR),
    "Repository": {
        "id": "ID!", "databaseId": "Int", "name": "String!", "nameWithOwner": "String!", "isPrivate": "Boolean!",
        "visibility": "RepositoryVisibility!", "url": "URI!", "issue": ("Issue", {"number": "Int!"}),
        "pullRequest": ("PullRequest", {"number": "Int!"}),
        "issueOrPullRequest": ("IssueOrPullRequest", {"number": "Int!"}),
    },
    "RateLimit": {"cost": "Int!", "limit": "Int!", "nodeCount": "Int!", "remaining": "Int!", "resetAt": "DateTime!",
                  "used": "Int!"},
    "AddCommentPayload": {"clientMutationId": "String", "commentEdge": "IssueCommentEdge", "subject": "Node",
                          "timelineEdge": "IssueTimelineItemEdge"},
    "IssueCommentEdge": {"cursor": "String!", "node": "IssueComment"},
    "IssueTimelineItemEdge": {"cursor": "String!", "node": "IssueTimelineItem"},
    "LockLockablePayload": {"actor": "Actor", "clientMutationId": "String", "lockedRecord": "Lockable"},
    "UnlockLockablePayload": {"actor": "Actor", "clientMutationId": "String", "unlockedRecord": "Lockable"},
    "MinimizeCommentPayload": {"clientMutationId": "String", "minimizedComment": "Minimizable"},
    "UnminimizeCommentPayload": {"clientMutationId": "String", "unminimizedComment": "Minimizable"},
}
INTERFACES = {
    "Node": {"id": "ID!"},
    "Lockable": {"activeLockReason": "LockReason", "locked": "Boolean!"},
    "Minimizable": {"isMinimized": "Boolean!", "minimizedReason": "String", "viewerCanMinimize": "Boolean!"},
    "Actor": {"login": "String!", "url": "URI!", "avatarUrl": "URI!"},
    "Comment": {"author": "Actor", "body": "String!", "createdAt": "DateTime!", "id": "ID!", "updatedAt": "DateTime!"},
    "UniformResourceLocatable": {"url": "URI!"},
}
IMPLEMENTS = {
    "Issue": ("Node", "Lockable", "Comment", "UniformResourceLocatable"),
    "PullRequest": ("Node", "Lockable", "Comment", "UniformResourceLocatable"),
    "IssueComment": ("Node", "Minimizable", "Comment", "UniformResourceLocatable"),
    "PullRequestReviewComment": ("Node", "Minimizable", "Comment", "UniformResourceLocatable"),
    "User": ("Node", "Actor", "UniformResourceLocatable"), "Bot": ("Node", "Actor", "UniformResourceLocatable"),
    "Organization": ("Node", "Actor", "UniformResourceLocatable"),
    "Repository": ("Node", "UniformResourceLocatable"),
}
UNIONS = {"IssueOrPullRequest": ("Issue", "PullRequest"), "IssueTimelineItem": ("IssueComment",)}
EXTRA_ENUMS = {
    "IssueState": ["OPEN", "CLOSED"], "PullRequestState": ["OPEN", "CLOSED", "MERGED"],
    "IssueStateReason": ["COMPLETED", "DUPLICATE", "NOT_PLANNED", "REOPENED"],
    "RepositoryVisibility": ["INTERNAL", "PRIVATE", "PUBLIC"],
}
SCALARS = {"String", "ID", "Int", "Float", "Boolean", "DateTime", "URI", "HTML"}


def load_sdl(path: Path | None) -> tuple[dict, dict]:
    """(enums, inputs) from the SDL excerpt, falling back to the built-in copies."""
    enums = {k: list(v) for k, v in BUILTIN_ENUMS.items()}
    inputs = {k: dict(v) for k, v in BUILTIN_INPUTS.items()}
    if path is None or not Path(path).is_file():
        return enums, inputs
    text = Path(path).read_text(encoding="utf-8")
    text = re.sub(r'"""(?:.|\n)*?"""', "", text)
    text = re.sub(r"#[^\n]*", "", text)
    for kind, name, body in re.findall(r"\b(enum|input)\s+(\w+)\s*\{([^}]*)\}", text):
        if kind == "enum":
            enums[name] = re.findall(r"\b([A-Z_][A-Z0-9_]*)\b", body)
        else:
            inputs[name] = dict(re.findall(r"(?m)^\s*(\w+)\s*:\s*([\w!\[\]]+)\s*$", body))
    return enums, inputs


# ----------------------------------------------------------------------------- parser
class GraphQLSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


@dataclass
class Tok:
    kind: str  # punct | name | int | float | string | eof
    value: Any
    line: int
    col: int


_TOKEN_RE = re.compile(r'''
    (?P<ws>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""(?:\\"""|.|\n)*?""")
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<float>-?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+))
  | (?P<int>-?\d+)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<punct>\.\.\.|[!$&():=@\[\]{|}])
''', re.VERBOSE)


def _tokenize(source: str) -> list[Tok]:
    toks, pos, line, line_start = [], 0, 1, 0
    while pos < len(source):
        m = _TOKEN_RE.match(source, pos)
        if not m:
            raise GraphQLSyntaxError(f"Parse error on \"{source[pos]}\" ({source[pos]!r})", line, pos - line_start + 1)
        kind, text = m.lastgroup, m.group()
        col = pos - line_start + 1
        if kind == "string":
            toks.append(Tok("string", json.loads(text), line, col))
        elif kind == "block":
            toks.append(Tok("string", text[3:-3].replace('\\"""', '"""'), line, col))
        elif kind == "int":
            toks.append(Tok("int", int(text), line, col))
        elif kind == "float":
            toks.append(Tok("float", float(text), line, col))
        elif kind != "ws":
            toks.append(Tok(kind, text, line, col))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rfind("\n") + 1
        pos = m.end()
    toks.append(Tok("eof", None, line, pos - line_start + 1))
    return toks


@dataclass
class Value:
    kind: str  # var int float string boolean null enum list object
    value: Any
    line: int = 0
    col: int = 0


@dataclass
class FieldNode:
    alias: str | None
    name: str
    args: dict[str, Value]
    selections: list | None
    line: int
    col: int

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list
    line: int
    col: int


@dataclass
class FragmentSpread:
    name: str
    line: int
    col: int


@dataclass
class Operation:
    type: str  # query | mutation | subscription
    name: str | None
    variables: dict[str, tuple[str, Value | None]]  # name -> (type, default)
    selections: list
    line: int
    col: int


@dataclass
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, tuple[str, list]] = field(default_factory=dict)


class _Parser:
    def __init__(self, source: str):
        self.toks = _tokenize(source)
        self.i = 0

    def _match(self, t: Tok, value, kind) -> bool:
        if t.kind == "eof":
            return False
        if value is not None and (t.value != value or t.kind not in ("punct", "name")):
            return False
        return kind is None or t.kind == kind

    def peek(self, value=None, kind=None) -> bool:
        return self._match(self.toks[self.i], value, kind)

    def take(self, value=None, kind=None) -> Tok:
        t = self.toks[self.i]
        if not self._match(t, value, kind):
            shown = "end of file" if t.kind == "eof" else f'"{t.value}"'
            expected = f' (expected "{value}")' if value else ""
            raise GraphQLSyntaxError(f"Parse error on {shown}{expected}", t.line, t.col)
        self.i += 1
        return t

    def document(self) -> Document:
        doc = Document()
        if not self.peek():
            raise GraphQLSyntaxError("Unexpected end of document", 1, 1)
        while self.peek():
            t = self.toks[self.i]
            if t.value == "{":
                doc.operations.append(Operation("query", None, {}, self.selection_set(), t.line, t.col))
            elif t.kind == "name" and t.value in ("query", "mutation", "subscription"):
                self.i += 1
                name = self.take(kind="name").value if self.peek(kind="name") else None
                variables = self.variable_definitions() if self.peek("(") else {}
                self.directives()
                doc.operations.append(Operation(t.value, name, variables, self.selection_set(), t.line, t.col))
            elif t.kind == "name" and t.value == "fragment":
                self.i += 1
                name = self.take(kind="name").value
                self.take("on")
                cond = self.take(kind="name").value
                self.directives()
                doc.fragments[name] = (cond, self.selection_set())
            else:
                raise GraphQLSyntaxError(f'Parse error on "{t.value}"', t.line, t.col)
        return doc

    def variable_definitions(self) -> dict:
        out = {}
        self.take("(")
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name").value
            self.take(":")
            type_ = self.type_ref()
            default = None
            if self.peek("="):
                self.take("=")
                default = self.value(const=True)
            self.directives()
            out[name] = (type_, default)
        self.take(")")
        return out

    def type_ref(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_ref()
            self.take("]")
            t = f"[{inner}]"
        else:
            t = self.take(kind="name").value
        if self.peek("!"):
            self.take("!")
            t += "!"
        return t

    def directives(self) -> None:
        while self.peek("@"):
            self.take("@")
            self.take(kind="name")
            if self.peek("("):
                self.arguments()

    def selection_set(self) -> list:
        self.take("{")
        out = []
        while not self.peek("}"):
            t = self.toks[self.i]
            if t.kind == "eof":
                raise GraphQLSyntaxError("Parse error on end of file (expected \"}\")", t.line, t.col)
            if self.peek("..."):
                self.take("...")
                if self.peek("on"):
                    self.take("on")
                    cond = self.take(kind="name").value
                    self.directives()
                    out.append(InlineFragment(cond, self.selection_set(), t.line, t.col))
                elif self.peek("{") or self.peek("@"):
                    self.directives()
                    out.append(InlineFragment(None, self.selection_set(), t.line, t.col))
                else:
                    out.append(FragmentSpread(self.take(kind="name").value, t.line, t.col))
                    self.directives()
                continue
            name = self.take(kind="name").value
            alias = None
            if self.peek(":"):
                self.take(":")
                alias, name = name, self.take(kind="name").value
            args = self.arguments() if self.peek("(") else {}
            self.directives()
            subs = self.selection_set() if self.peek("{") else None
            out.append(FieldNode(alias, name, args, subs, t.line, t.col))
        self.take("}")
        if not out:
            t = self.toks[self.i - 1]
            raise GraphQLSyntaxError('Parse error on "}" (expected a selection)', t.line, t.col)
        return out

    def arguments(self) -> dict:
        self.take("(")
        out = {}
        while not self.peek(")"):
            name = self.take(kind="name").value
            self.take(":")
            out[name] = self.value()
        self.take(")")
        return out

    def value(self, const: bool = False) -> Value:
        t = self.toks[self.i]
        if t.value == "$" and t.kind == "punct" and not const:
            self.i += 1
            return Value("var", self.take(kind="name").value, t.line, t.col)
        if t.kind in ("int", "float", "string"):
            self.i += 1
            return Value(t.kind, t.value, t.line, t.col)
        if t.kind == "name":
            self.i += 1
            if t.value in ("true", "false"):
                return Value("boolean", t.value == "true", t.line, t.col)
            if t.value == "null":
                return Value("null", None, t.line, t.col)
            return Value("enum", t.value, t.line, t.col)
        if t.value == "[":
            self.i += 1
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return Value("list", items, t.line, t.col)
        if t.value == "{":
            self.i += 1
            fields = {}
            while not self.peek("}"):
                name = self.take(kind="name").value
                self.take(":")
                fields[name] = self.value(const)
            self.take("}")
            return Value("object", fields, t.line, t.col)
        shown = "end of file" if t.kind == "eof" else f'"{t.value}"'
        raise GraphQLSyntaxError(f"Parse error on {shown}", t.line, t.col)


def parse(source: str) -> Document:
    return _Parser(source).document()


def literal_text(v: Value) -> str:
    """GraphQL source text of a literal, as graphql-ruby prints it in messages."""
    if v.kind == "var":
        return f"${v.value}"
    if v.kind == "string":
        return json.dumps(v.value)
    if v.kind == "boolean":
        return "true" if v.value else "false"
    if v.kind == "null":
        return "null"
    if v.kind == "list":
        return "[" + ", ".join(literal_text(x) for x in v.value) + "]"
    if v.kind == "object":
        return "{" + ", ".join(f"{k}: {literal_text(x)}" for k, x in v.value.items()) + "}"
    return str(v.value)


# ----------------------------------------------------------------------------- errors
class ResolveError(Exception):
    """Raised by a resolver: becomes {"type": type, "message": message} with data[field] = null."""

    def __init__(self, type_: str, message: str):
        super().__init__(message)
        self.type = type_


def _err(message: str, node=None, path=None, code=None, **ext) -> dict:
    e: dict[str, Any] = {"message": message}
    if node is not None:
        e["locations"] = [{"line": node.line, "column": node.col}]
    if path:
        e["path"] = list(path)
    if code:
        e["extensions"] = {"code": code, **ext}
    return e


# ----------------------------------------------------------------------------- engine
def _named(type_: str) -> str:
    return type_.replace("[", "").replace("]", "").replace("!", "")


class Engine:
    """Validates and executes one request against `root` resolvers.

    root(operation_type, field_name, args) -> object dict (with "__typename"; values may be callables taking
    the field's arguments as keyword arguments) or raises ResolveError.
    """

    def __init__(self, enums: dict, inputs: dict):
        self.enums = {**EXTRA_ENUMS, **enums}
        self.inputs = inputs

    # -- type helpers
    def fields_of(self, type_name: str) -> dict | None:
        if type_name in OBJECTS:
            return OBJECTS[type_name]
        if type_name in INTERFACES:
            return INTERFACES[type_name]
        if type_name in UNIONS:
            return {}
        return None

    @staticmethod
    def field_def(fields: dict, name: str) -> tuple[str, dict]:
        spec = fields[name]
        return spec if isinstance(spec, tuple) else (spec, {})

    def is_composite(self, type_name: str) -> bool:
        return type_name in OBJECTS or type_name in INTERFACES or type_name in UNIONS

    def is_input(self, type_name: str) -> bool:
        return type_name in SCALARS or type_name in self.enums or type_name in self.inputs

    @staticmethod
    def applies(cond: str | None, typename: str) -> bool:
        return cond is None or cond == typename or cond in IMPLEMENTS.get(typename, ()) or \
            typename in UNIONS.get(cond, ())

    # -- request entry point
    def run(self, query: Any, variables: Any, operation_name: str | None,
            root: Callable[[str, str, dict], Any]) -> tuple[dict, dict]:
        """-> (response JSON, info {"operation", "fields", "invalid": bool})"""
        info: dict[str, Any] = {"operation": None, "fields": [], "invalid": True}
        if not isinstance(query, str) or not query.strip():
            return {"errors": [_err("A query attribute must be specified and must be a string.")]}, info
        if variables is None:
            variables = {}
        if isinstance(variables, str):
            try:
                variables = json.loads(variables) if variables.strip() else {}
            except ValueError:
                variables = None
        if not isinstance(variables, dict):
            return {"errors": [_err("Variables are invalid JSON.")]}, info
        try:
            doc = parse(query)
        except GraphQLSyntaxError as exc:
            return {"errors": [{"message": str(exc), "locations": [{"line": exc.line, "column": exc.column}]}]}, info
        ops = doc.operations
        if operation_name:
            ops = [o for o in ops if o.name == operation_name]
            if not ops:
                return {"errors": [_err(f'No operation named "{operation_name}"')]}, info
        if len(ops) != 1:
            return {"errors": [_err("An operation name is required" if ops else "No operations in query")]}, info
        op = ops[0]
        info["operation"] = op.type
        info["fields"] = [s.name for s in op.selections if isinstance(s, FieldNode)]
        root_type = {"query": "Query", "mutation": "Mutation"}.get(op.type)
        if root_type is None:
            return {"errors": [_err(f"Schema is not configured for {op.type}s", op)]}, info
        errors: list[dict] = []
        self._check_var_defs(op, errors)
        if not errors:
            self._validate_selections(op.selections, root_type, [op.type if op.type != "query" else "query"],
                                      op, doc, errors, set())
        if errors:
            return {"errors": errors}, info
        values, errors = self._coerce_variables(op, variables)
        if errors:
            return {"errors": errors}, info
        info["invalid"] = False
        data, errors = {}, []
        for sel in self._collect(op.selections, root_type, doc):
            args = self._arg_values(sel.args, values)
            try:
                obj = root(op.type, sel.name, args)
            except ResolveError as exc:
                data[sel.key] = None
                errors.append({"type": exc.type, "path": [sel.key],
                               "locations": [{"line": sel.line, "column": sel.col}], "message": str(exc)})
                continue
            ftype = self.field_def(OBJECTS[root_type], sel.name)[0]
            data[sel.key] = self._complete(obj, ftype, sel, values, doc, [sel.key], errors)
        response: dict[str, Any] = {"data": data}
        if errors:
            response["errors"] = errors
        return response, info

    # -- validation
    def _check_var_defs(self, op: Operation, errors: list) -> None:
        for name, (type_, default) in op.variables.items():
            if not self.is_input(_named(type_)):
                errors.append(_err(f"{_named(type_)} isn't a defined input type (on ${name})", op,
                                   [op.type], "variableRequiresValidType", typeName=_named(type_), variableName=name))
            elif default is not None:
                self._check_literal(default, type_, f"Default value for ${name}", op, errors, {})

    def _validate_selections(self, selections, parent: str, path, op, doc, errors, seen_fragments) -> None:
        fields = self.fields_of(parent) or {}
        for sel in selections:
            if isinstance(sel, InlineFragment):
                cond = sel.type_condition or parent
                if self.fields_of(cond) is None:
                    errors.append(_err(f"No such type {cond}, so it can't be a fragment condition", sel, path,
                                       "undefinedType", typeName=cond))
                    continue
                self._validate_selections(sel.selections, cond, path + [f"... on {cond}"], op, doc, errors,
                                          seen_fragments)
                continue
            if isinstance(sel, FragmentSpread):
                if sel.name not in doc.fragments:
                    errors.append(_err(f"Fragment {sel.name} was used, but not defined", sel, path,
                                       "useAndDefineFragment", fragmentName=sel.name))
                    continue
                if sel.name in seen_fragments:
                    continue
                cond, subs = doc.fragments[sel.name]
                if self.fields_of(cond) is None:
                    errors.append(_err(f"No such type {cond}, so it can't be a fragment condition", sel, path,
                                       "undefinedType", typeName=cond))
                    continue
                self._validate_selections(subs, cond, path + [f"... {sel.name}"], op, doc, errors,
                                          seen_fragments | {sel.name})
                continue
            here = path + [sel.key]
            if sel.name == "__typename":
                if sel.selections:
                    errors.append(_err("Selections can't be made on scalars (field '__typename' returns String "
                                       "but has selections [...])", sel, here, "selectionMismatch"))
                continue
            if sel.name not in fields:
                errors.append(_err(f"Field '{sel.name}' doesn't exist on type '{parent}'", sel, here, "undefinedField",
                                   typeName=parent, fieldName=sel.name))
                continue
            ftype, arg_defs = self.field_def(fields, sel.name)
            for arg_name, arg_value in sel.args.items():
                if arg_name not in arg_defs:
                    errors.append(_err(f"Field '{sel.name}' doesn't accept argument '{arg_name}'", arg_value,
                                       here + [arg_name], "argumentNotAccepted", name=sel.name, typeName="Field",
                                       argumentName=arg_name))
                    continue
                self._check_literal(arg_value, arg_defs[arg_name], f"Argument '{arg_name}' on Field '{sel.name}'",
                                    sel, errors, op.variables, here + [arg_name])
            missing = [a for a, t in arg_defs.items() if t.endswith("!") and a not in sel.args]
            if missing:
                errors.append(_err(f"Field '{sel.name}' is missing required arguments: {', '.join(missing)}", sel,
                                   here, "missingRequiredArguments", className="Field", name=sel.name,
                                   arguments=", ".join(missing)))
            named = _named(ftype)
            if self.is_composite(named):
                if not sel.selections:
                    errors.append(_err(f"Field must have selections (field '{sel.name}' returns {named} but has no "
                                       f"selections. Did you mean '{sel.name} {{ ... }}'?)", sel, here,
                                       "selectionMismatch", nodeName=f"field '{sel.name}'", typeName=named))
                else:
                    self._validate_selections(sel.selections, named, here, op, doc, errors, seen_fragments)
            elif sel.selections:
                errors.append(_err(f"Selections can't be made on {'enums' if named in self.enums else 'scalars'} "
                                   f"(field '{sel.name}' returns {named} but has selections "
                                   f"[{', '.join(s.name for s in sel.selections if isinstance(s, FieldNode))}])",
                                   sel, here, "selectionMismatch", nodeName=f"field '{sel.name}'", typeName=named))

    def _check_literal(self, v: Value, type_: str, where: str, node, errors: list, var_defs: dict, path=None) -> bool:
        """Append an error when literal `v` can't be a `type_`; variables are checked against their declaration."""
        def bad(detail: str = "") -> bool:
            errors.append(_err(f"{where} has an invalid value ({literal_text(v)}). Expected type '{type_}'.{detail}",
                               v if v.line else node, path, "argumentLiteralsIncompatible"))
            return False

        if v.kind == "var":
            if v.value not in var_defs:
                errors.append(_err(f"Variable ${v.value} is used by anonymous query but not declared", v, path,
                                   "variableNotDefined", variableName=v.value))
                return False
            declared, default = var_defs[v.value]
            if _named(declared) != _named(type_):
                errors.append(_err(f"Type mismatch on variable ${v.value} and argument ({declared} / {type_})", v,
                                   path, "variableMismatch", variableName=v.value, typeName=declared))
                return False
            if type_.endswith("!") and not declared.endswith("!") and default is None:
                errors.append(_err(f"Nullability mismatch on variable ${v.value} and argument ({declared} / {type_})",
                                   v, path, "variableMismatch", variableName=v.value, typeName=declared))
                return False
            return True
        if v.kind == "null":
            return bad() if type_.endswith("!") else True
        base = type_[:-1] if type_.endswith("!") else type_
        if base.startswith("["):
            inner = base[1:-1]
            items = v.value if v.kind == "list" else [v]
            return all(self._check_literal(x, inner, where, node, errors, var_defs, path) for x in items)
        if base in self.enums:
            return True if v.kind == "enum" and v.value in self.enums[base] else bad()
        if base in self.inputs:
            if v.kind != "object":
                return bad()
            ok = True
            spec = self.inputs[base]
            for k, x in v.value.items():
                if k not in spec:
                    errors.append(_err(f"InputObject '{base}' doesn't accept argument '{k}'", x, path,
                                       "argumentNotAccepted", name=base, typeName="InputObject", argumentName=k))
                    ok = False
                else:
                    ok = self._check_literal(x, spec[k], f"Argument '{k}' on InputObject '{base}'", node, errors,
                                             var_defs, (path or []) + [k]) and ok
            for k, t in spec.items():
                if t.endswith("!") and k not in v.value:
                    errors.append(_err(f"Argument '{k}' on InputObject '{base}' is required. Expected type {t}", v,
                                       path, "missingRequiredInputObjectAttribute", argumentName=k, argumentType=t,
                                       inputObjectType=base))
                    ok = False
            return ok
        ok = {"String": ("string",), "ID": ("string", "int"), "Int": ("int",), "Float": ("int", "float"),
              "Boolean": ("boolean",)}.get(base, ("string",))
        return True if v.kind in ok else bad()

    def _coerce_variables(self, op: Operation, provided: dict) -> tuple[dict, list]:
        values, errors = {}, []
        for name, (type_, default) in op.variables.items():
            if name in provided:
                value = provided[name]
            elif default is not None:
                value = self._literal_value(default, {})
            else:
                value = None
            problem = self._check_value(value, type_)
            if problem:
                errors.append(_err(f"Variable ${name} of type {type_} was provided invalid value"
                                   + (f" for {problem[0]}" if problem[0] else "") + f" ({problem[1]})", op,
                                   None, "variableMismatch", value=value, problems=[{"path": problem[0].split(".")
                                                                                     if problem[0] else [],
                                                                                     "explanation": problem[1]}]))
            values[name] = value
        return values, errors

    def _check_value(self, value: Any, type_: str, where: str = "") -> tuple[str, str] | None:
        """JSON variable value against a type -> (path, explanation) or None."""
        if value is None:
            return (where, "Expected value to not be null") if type_.endswith("!") else None
        base = type_[:-1] if type_.endswith("!") else type_
        if base.startswith("["):
            items = value if isinstance(value, list) else [value]
            for i, x in enumerate(items):
                p = self._check_value(x, base[1:-1], f"{where}.{i}" if where else str(i))
                if p:
                    return p
            return None
        if base in self.enums:
            if not isinstance(value, str) or value not in self.enums[base]:
                return where, f"Expected {json.dumps(value)} to be one of: {', '.join(self.enums[base])}"
            return None
        if base in self.inputs:
            if not isinstance(value, dict):
                return where, f"Expected {json.dumps(value)} to be a key-value object."
            spec = self.inputs[base]
            for k in value:
                if k not in spec:
                    return (f"{where}.{k}" if where else k), "Field is not defined on " + base
            for k, t in spec.items():
                p = self._check_value(value.get(k), t, f"{where}.{k}" if where else k)
                if p:
                    return p
            return None
        checks = {"String": lambda x: isinstance(x, str), "ID": lambda x: isinstance(x, (str, int)) and
                  not isinstance(x, bool), "Int": lambda x: isinstance(x, int) and not isinstance(x, bool),
                  "Float": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
                  "Boolean": lambda x: isinstance(x, bool)}
        if not checks.get(base, lambda x: isinstance(x, str))(value):
            return where, f"Could not coerce value {json.dumps(value)} to {base}"
        return None

    # -- execution
    def _literal_value(self, v: Value, variables: dict) -> Any:
        if v.kind == "var":
            return variables.get(v.value)
        if v.kind == "list":
            return [self._literal_value(x, variables) for x in v.value]
        if v.kind == "object":
            return {k: self._literal_value(x, variables) for k, x in v.value.items()}
        return v.value

    def _arg_values(self, args: dict[str, Value], variables: dict) -> dict:
        return {k: self._literal_value(v, variables) for k, v in args.items()}

    def _collect(self, selections, typename: str, doc: Document) -> list[FieldNode]:
        out: list[FieldNode] = []
        for sel in selections:
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragment):
                if self.applies(sel.type_condition, typename):
                    out.extend(self._collect(sel.selections, typename, doc))
            else:
                cond, subs = doc.fragments[sel.name]
                if self.applies(cond, typename):
                    out.extend(self._collect(subs, typename, doc))
        return out

    def _complete(self, value: Any, ftype: str, sel: FieldNode, variables, doc, path, errors) -> Any:
        if value is None:
            return None
        named = _named(ftype)
        if ftype.rstrip("!").startswith("["):
            inner = ftype.rstrip("!")[1:-1]
            return [self._complete(v, inner, sel, variables, doc, path + [i], errors) for i, v in enumerate(value)]
        if not self.is_composite(named):
            return value
        typename = value["__typename"]
        out: dict[str, Any] = {}
        merged: dict[str, list[FieldNode]] = {}
        for f in self._collect(sel.selections, typename, doc):
            merged.setdefault(f.key, []).append(f)
        for key, nodes in merged.items():
            f = nodes[0]
            if len(nodes) > 1 and any(n.selections for n in nodes):
                f = FieldNode(f.alias, f.name, f.args, [s for n in nodes for s in (n.selections or [])], f.line, f.col)
            if f.name == "__typename":
                out[key] = typename
                continue
            fields = OBJECTS.get(typename, {})
            child_type = self.field_def(fields, f.name)[0] if f.name in fields else "String"
            raw = value.get(f.name)
            try:
                if callable(raw):
                    raw = raw(**self._arg_values(f.args, variables))
            except ResolveError as exc:
                errors.append({"type": exc.type, "path": path + [key],
                               "locations": [{"line": f.line, "column": f.col}], "message": str(exc)})
                raw = None
            out[key] = self._complete(raw, child_type, f, variables, doc, path + [key], errors)
        return out

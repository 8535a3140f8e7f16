"""Words a person reads that a Python module of the web layer writes, for the check that each is marked for
translation (tests/unit/test_templates_translated.py, issue 15): a refusal's or an error's message, a page message, a
form field's label and help, a plot's title, axis labels and legend.

Read from the module's syntax tree, not by running it: a message is *unmarked* when it is written as a string
literal (or an f-string, or literals joined with ``+`` or ``%``) where the person reads it, instead of passed through
``gettext`` (``_``, ``gettext_lazy``, ``ngettext``, ...). Names, codes and units are not words: a literal with no
letters, or only of the units and abbreviations of ``template_text.ALLOWED``, is not flagged.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from template_text import ALLOWED

#: Calls whose first argument (or ``message=``) is a message a person reads.
MESSAGE_CALLS = {
    "Refused", "Refusal", "DecisionRefused", "BadEntry", "Http404", "PermissionDenied", "ValidationError",
    "HttpError",
}
#: Calls whose second argument is the message: ``messages.error(request, ...)``, ``form.add_error(field, ...)``,
#: ``InputError(field, ...)``.
SECOND_ARGUMENT_CALLS = {"error", "success", "warning", "info", "add_error", "InputError"}
#: Receivers of ``error``/``info``/... that are loggers, not messages to a person.
LOGGERS = re.compile(r"log|logger|LOG")
#: Keywords whose value a person reads, in any call (form fields, plots).
WORD_KEYWORDS = {"label", "help_text", "message", "title", "xlabel", "ylabel", "verbose_name", "empty_label"}
#: Methods of a matplotlib figure or axes whose first argument (``text``: third) a person reads.
PLOT_CALLS = {"set_title": 0, "set_xlabel": 0, "set_ylabel": 0, "suptitle": 0, "title": 0, "xlabel": 0,
              "ylabel": 0, "text": 2, "annotate": 0, "figtext": 2, "inline_svg": 1}
#: Keys of a page's context (a dict given to a template) whose value a person reads.
CONTEXT_KEYS = {"title", "explain", "button", "message", "heading", "label", "help", "what", "note"}
#: Class attributes that are a message (an error class's default).
MESSAGE_ATTRIBUTES = {"default_message"}
#: Words that are names, not interface text: the API's own name in its OpenAPI document.
NAMES = {"mibg API", "Ci/mmol", "mCi/mg"}  # and units of specific activity
MARKERS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "gettext_noop",
           "label_noop", "format_lazy"}

_LETTERS = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Unmarked:
    line: int
    text: str


def _words(text: str) -> bool:
    """True when ``text`` holds a word a person reads (not only units, symbols, names of fields)."""
    found = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+/^.\-]*", text) if w.strip(".") not in ALLOWED]
    return (text not in NAMES and any(_LETTERS.search(w) for w in found)
            and not re.fullmatch(r"[a-z0-9_.]+", text.strip()))


def _literal(node: ast.AST | None) -> str | None:
    """The text of ``node`` when it is words written as a literal (not passed through gettext), else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _words(node.value) else None
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return text if _words(text) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _literal(node.left) or (_literal(node.right) if isinstance(node.op, ast.Add) else None)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) or _literal(node.orelse)
    if isinstance(node, ast.Dict):
        return next((t for t in map(_literal, node.values) if t), None)
    return None


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _receiver(func: ast.AST) -> str:
    return ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""


def _read_arguments(call: ast.Call) -> list[ast.AST]:
    """The arguments of ``call`` that a person reads."""
    name = _name(call.func)
    read: list[ast.AST] = []
    if name in MESSAGE_CALLS and call.args:
        read.append(call.args[0])
    if name in SECOND_ARGUMENT_CALLS and len(call.args) > 1 and not LOGGERS.search(_receiver(call.func)):
        read.append(call.args[1])
    if name in PLOT_CALLS and len(call.args) > PLOT_CALLS[name]:
        read.append(call.args[PLOT_CALLS[name]])
    if name == "legend" and call.args and isinstance(call.args[0], (ast.List, ast.Tuple)):
        read.extend(call.args[0].elts)
    for keyword in call.keywords:
        if keyword.arg in WORD_KEYWORDS or (keyword.arg == "message" and name in MESSAGE_CALLS):
            read.append(keyword.value)
        if keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
            read.extend(keyword.value.values)
        if keyword.arg == "choices" and isinstance(keyword.value, (ast.List, ast.Tuple)):  # (value, label) pairs
            read.extend(e.elts[1] for e in keyword.value.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2)
    return read


def unmarked_messages(source: str) -> list[Unmarked]:
    """Each message of the module ``source`` that a person reads and that is not marked for translation."""
    found: list[Unmarked] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) not in MARKERS:
            for argument in _read_arguments(node):
                if (text := _literal(argument)) is not None:
                    found.append(Unmarked(argument.lineno, text))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (isinstance(key, ast.Constant) and key.value in CONTEXT_KEYS
                        and (text := _literal(value)) is not None):
                    found.append(Unmarked(value.lineno, text))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named = any(isinstance(t, ast.Name) and t.id in MESSAGE_ATTRIBUTES for t in targets)
            if named and (text := _literal(node.value)) is not None:
                found.append(Unmarked(node.lineno, text))
    return sorted(found, key=lambda u: u.line)


#: The marking functions that translate at once (in the language active when they run).
EAGER = {"gettext", "ngettext", "pgettext"}


def eager_at_import(source: str) -> list[Unmarked]:
    """Each call that translates at once (``gettext``, or ``_`` imported as it) made when the module is imported
    (at module or class level, outside any function): it would be translated once, in the language active at
    start-up, and never again. Such text is marked with ``gettext_lazy``."""
    tree = ast.parse(source)
    eager = set(EAGER)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            eager |= {alias.asname for alias in node.names if alias.name in EAGER and alias.asname}
    found: list[Unmarked] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Call) and _name(node.func) in eager and isinstance(node.func, ast.Name):
            found.append(Unmarked(node.lineno, ast.unparse(node)[:80]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return sorted(found, key=lambda u: u.line)


def marked_messages(source: str) -> list[Unmarked]:
    """Each literal message the module ``source`` marks for translation (the msgids a catalogue must hold): the
    first argument of ``_``/``gettext``/``gettext_lazy``/``pgettext`` (its second), both forms of ``ngettext``."""
    found: list[Unmarked] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _name(node.func) in MARKERS - {"format_lazy", "label_noop"}):
            continue
        name = _name(node.func)
        arguments = node.args[1:2] if name.startswith("pgettext") else node.args[:2] if "ngettext" in name \
            else node.args[:1]
        found += [Unmarked(a.lineno, a.value) for a in arguments if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return found

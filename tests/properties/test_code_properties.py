"""CodeCompressor invariants on generated Python modules: output parses and keeps every name."""

from __future__ import annotations

import ast
import keyword
import warnings

from hypothesis import given
from hypothesis import strategies as st

from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor
from headroom.config import CompressConfig
from headroom.handles import find_markers, handle_for
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter

COMPRESSOR = CodeCompressor(min_chars=0)
COUNT = get_counter()

names = st.from_regex(r"[a-z_][a-zA-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and not keyword.issoftkeyword(n)
)
# Docstring first lines that are awkward to re-quote: quotes, backslashes, braces.
doc_lines = st.text(st.sampled_from("ab \"'\\{}#:"), max_size=12)
statements = st.sampled_from(
    [
        "x = 1",
        "y = [i for i in range(3)]",
        "if x:\n    pass",
        "for i in range(2):\n    x += i",
        "try:\n    pass\nexcept Exception:\n    raise",
        "return x",
        "s = '''a\nb'''",
        "# a comment",
        "def inner():\n    return 1",
    ]
)


@st.composite
def functions(draw: st.DrawFn, indent: str = "") -> tuple[str, str]:
    name = draw(names)
    decorator = draw(st.sampled_from(["", "@staticmethod\n", "@decorate(1)\n"]))
    quote = draw(st.sampled_from(['"""', "'''", 'r"""']))
    closing = quote[-3:]
    doc = draw(doc_lines)
    docstring = ""
    if draw(st.booleans()) and not doc.endswith(("\\", closing[0])) and closing not in doc:
        more = draw(st.sampled_from(["", "\n\nMore text.\n", "\n"]))
        docstring = f"{quote}{doc}{more}{closing}\n"
    body = docstring + "\n".join(draw(st.lists(statements, max_size=14))) + "\nreturn x\n"
    lines = "".join("    " + line + "\n" if line else "\n" for line in body.splitlines())
    text = decorator + f"def {name}(x, *args, **kwargs) -> int:\n" + lines
    return name, "".join(indent + line + "\n" if line else "\n" for line in text.splitlines())


@st.composite
def modules(draw: st.DrawFn) -> tuple[str, list[str]]:
    parts = ['"""Module docstring."""\nimport os\n', "CONSTANT = 3\n"]
    defined = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            name, text = draw(functions())
            parts.append(text)
            defined.append(name)
        else:
            cls = draw(names)
            methods = draw(st.lists(functions("    "), min_size=1, max_size=4))
            # Long class docstrings and comment blocks are cut to their first line too.
            doc = draw(doc_lines)
            docstring = ""
            if draw(st.booleans()) and not doc.endswith(("\\", '"')) and '"""' not in doc:
                docstring = f'    """{doc}\n\n    More.\n    Even more.\n    """\n'
            comment = "".join(f"    # {draw(doc_lines)}\n" for _ in range(draw(st.integers(0, 6))))
            parts.append(
                f"class {cls}:\n{docstring}    field: int = 0\n{comment}"
                + "".join(m for _, m in methods)
            )
            defined += [cls] + [m for m, _ in methods]
    return "\n".join(parts), defined


@given(modules(), st.sampled_from([None, "x", "how does inner work"]))
def test_output_parses_and_keeps_every_name(
    module: tuple[str, list[str]], query: str | None
) -> None:
    text, defined = module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in generated docstrings
        ast.parse(text)  # the generator only makes valid modules
    ctx = Context("code", "python", query, CompressConfig(min_tokens=0), MemoryStore(), COUNT)
    out = COMPRESSOR.compress(text, ctx)
    if out is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(out.text)
    found = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert set(defined) <= found
    assert {m.handle for m in find_markers(out.text)} == {handle_for(text)}
    assert ctx.store.get(handle_for(text)).text == text
    assert COMPRESSOR.compress(text, ctx) == out  # deterministic
    assert COMPRESSOR.compress(out.text, ctx) is None  # idempotent

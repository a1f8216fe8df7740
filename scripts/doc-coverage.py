#!/usr/bin/env python3
"""Lists every public declaration of the library modules that has no doc comment.

    python3 scripts/doc-coverage.py            # exit 1 and `file:line: declaration` per missing comment
    python3 scripts/doc-coverage.py --summary  # the counts only
    python3 scripts/doc-coverage.py --exempt   # also the protocol witnesses it lets through

Scans Sources/**/*.swift except the executable (Sources/hounsfield), the C targets and `Generated/` folders. A declaration is public when
it says `public` or `open` (after any attributes such as @inlinable, @frozen or @discardableResult), when it is a
case of a public enum, a requirement of a public protocol, or a member of a `public extension` with no access
modifier of its own, and when every type around it is public too (a `public` member of an internal type is not part
of the API). Extensions themselves are not symbols and need no comment.

A doc comment is a `///` line, or the end of a `/** */` block, directly above the declaration; attribute lines may
sit between the two. A comment above `case a, b, c` covers the whole line. A member written on the line of its
type's `{` (`extension Float32: P { public var x … }`) cannot carry a comment of its own: it counts as missing
unless it is exempt.

Exempt, because the protocol that asks for them already documents them, and nothing else:
- the witnesses of the standard conformances, when the type declares that conformance (on the type or any
  extension of it): `description` and `debugDescription` (CustomStringConvertible, CustomDebugStringConvertible),
  `hash(into:)` (Hashable), `==` (Equatable) and `<` (Comparable), `init(from:)`, `encode(to:)` and `CodingKeys`
  (Codable), `errorDescription`, `failureReason`, `recoverySuggestion` and `helpAnchor` (LocalizedError),
  `makeAsyncIterator()` and `Failure` (AsyncSequence), `next()` (AsyncIteratorProtocol, IteratorProtocol);
- the members of an extension that only adds a conformance to one of our protocols (`extension Float32:
  VoxelScalar`), when the protocol documents the requirement they implement.
A default implementation in a plain `extension SomeProtocol` is not exempt: it says what the default does.

Standard library only: a small scanner that blanks strings and comments, tracks braces and parentheses, and
knows which braces open a type and which open code.
"""

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "Sources")
EXCLUDED_TARGETS = {"hounsfield"}  # the executable; C targets are skipped because they hold no .swift files
# Code written by a generator (protoc's plugins for HounsfieldProtocol): its comments come from the source it was
# generated from (the .proto, where every message and field is commented), and editing it by hand is undone by the
# next regeneration, so it is not held to this rule.
EXCLUDED_FOLDERS = {"Generated"}

DECLARATION_KEYWORDS = {"func", "init", "subscript", "var", "let", "struct", "class", "enum", "actor",
                        "protocol", "typealias", "associatedtype", "case", "operator", "macro", "extension",
                        "precedencegroup", "import", "deinit"}
MODIFIERS = {"static", "class", "final", "mutating", "nonmutating", "override", "convenience", "required",
             "nonisolated", "lazy", "indirect", "consuming", "borrowing", "dynamic", "weak", "unowned", "optional",
             "prefix", "postfix", "infix", "isolated", "distributed", "async", "sending", "__consuming", "unsafe"}
ACCESS = {"public", "open", "package", "internal", "private", "fileprivate"}

# name → protocols whose conformance makes it a documented witness
EXEMPT_WITNESSES = {
    ("var", "description"): {"CustomStringConvertible", "LosslessStringConvertible"},
    ("var", "debugDescription"): {"CustomDebugStringConvertible"},
    ("func", "hash"): {"Hashable"},
    ("func", "=="): {"Equatable", "Hashable", "Comparable"},
    ("func", "<"): {"Comparable"},
    ("init", "from"): {"Decodable", "Codable"},
    ("func", "encode"): {"Encodable", "Codable"},
    ("enum", "CodingKeys"): {"Decodable", "Encodable", "Codable"},
    ("var", "errorDescription"): {"LocalizedError"},
    ("var", "failureReason"): {"LocalizedError"},
    ("var", "recoverySuggestion"): {"LocalizedError"},
    ("var", "helpAnchor"): {"LocalizedError"},
    ("func", "makeAsyncIterator"): {"AsyncSequence"},
    ("typealias", "Failure"): {"AsyncSequence", "AsyncIteratorProtocol"},
    ("func", "next"): {"AsyncIteratorProtocol", "IteratorProtocol"},
}


def blank(source):
    """The source with string contents and comments replaced by spaces (newlines kept), so braces, parentheses and
    keywords can be found by plain scanning. Handles `///`, nested `/* */`, `"…"`, `\"\"\"…\"\"\"`, raw strings
    (`#"…"#`) and interpolations (`\\(…)`, `\\#(…)`) that hold strings of their own."""
    out = list(source)
    n = len(source)
    i = 0
    # stack of string frames: (delimiter quotes, hash count); interpolation frames: ("(", paren depth)
    stack = []

    def wipe(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        in_string = stack and stack[-1][0] in ('"', '"""')
        if in_string:
            quotes, hashes = stack[-1]
            c = source[i]
            if c == "\\" and source.startswith("#" * hashes, i + 1):
                j = i + 1 + hashes
                if j < n and source[j] == "(":
                    wipe(i, j + 1)
                    stack.append(("(", 1))
                    i = j + 1
                    continue
                wipe(i, min(j + 1, n))
                i = j + 1
                continue
            closing = quotes + "#" * hashes
            if source.startswith(closing, i):
                stack.pop()
                i += len(closing)
                continue
            wipe(i, i + 1)
            i += 1
            continue
        c = source[i]
        if source.startswith("//", i):
            j = source.find("\n", i)
            j = n if j < 0 else j
            wipe(i, j)
            i = j
            continue
        if source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            wipe(i, j)
            i = j
            continue
        m = re.match(r'(#*)("""|")', source[i:i + 20])
        if m:
            hashes = len(m.group(1))
            quotes = m.group(2)
            i += len(m.group(0))
            stack.append((quotes, hashes))
            continue
        if stack and stack[-1][0] == "(":
            if c == "(":
                stack[-1] = ("(", stack[-1][1] + 1)
            elif c == ")":
                depth = stack[-1][1] - 1
                if depth == 0:
                    stack.pop()
                    wipe(i, i + 1)
                    i += 1
                    continue
                stack[-1] = ("(", depth)
            wipe(i, i + 1)
            i += 1
            continue
        i += 1
    return "".join(out)


@dataclass
class Context:
    """What a `{` opened: the file itself, a type or extension (whose members can be declarations), or code."""
    kind: str  # "file", "type", "code"
    keyword: str = ""  # struct, enum, protocol, extension, …
    name: str = ""  # qualified name for types; extended name for extensions
    public: bool = True  # whether members can be public at all
    default_public: bool = False  # members without an access modifier are public (protocols, public extensions)
    conformances: set = field(default_factory=set)


@dataclass
class Declaration:
    """One public declaration and whether a doc comment sits above it."""
    path: str
    line: int
    text: str
    keyword: str
    name: str
    owner: str  # qualified name of the enclosing type, or the extended type
    documented: bool
    owner_keyword: str = ""  # struct, enum, protocol, extension, … ("" at file scope)
    extension_conformances: set = field(default_factory=set)  # what the enclosing extension conforms to
    column: int = 0  # > 0 when the declaration follows its type's `{` on the same line


def strip_attributes(text):
    """`text` without its leading attributes; None when an attribute's parentheses do not close on this text."""
    text = text.lstrip()
    while text.startswith("@"):
        m = re.match(r"@[A-Za-z_][\w.]*", text)
        if not m:
            return text
        j = m.end()
        if j < len(text) and text[j] == "(":
            depth = 0
            while j < len(text):
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth:
                return None
            j += 1
        text = text[j:].lstrip()
    return text


def parse_header(text):
    """(access, keyword, name, rest) of a declaration line without its attributes, or None when it declares
    nothing. `access` is None when the line has no access modifier (`private(set)` does not count)."""
    words = re.findall(r"[A-Za-z_]\w*(?:\((?:set|unsafe|get)\))?|\S", text)
    access = None
    k = 0
    while k < len(words):
        word = words[k]
        base = word.split("(")[0]
        following = words[k + 1] if k + 1 < len(words) else ""
        if base in ACCESS:
            if "(" not in word and access is None:
                access = base
            k += 1
        elif base in MODIFIERS and re.match(r"[A-Za-z_]", following) and not (
                base == "class" and following not in DECLARATION_KEYWORDS | MODIFIERS | ACCESS):
            k += 1
        else:
            break
    if k >= len(words) or words[k] not in DECLARATION_KEYWORDS:
        return None
    keyword = words[k]
    rest = re.split(r"\b%s\b" % keyword, text, maxsplit=1)[1]
    name = ""
    if keyword == "func":
        m = re.match(r"\s*`?([A-Za-z_]\w*|[^\sA-Za-z_(`]+)", rest)
        name = m.group(1) if m else ""
    elif keyword == "init":
        m = re.match(r"[?!]?\s*(?:<[^>]*>)?\s*\(\s*([A-Za-z_]\w*)", rest)
        name = m.group(1) if m else ""
    elif keyword == "extension":
        m = re.match(r"\s*([A-Za-z_][\w.]*)", rest)
        name = m.group(1) if m else ""
    else:
        m = re.match(r"\s*`?([A-Za-z_]\w*)", rest)
        name = m.group(1) if m else ""
    return access, keyword, name, rest


def conformance_list(rest):
    """The names after `:` in a type or extension header (up to `where` or `{`)."""
    head = rest.split("{", 1)[0]
    head = re.split(r"\bwhere\b", head, 1)[0]
    if ":" not in head:
        return set()
    # generic parameter lists come before the colon: drop them
    after = head.split(":", 1)[1]
    return set(re.findall(r"[A-Za-z_][\w]*", after)) - {"any", "some"}


def swift_files():
    """The library's Swift files, sorted, without the executable target."""
    for dirpath, dirnames, filenames in os.walk(SOURCES):
        relative = os.path.relpath(dirpath, SOURCES)
        top = relative.split(os.sep)[0]
        if top in EXCLUDED_TARGETS or os.path.basename(dirpath) in EXCLUDED_FOLDERS:
            dirnames[:] = []
            continue
        dirnames.sort()
        for filename in sorted(filenames):
            if filename.endswith(".swift"):
                yield os.path.join(dirpath, filename)


def scan(path, internal_types):
    """The public declarations of one file, and the type headers it holds (for the conformance map)."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    original = source.split("\n")
    cleaned = blank(source).split("\n")

    stack = [Context("file")]
    paren = 0  # open ( and [ at the current point
    pending = None  # the context the next `{` at paren depth 0 opens
    header = None  # the text of a type header, until its `{`
    attribute_depth = 0  # open parentheses of an attribute that spans lines
    attribute_lines = set()
    declarations, headers = [], []

    def handle(line, number, column):
        """Reads one line, or the rest of a line after the `{` that opened a type (column > 0)."""
        nonlocal paren, pending, header, attribute_depth
        stripped = line.strip()
        context = stack[-1]
        if attribute_depth > 0:
            attribute_lines.add(number)
            attribute_depth += line.count("(") - line.count(")")
            stripped = ""  # the attribute's arguments declare nothing
        elif paren == 0 and context.kind != "code" and stripped.startswith("@"):
            remainder = strip_attributes(stripped)
            if remainder is None:
                attribute_lines.add(number)
                attribute_depth = stripped.count("(") - stripped.count(")")
                stripped = ""
            elif remainder == "":
                if column == 0:
                    attribute_lines.add(number)
                stripped = ""
            else:
                stripped = remainder
        parsed = parse_header(stripped) if stripped and paren == 0 and context.kind != "code" else None
        if parsed:
            access, keyword, name, rest = parsed
            explicit_public = access in ("public", "open")
            if keyword == "extension":
                pending = Context("type", "extension", name,
                                  public=name.split(".")[-1] not in internal_types,
                                  default_public=explicit_public)
                header = rest
            elif keyword in ("import", "precedencegroup", "operator"):
                pending = None
            else:
                implicit_public = access is None and (
                    context.default_public or (keyword == "case" and context.keyword == "enum"))
                is_public = context.public and (explicit_public or implicit_public)
                if keyword in ("struct", "class", "enum", "actor", "protocol"):
                    qualified = f"{context.name}.{name}" if context.name else name
                    pending = Context("type", keyword, qualified, public=is_public,
                                      default_public=(keyword == "protocol"))
                    header = rest
                else:
                    pending = Context("code", public=False)
                if is_public:
                    text = original[number - 1][column:].strip()
                    text = text[:-1].rstrip() if text.endswith("{") else text
                    declarations.append(Declaration(
                        path, number, text, keyword, name, context.name, False, context.keyword,
                        context.conformances if context.keyword == "extension" else set(), column))
        elif header is not None:
            header += " " + line
        for index, ch in enumerate(line):
            if ch in "([":
                paren += 1
            elif ch in ")]":
                paren -= 1
            elif ch == "{":
                opens_type = pending is not None and pending.kind == "type" and paren == 0
                if opens_type:
                    if header is not None:
                        pending.conformances = conformance_list(header.split("{")[0])
                        headers.append((pending.name, pending.conformances, pending.keyword))
                    stack.append(pending)
                else:
                    stack.append(Context("code", public=False))
                pending, header = None, None
                if opens_type and line[index + 1:].strip():
                    # `extension Float32: P { public var x … }`: members on the header's own line
                    handle(line[index + 1:], number, column + index + 1)
                    return
            elif ch == "}":
                if len(stack) > 1:
                    stack.pop()

    for number, line in enumerate(cleaned, start=1):
        handle(line, number, 0)

    # doc comments: walk up from each declaration over its attribute lines
    for declaration in declarations:
        if declaration.column > 0:
            continue  # on the line of its type's `{`: a comment above would document the type, not this
        k = declaration.line - 1  # the 1-based number of the line above
        while k >= 1 and k in attribute_lines:
            k -= 1
        above = original[k - 1].strip() if k >= 1 else ""
        if above.startswith("///"):
            declaration.documented = True
        elif above.endswith("*/"):
            j = k
            while j >= 1 and "/*" not in original[j - 1]:
                j -= 1
            declaration.documented = j >= 1 and "/**" in original[j - 1]
    return declarations, headers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--summary", action="store_true", help="print the counts only")
    parser.add_argument("--exempt", action="store_true", help="list the exempt protocol witnesses too")
    arguments = parser.parse_args()

    files = list(swift_files())
    # Our types declared without `public`: members of their extensions are not API, whatever they say.
    declared = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            text = blank(handle.read())
        for match in re.finditer(
                r"^[ \t]*(?:@[\w.]+(?:\([^)\n]*\))?\s+)*((?:public|open|package|internal|private|fileprivate)\s+)?"
                r"(?:(?:final|indirect)\s+)*(struct|class|enum|actor|protocol)\s+([A-Za-z_]\w*)", text, re.M):
            is_public = bool(match.group(1)) and match.group(1).strip() in ("public", "open")
            declared[match.group(3)] = declared.get(match.group(3), False) or is_public
    internal_types = {name for name, is_public in declared.items() if not is_public}

    all_declarations, conformances, refinements = [], {}, {}
    for path in files:
        declarations, headers = scan(path, internal_types)
        all_declarations.extend(declarations)
        for name, conforms, keyword in headers:
            short = name.split(".")[-1]
            conformances.setdefault(short, set()).update(conforms)
            if keyword == "protocol":
                refinements.setdefault(short, set()).update(conforms)

    def closure(protocols):
        """`protocols` and everything our own protocols among them refine."""
        seen, todo = set(), list(protocols)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(refinements.get(name, ()))
        return seen

    # requirements of our own protocols that carry a doc comment: (protocol, keyword, name)
    documented_requirements = {
        (d.owner.split(".")[-1], d.keyword, d.name)
        for d in all_declarations if d.owner_keyword == "protocol" and d.documented}

    def is_documented_witness(declaration):
        """Whether the protocol that asks for `declaration` already documents it (see the module docstring)."""
        owner = declaration.owner.split(".")[-1]
        required = EXEMPT_WITNESSES.get((declaration.keyword, declaration.name))
        if required and closure(conformances.get(owner, set())) & required:
            return True
        # a member of `extension T: P` that implements a requirement P documents
        return any((protocol, declaration.keyword, declaration.name) in documented_requirements
                   for protocol in closure(declaration.extension_conformances))

    missing, exempt = [], 0
    for declaration in all_declarations:
        if declaration.documented:
            continue
        if is_documented_witness(declaration):
            exempt += 1
            if arguments.exempt:
                relative = os.path.relpath(declaration.path, ROOT)
                print(f"{relative}:{declaration.line}: (exempt) {declaration.text}")
            continue
        missing.append(declaration)

    total = len(all_declarations)
    if not arguments.summary:
        for declaration in missing:
            relative = os.path.relpath(declaration.path, ROOT)
            print(f"{relative}:{declaration.line}: {declaration.text}")
    documented = total - len(missing) - exempt
    print(f"doc-coverage: {len(missing)} of {total} public declarations have no doc comment "
          f"({documented} documented, {exempt} exempt protocol witnesses)",
          file=sys.stderr if missing else sys.stdout)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

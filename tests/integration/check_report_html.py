#!/usr/bin/env python3
"""check_report_html.py REPORT.HTML [NEEDLE...] — checks a squall report.html
with python's html.parser: the document is well nested (every opened element
closed in order, void elements aside), self-contained (no <script>, no
external src/href, no url() outside data:), has the sections a reader expects,
inline SVG charts, and contains every NEEDLE given (as text after unescaping).
Prints one line per problem; exit 0 when there is none."""
import html.parser
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
SVG_VOID_OK = {"line", "path", "rect", "circle", "polyline"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.text = [], [], []
        self.counts = {}
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag == "script":
            self.problems.append("has a <script> element")
        for k, v in attrs:
            if k.startswith("on"):
                self.problems.append(f"event handler attribute {k} on <{tag}>")
            if k in ("src", "href") and v and not v.startswith(("#", "data:")):
                self.problems.append(f"external reference {k}={v!r} on <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in VOID and tag not in SVG_VOID_OK:
            self.problems.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.problems.append(f"</{tag}> with nothing open")
            return
        top = self.stack.pop()
        if top != tag:
            self.problems.append(f"</{tag}> closes <{top}>")

    def handle_data(self, data):
        self.text.append(data)


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    c = Checker()
    c.feed(doc)
    c.close()
    problems = list(c.problems)
    if c.stack:
        problems.append("unclosed: " + " ".join(c.stack))
    text = "".join(c.text)
    for section in ("Objectives", "Timeline", "Faults", "Latency distribution", "Routes",
                    "Status codes and errors", "Methodology"):
        if section not in text:
            problems.append(f"missing section {section!r}")
    if c.counts.get("svg", 0) < 2:
        problems.append(f"only {c.counts.get('svg', 0)} inline SVG charts")
    if "url(" in doc and "url(data:" not in doc:
        problems.append("CSS url() reference")
    for needle in sys.argv[2:]:
        if needle not in text and needle not in doc:
            problems.append(f"missing {needle!r}")
    for p in problems:
        print(f"{path}: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

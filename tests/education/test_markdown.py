"""education.markdown: sanitising, headings, table of contents, glossary links.
Pure module: no database."""

import html
import re
from html.parser import HTMLParser

import pytest

from education.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    GlossaryEntry,
    reading_time_minutes,
    render,
    sanitise,
    term_phrases,
)

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" \n javascript:alert(1)">x</a>',
    '<a href="java\0script:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="position:fixed;inset:0">overlay</div>',
    '<form action="https://evil.example"><input name=q><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<p onmouseover="alert(1)">hover</p>',
    '<details open ontoggle=alert(1)>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1) )",
    "[x](data:text/html,<script>alert(1)</script>)",
    '![y](x "title" onerror=alert(1))',
    '![y](javascript:alert(1))',
    "![y](x)<img src=x onerror=alert(1)>",
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<a href='https://ok.example' target=_blank>x</a>",
    '<h2 id="main">Clobber the skip link</h2>',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<template><script>alert(1)</script></template>",
    "<!-- <script>alert(1)</script> -->",
    "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
]

SAFE_SCHEMES = {"http", "https", "mailto"}


class _Inspector(HTMLParser):
    """Collects every tag and attribute of the rendered HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def _scheme(url: str) -> str | None:
    # Browsers drop control characters and whitespace before looking for a scheme.
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) if match else None


def assert_harmless(output: str) -> None:
    inspector = _Inspector()
    inspector.feed(output)
    assert set(inspector.tags) <= ALLOWED_TAGS, output
    for tag, name, value in inspector.attrs:
        assert not name.startswith("on"), output
        assert name != "style", output
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel", "class"}
        assert name in allowed, (tag, name, output)
        if name in {"href", "src"}:
            assert _scheme(value) in SAFE_SCHEMES | {None}, output
        if name == "id":
            assert value != "main", output
    lowered = output.lower()
    for needle in ("<script", "<iframe", "<object", "<embed", "<style", "<svg", "<form", "<meta", "<base",
                   "<link", "javascript:", "vbscript:", "data:text/html", "style="):
        # Escaped text (&lt;script&gt; in a code block) is fine; live markup is not.
        assert needle not in lowered.replace("&lt;", "").replace("&gt;", ""), (needle, output)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_xss_payload_survives_rendering(payload):
    assert_harmless(render(f"Intro paragraph.\n\n{payload}\n\nAfter.").html)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_xss_payload_survives_inside_a_list_or_quote(payload):
    assert_harmless(render(f"- item {payload}\n\n> quote {payload}\n").html)


def test_the_payload_list_is_long_enough_to_mean_something():
    assert len(XSS_PAYLOADS) >= 25


def test_every_link_gets_noopener_noreferrer():
    output = render("[site](https://example.org) and <a href='/learn/'>learn</a>").html
    assert output.count('rel="noopener noreferrer"') == 2


@pytest.mark.parametrize(
    "url",
    ["https://example.org/x", "http://example.org", "mailto:help@example.org", "/learn/glossary/apr/", "#the-formula",
     "other-article/"],
)
def test_safe_and_relative_urls_are_kept(url):
    assert f'href="{url}"' in render(f"[link]({url})").html


def test_markdown_features_render_tables_fenced_code_and_lists():
    source = "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n\n1. one\n2. two\n"
    output = render(source).html
    assert '<th align="left">a</th>' in output
    assert '<td align="right">2</td>' in output
    assert "<pre><code>x = 1 &lt; 2" in output
    assert "<ol>" in output and "<li>one</li>" in output


def test_headings_get_anchor_ids():
    output = render("## The formula\n\n### A worked example\n").html
    assert '<h2 id="the-formula">' in output
    assert '<h3 id="a-worked-example">' in output


def test_a_heading_cannot_take_the_layout_id_main():
    assert '<h2 id="main-section">Main</h2>' in render("## Main\n").html


@pytest.mark.parametrize(
    ("headings", "has_toc"),
    [(["A", "B", "C"], False), (["A", "B", "C", "D"], True), (["A", "B"], False)],
)
def test_a_table_of_contents_needs_at_least_four_headings(headings, has_toc):
    source = "\n\n".join(f"## {h}\n\ntext" for h in headings)
    assert bool(render(source).toc) is has_toc


def test_toc_nests_h3_under_h2_with_plain_text_names():
    rendered = render("## One & two\n\n### Sub\n\n## Three\n\n## Four\n")
    assert rendered.toc[0] == {"id": "one-two", "name": "One & two", "level": 2,
                               "children": [{"id": "sub", "name": "Sub", "level": 3, "children": []}]}


@pytest.mark.parametrize(("words", "minutes"), [(0, 1), (1, 1), (200, 1), (201, 2), (1686, 9)])
def test_reading_time_rounds_up_at_200_words_a_minute(words, minutes):
    assert reading_time_minutes(words) == minutes


def test_word_count_ignores_markup():
    assert render("## Title here\n\n**Bold** [link](https://x.org) text.").word_count == 5


# --- Glossary links ------------------------------------------------------------------

IL = GlossaryEntry("impermanent-loss", "/learn/glossary/impermanent-loss/", term_phrases("Impermanent loss"))
APR = GlossaryEntry("apr", "/learn/glossary/apr/", term_phrases("APR (annual percentage rate)"))
LP_TOKEN = GlossaryEntry("lp-token", "/learn/glossary/lp-token/", term_phrases("LP token"))
LP = GlossaryEntry("liquidity-provider", "/learn/glossary/liquidity-provider/", term_phrases("Liquidity provider (LP)"))
GLOSSARY = [IL, APR, LP_TOKEN, LP]


def _links(output: str) -> list[tuple[str, str]]:
    return re.findall(r'<a class="glossary-link" href="([^"]+)"[^>]*>([^<]+)</a>', output)


def test_only_the_first_mention_of_a_term_is_linked():
    output = render("Impermanent loss is real. Impermanent loss again.", glossary=GLOSSARY).html
    assert _links(output) == [("/learn/glossary/impermanent-loss/", "Impermanent loss")]


def test_matching_is_case_insensitive_and_keeps_the_authors_case():
    output = render("Beware IMPERMANENT LOSS.", glossary=GLOSSARY).html
    assert _links(output) == [("/learn/glossary/impermanent-loss/", "IMPERMANENT LOSS")]


@pytest.mark.parametrize(
    ("source", "linked"),
    [
        ("## Impermanent loss\n\nNothing here.", []),
        ("`impermanent loss` in code", []),
        ("```\nimpermanent loss\n```", []),
        ("[impermanent loss](https://example.org) already linked", []),
        ("impermanent losses? no: losses is not loss", ["impermanent losses"]),
        ("impermanent lossy is not a word match", []),
        ("preimpermanent loss is not a whole word", []),
    ],
)
def test_terms_are_not_linked_in_headings_code_or_links_and_only_as_whole_words(source, linked):
    assert [text for _, text in _links(render(source, glossary=GLOSSARY).html)] == linked


def test_a_skipped_heading_mention_leaves_the_first_body_mention_linked():
    output = render("## Impermanent loss\n\nWhat impermanent loss means.", glossary=GLOSSARY).html
    assert '<h2 id="impermanent-loss">Impermanent loss</h2>' in output
    assert _links(output) == [("/learn/glossary/impermanent-loss/", "impermanent loss")]


def test_a_term_with_an_abbreviation_is_found_by_either_name():
    output = render("The annual percentage rate is quoted; APR again.", glossary=GLOSSARY).html
    assert _links(output) == [("/learn/glossary/apr/", "annual percentage rate")]


def test_the_longest_term_wins_where_two_overlap():
    output = render("Your LP tokens prove your share as an LP.", glossary=GLOSSARY).html
    assert _links(output) == [("/learn/glossary/lp-token/", "LP tokens"),
                              ("/learn/glossary/liquidity-provider/", "LP")]


def test_links_inside_emphasis_and_list_items_are_found():
    output = render("- **Impermanent loss** hurts\n- APR lies", glossary=GLOSSARY).html
    assert "<strong><a class=\"glossary-link\" href=\"/learn/glossary/impermanent-loss/\"" in output
    assert len(_links(output)) == 2


def test_sanitise_drops_a_class_other_than_glossary_link():
    output = sanitise('<a class="button evil glossary-link" href="/x">x</a>')
    assert 'class="glossary-link"' in output
    assert "button" not in output and "evil" not in output

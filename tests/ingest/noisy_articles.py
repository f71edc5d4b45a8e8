"""Noisy articles built from the dev sets the way the seed document is noisy.

A test helper, not production code: :func:`noisy_article` takes a clean article (its body
paragraphs known) and surrounds and interleaves it with the classes of noise the seed
shows, each paragraph of the result marked as body or noise, so that a test can count
what cleaning keeps of each. Everything is drawn from a ``random.Random`` seeded by the
caller, so a failure can be replayed.

The noise, as in ``seeds/000_5e72854a3612335b.txt`` and the scraped pages it stands for:

- caption twins: one image caption rendered twice, side by side, in straight and curly
  quotes, with ``¿`` where the quotes were, or verbatim; no full stop, as captions go;
- a pull quote: a body paragraph printed again, either a few paragraphs later or right
  after itself (a doubled block), sometimes in the other quote style;
- a teaser block: a heading ("You May Also Like", ...) after the article, then headlines
  of other stories and their standfirsts cut short with an ellipsis;
- inline furniture: share, advert and newsletter lines between body paragraphs;
- cp1252 mojibake: a body paragraph, typeset with curly quotes, whose UTF-8 was read as
  Windows-1252 (or as Latin-1, leaving C1 controls); the cleaner must repair it.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.clean import clean_paragraphs, clean_title, split_paragraphs
from summarise.sentences import split_paragraph

__all__ = [
    "DevArticle",
    "NoisyArticle",
    "Tally",
    "load_dev_articles",
    "noisy_article",
    "tally",
]

FURNITURE = [
    "Advertisement",
    "ADVERTISEMENT",
    "Share this article",
    "Share",
    "Scroll down for video",
    "Story continues below advertisement",
    "Sign up for our daily newsletter",
    "Follow us on Twitter",
    "Click here to read more",
    "Continue reading",
    "Share on Facebook",
    "Comments",
    "Image source, Getty Images",
    "Getty Images",
]
TEASER_HEADINGS = [
    "You May Also Like",
    "Related",
    "Related Articles",
    "More from the Daily Gazette",
    "Most Read",
    "Trending Now",
    "Recommended for you",
    "Read next",
    "Don't miss",
]
_STRAIGHT_TO_CURLY_DOUBLE = re.compile(r'"([^"]*)"')
_STRAIGHT_TO_CURLY_SINGLE = re.compile(r"(?<!\w)'([^']*?)'(?!\w)")
_TERMINAL = re.compile(r"[.!?…]['\"’”)]*$")


@dataclass(frozen=True)
class DevArticle:
    id: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class NoisyArticle:
    """``paragraphs`` as a scraper would hand them over; ``body`` what cleaning must
    return (each body paragraph once, in order, repaired); ``noise`` how many of the
    paragraphs are noise (a pull quote's second copy included)."""

    id: str
    paragraphs: list[str]
    body: list[str]
    noise: int


@dataclass
class Tally:
    body: int = 0
    body_kept: int = 0
    noise: int = 0
    noise_kept: int = 0
    repeated: int = 0  # output paragraphs that appear more than once in their article

    def add(self, article: NoisyArticle, cleaned: Sequence[str]) -> None:
        expected = Counter(article.body)
        out = Counter(cleaned)
        kept = sum((expected & out).values())
        self.body += len(article.body)
        self.body_kept += kept
        self.noise += article.noise
        self.noise_kept += len(cleaned) - kept
        self.repeated += sum(n - 1 for n in out.values() if n > 1)

    @property
    def body_ratio(self) -> float:
        return self.body_kept / self.body if self.body else 1.0

    @property
    def noise_ratio(self) -> float:
        return self.noise_kept / self.noise if self.noise else 0.0


def load_dev_articles(path: Path) -> list[DevArticle]:
    """The articles of one dev set, as body paragraphs. Sets that keep an article in one
    block (CNN/DM, XSum) are cut into paragraphs of one to three sentences, as news sites
    print them; a paragraph the article itself repeats is kept once. The sets carry some
    page furniture of their own ("Scroll down for video .", "Follow Matt on Twitter"):
    what cleaning drops from the article alone is left out, so that the measure is of
    the noise added here."""
    articles = []
    rng = random.Random(path.name)
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs = split_paragraphs(record["text"])
        if len(paragraphs) == 1:
            paragraphs = _regroup(split_paragraph(paragraphs[0]), rng)
        body = list(dict.fromkeys(clean_title(p) for p in paragraphs))
        own_noise = set(body) - set(clean_paragraphs(body))
        body = [p for p in body if p not in own_noise]
        if body:
            articles.append(DevArticle(record["id"], record.get("title") or "", tuple(body)))
    return articles


def _regroup(sentences: Sequence[str], rng: random.Random) -> list[str]:
    paragraphs = []
    i = 0
    while i < len(sentences):
        size = rng.choice((1, 1, 2, 2, 3))
        paragraphs.append(" ".join(sentences[i : i + size]))
        i += size
    return paragraphs


def curly(text: str) -> str:
    """``text`` typeset: straight quotes and apostrophes as curly ones."""
    text = _STRAIGHT_TO_CURLY_DOUBLE.sub(r"“\1”", text)
    text = _STRAIGHT_TO_CURLY_SINGLE.sub(r"‘\1’", text)
    return text.replace("'", "’")


def straight(text: str) -> str:
    return text.translate(str.maketrans("‘’“”", "''\"\""))


def inverted(text: str) -> str:
    """What some CMSes print for a typeset text: ``¿`` wherever a curly quote was."""
    return text.translate(str.maketrans("‘’“”", "¿¿¿¿"))


def cp1252_mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252, the five bytes it leaves undefined passed through."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


def latin1_c1(text: str) -> str:
    """Windows-1252 bytes read as Latin-1: curly quotes become C1 controls."""
    return text.encode("cp1252", errors="replace").decode("latin-1")


def _caption(source: str, rng: random.Random) -> str:
    """A caption made of a body sentence: no full stop, a quoted phrase or an apostrophe
    in it so that its renditions can differ in quote style."""
    words = source.rstrip(" .!?…'\"’”").split()[:30]
    if not any(q in w for w in words for q in "'\"‘’“”"):
        start = rng.randrange(max(1, len(words) - 2))
        words[start] = "'" + words[start]
        words[min(start + 1, len(words) - 1)] += "'"
    if rng.random() < 0.3:
        words.insert(min(2, len(words)), "(pictured)")
    return " ".join(words).rstrip(",;:")


def _caption_twins(source: str, rng: random.Random) -> list[str]:
    caption = curly(straight(_caption(source, rng)))
    kind = rng.choice(("quotes", "quotes", "inverted", "verbatim"))
    if kind == "quotes":
        pair = [straight(caption), caption]
    elif kind == "inverted":
        pair = [inverted(caption), caption]
    else:
        pair = [caption, caption]
    rng.shuffle(pair)
    return pair


def _teasers(others: Sequence[DevArticle], rng: random.Random) -> list[str]:
    block = [rng.choice(TEASER_HEADINGS)]
    for other in rng.sample(list(others), k=min(len(others), rng.randint(3, 8))):
        block.append(other.title or " ".join(other.paragraphs[0].split()[:10]))
        if rng.random() < 0.8:
            words = other.paragraphs[-1].split()
            block.append(" ".join(words[: rng.randint(8, 16)]).rstrip(",.;:") + "…")
    return block


def noisy_article(
    article: DevArticle, others: Sequence[DevArticle], rng: random.Random
) -> NoisyArticle:
    """``article`` with seed-like noise; ``others`` lend their titles to the teasers."""
    body = list(article.paragraphs)
    slots: list[list[str]] = [[] for _ in range(len(body) + 1)]  # noise after paragraph i-1
    noise = 0
    shown = list(body)  # the paragraphs as printed (mojibake where it was put)

    # cp1252 mojibake, on paragraphs that have something for it to damage once typeset
    for i in rng.sample(range(len(body)), k=min(len(body), rng.randint(0, 2))):
        typeset = curly(body[i])
        if typeset == body[i] and body[i].isascii():
            typeset = typeset.replace(" - ", " – ")
        if typeset.isascii():
            continue
        body[i] = clean_title(typeset)
        shown[i] = rng.choice((cp1252_mojibake, cp1252_mojibake, latin1_c1))(typeset)

    # caption twins between body paragraphs, each made of a sentence of a paragraph
    # further away (a caption beside the sentence it repeats would be a twin of it)
    used: set[int] = set()
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(1, len(body) + 1)
        far = [j for j in range(len(body)) if j not in used and (j < at - 2 or j > at + 1)]
        if not far:
            continue
        used.add(source_index := rng.choice(far))
        sentences = [s for s in split_paragraph(article.paragraphs[source_index])]
        source = rng.choice(sentences)
        if len(source.split()) < 6:
            continue
        slots[at].extend(_caption_twins(source, rng))
        noise += 2

    # a pull quote: a short body paragraph with a full stop, printed again
    quotable = [
        i
        for i, p in enumerate(body)
        if 8 <= len(p.split()) <= 60 and _TERMINAL.search(p) and shown[i] == p
    ]
    if quotable and rng.random() < 0.7:
        i = rng.choice(quotable)
        copy = curly(body[i]) if rng.random() < 0.3 else body[i]
        at = i + 1 if rng.random() < 0.5 else min(len(body), i + rng.randint(2, 5))
        slots[at].insert(0 if at == i + 1 else len(slots[at]), copy)
        noise += 1

    # inline furniture
    for _ in range(rng.randint(1, 3)):
        slots[rng.randrange(1, len(body) + 1)].append(rng.choice(FURNITURE))
        noise += 1

    # a teaser block after the article, in most articles
    if rng.random() < 0.8:
        block = _teasers([o for o in others if o.id != article.id], rng)
        slots[len(body)].extend(block)
        noise += len(block)

    paragraphs = list(slots[0])
    for i, paragraph in enumerate(shown):
        paragraphs.append(paragraph)
        paragraphs.extend(slots[i + 1])
    return NoisyArticle(article.id, paragraphs, body, noise)


def tally(articles: Sequence[NoisyArticle], clean: object) -> Tally:
    """Body and noise kept by ``clean`` (a function from paragraphs to paragraphs)."""
    result = Tally()
    for article in articles:
        result.add(article, clean(article.paragraphs))  # type: ignore[operator]
    return result

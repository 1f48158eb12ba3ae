"""extract_hashtags follows twitter-text: what starts a tag, what a tag may hold, what ends it."""

# Look-alike characters (fullwidth letters, Arabic, Hebrew punctuation) are the test data here.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from streamer.ingest.hashtags import HASHTAG_PATTERN, extract_hashtags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a #hashtag here", ("hashtag",)),
        ("#start of text", ("start",)),
        ("at the end #end", ("end",)),
        ("#one\n#two\t#three", ("one", "two", "three")),
        ("(#paren) [#bracket] '#quote'", ("paren", "bracket", "quote")),
        (
            "#colon: #semi; #comma, #dot. #bang! #ask?",
            ("colon", "semi", "comma", "dot", "bang", "ask"),
        ),
        (":#a ;#b ,#c .#d !#e ?#f", ("a", "b", "c", "d", "e", "f")),
    ],
)
def test_plain_tags_are_found_between_spaces_and_punctuation(
    text: str, expected: tuple[str, ...]
) -> None:
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#ハッシュタグ です", ("ハッシュタグ",)),
        ("日本語です。#日本語ハッシュタグ。", ("日本語ハッシュタグ",)),
        ("#サッカー #ｻｯｶｰ", ("サッカー", "ｻｯｶｰ")),  # chouon, full and half width
        ("#ﾊﾟﾋﾟﾌﾟ", ("ﾊﾟﾋﾟﾌﾟ",)),  # half-width voiced sound marks
        ("#مرحبا_بكم و #السياسة", ("مرحبا_بكم", "السياسة")),
        ("#ผู้เริ่ม #นักท่องเที่ยว", ("ผู้เริ่ม", "นักท่องเที่ยว")),  # Thai tone marks
        ("#महात्मा गांधी", ("महात्मा",)),  # Devanagari virama and vowel signs
        ("#தமிழ் #ಕನ್ನಡ", ("தமிழ்", "ಕನ್ನಡ")),
        ("#트위터 #ашок", ("트위터", "ашок")),
        ("#mañana #café #münchen", ("mañana", "café", "münchen")),
        ("#\U00020021", ("\U00020021",)),  # a letter outside the Basic Multilingual Plane
    ],
)
def test_tags_in_many_scripts_keep_their_letters_and_marks(
    text: str, expected: tuple[str, ...]
) -> None:
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#می\u200cخواهم", ("می\u200cخواهم",)),  # zero-width non-joiner (Persian)
        ("#ශ්\u200dරීලංකා", ("ශ්\u200dරීලංකා",)),  # zero-width joiner (Sinhala)
        ("#וכו׳ #מ״כ", ("וכו׳", "מ״כ")),  # Hebrew geresh and gershayim
        ("#עַל־יְדֵי", ("עַל־יְדֵי",)),  # Hebrew maqaf
        ("#il·lusió", ("il·lusió",)),  # Catalan middle dot
        ("#メ～テレ #メ〜テレ", ("メ～テレ", "メ〜テレ")),  # fullwidth tilde, wave dash
        ("#ラブ・ライブ", ("ラブ・ライブ",)),  # katakana middle dot
        ("#བོད་སྐད་", ("བོད་སྐད་",)),  # Tibetan tsheg
        ("#各〃", ("各〃",)),  # ditto mark
    ],
)
def test_joiner_characters_stay_inside_the_tag(text: str, expected: tuple[str, ...]) -> None:
    assert extract_hashtags(text) == expected


def test_fullwidth_number_sign_starts_a_tag() -> None:
    assert extract_hashtags("全角 ＃ｈａｓｈｔａｇ１２３ と ＃日本") == (
        "ｈａｓｈｔａｇ１２３",
        "日本",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On the #16 bus", ()),
        ("#0", ()),
        ("#１２３ fullwidth digits", ()),
        ("#१२३४ Devanagari digits", ()),
        ("#_ #1_2 #〃 #·", ()),  # underscores and joiners alone are not letters
        ("#2024election", ("2024election",)),
        ("#1_a", ("1_a",)),
        ("#_private", ("_private",)),
        ("#महात्मा_१२३४", ("महात्मा_१२३४",)),
    ],
)
def test_a_tag_needs_at_least_one_letter_or_mark(text: str, expected: tuple[str, ...]) -> None:
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc#tag",
        "a_#tag",
        "9#tag",
        "é#tag",
        "日本語#日本語",
        "it&#39;s",
        "&#tag",
        "ラブ・#tag",  # a joiner counts as part of the preceding word
    ],
)
def test_a_tag_glued_to_a_preceding_word_or_ampersand_is_not_a_tag(text: str) -> None:
    assert extract_hashtags(text) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-#dash +#plus /#slash", ("dash", "plus", "slash")),
        ("！#bang ＃full", ("bang", "full")),
        ("##double", ("double",)),  # the second sign follows a sign, not a word
        ("❤️#love", ("love",)),  # a variation selector is a mark, but not a word
    ],
)
def test_a_tag_may_follow_punctuation_symbols_or_emoji(
    text: str, expected: tuple[str, ...]
) -> None:
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "#foo#bar",
        "#foo＃bar",
        "#foo#",
        "#http://example.com",
        "#https://example.com/path",
        "#ftp://x",
    ],
)
def test_a_tag_followed_by_a_sign_or_scheme_separator_is_not_a_tag(text: str) -> None:
    assert extract_hashtags(text) == ()


def test_the_check_after_a_tag_cannot_be_dodged_by_a_shorter_tag() -> None:
    # A backtracking regex could settle for "#fo" before the "o#bar" that disqualifies "#foo".
    assert extract_hashtags("#foo#bar #ok") == ("ok",)
    assert extract_hashtags("#abc:// #ok") == ("ok",)


def test_a_colon_or_single_slash_after_a_tag_does_not_disqualify_it() -> None:
    assert extract_hashtags("#news: today, #a:/b") == ("news", "a")


def test_keycap_emoji_is_not_a_tag() -> None:
    assert extract_hashtags("press #\ufe0f\u20e3 or #\u20e3") == ()


def test_fragment_of_a_web_address_is_not_a_tag() -> None:
    text = "see http://example.com/#section and https://x.org/a/#top then #real"
    assert extract_hashtags(text) == ("real",)


def test_tags_are_lower_cased_and_deduplicated_in_first_seen_order() -> None:
    text = "#Zeta #alpha #ZETA #Beta #alpha #zeta"
    assert extract_hashtags(text) == ("zeta", "alpha", "beta")


def test_lower_casing_is_lower_not_casefold() -> None:
    # casefold() would turn "ß" into "ss"; lower() keeps it.
    assert extract_hashtags("#Straße #İstanbul") == ("straße", "i̇stanbul")


def test_the_sign_is_not_part_of_the_tag() -> None:
    tags = extract_hashtags("#one ＃two")
    assert tags == ("one", "two")
    assert not any(tag.startswith(("#", "＃")) for tag in tags)


@pytest.mark.parametrize("text", ["", "no tags here", "# lonely sign", "C# and F#"])
def test_text_without_tags_gives_an_empty_tuple(text: str) -> None:
    assert extract_hashtags(text) == ()


def test_the_exported_pattern_captures_the_tag_body() -> None:
    match = HASHTAG_PATTERN.search("x #Body y")
    assert match is not None
    assert match.group(1) == "Body"
    assert match.group(0) == "#Body"

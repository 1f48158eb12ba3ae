# ruff: noqa: RUF001  (the topical phrases are written in their own scripts)
"""A multilingual development set of profile bios, each with its language and topic.

    .venv/bin/python -m scripts.bios_devset [--users 7300] [--seed 1] [--udhr DIR]

Real sentences come from the Universal Declaration of Human Rights in 34 languages (one plain
text file per language, one paragraph a line; read from --udhr, dev data only). Mixed into them
are topical phrases written here per language (occupations and interests), so that within a
language there are topical communities to find, plus what real bios carry: empty bios, links,
emoji, hashtags, ages and pronouns. About a third of the users write English; the rest follow a
skewed mix of ja, es, pt, ar, ko, th, fr, tr, id, zh, de, ru, it, ... .

The topic of a user is the one their phrases come from, or None for a bio without topical
phrase (empty, or only a sentence, emoji and a link).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

# The team's shared UDHR texts (development data; the product never needs them): where
# $TWEETHEAT_SHARED_DATA says, else shared/data beside the checkout.
UDHR_DIR = (
    Path(
        os.environ.get("TWEETHEAT_SHARED_DATA")
        or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    / "udhr"
)

# language -> share of users (normalized below). English about a third, as on a sample stream.
LANGUAGE_SHARES: dict[str, float] = {
    "en": 33, "ja": 12, "es": 9, "pt": 7, "ar": 5, "ko": 4, "th": 4, "fr": 4, "tr": 3,
    "id": 3, "zh": 3, "de": 3, "ru": 3, "it": 2, "hi": 1, "nl": 1, "pl": 1, "vi": 1,
    "fa": 0.7, "uk": 0.7,
}  # fmt: skip

# Topical phrases per language and topic: what people say about themselves in a bio.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "music": (
            "musician and songwriter",
            "guitar player",
            "live music lover",
            "producer in the studio",
            "singer in a band",
        ),
        "football": (
            "football fan",
            "season ticket holder",
            "matchday every weekend",
            "goalkeeper",
            "die-hard supporter of my club",
        ),
        "tech": (
            "software engineer",
            "python developer",
            "open source contributor",
            "building apps",
            "coding all night",
        ),
        "food": (
            "home cook",
            "baking bread",
            "chef in training",
            "recipes and restaurants",
            "coffee addict",
        ),
        "art": (
            "illustrator",
            "digital artist",
            "commissions open",
            "drawing every day",
            "painter and sketcher",
        ),
    },
    "ja": {
        "music": ("バンドでギター担当", "音楽が好き", "ライブ参戦", "作曲してます", "歌い手"),
        "anime": ("アニメ好き", "声優さん推し", "漫画読み", "オタク垢", "推しは尊い"),
        "art": ("イラスト描いてます", "絵描き", "お絵描き垢", "依頼受付中", "創作漫画"),
        "game": ("ゲーム実況", "ゲーム好き", "スプラトゥーン勢", "ポケモン対戦", "配信者"),
        "food": ("料理好き", "カフェ巡り", "パン作り", "ラーメン大好き", "スイーツ"),
    },
    "es": {
        "music": (
            "músico y compositor",
            "guitarrista",
            "amante de la música en vivo",
            "cantante de una banda",
        ),
        "football": (
            "aficionado al fútbol",
            "hincha de mi equipo",
            "fútbol todos los domingos",
            "portero amateur",
        ),
        "tech": (
            "ingeniero de software",
            "desarrollador web",
            "programador",
            "tecnología y código",
        ),
        "food": (
            "cocinero aficionado",
            "recetas caseras",
            "amante del café",
            "panadería artesanal",
        ),
    },
    "pt": {
        "music": (
            "músico e compositor",
            "guitarrista",
            "amo música ao vivo",
            "cantor de uma banda",
        ),
        "football": (
            "apaixonado por futebol",
            "torcedor fanático",
            "futebol todo domingo",
            "goleiro nas horas vagas",
        ),
        "tech": (
            "engenheiro de software",
            "desenvolvedor web",
            "programador",
            "tecnologia e código",
        ),
        "food": ("cozinheiro amador", "receitas caseiras", "viciado em café", "confeiteira"),
    },
    "ar": {
        "football": ("مشجع كرة القدم", "عاشق للنادي", "كرة القدم حياتي", "مدريدي للأبد"),
        "poetry": ("شاعر", "أحب الشعر والأدب", "كاتب وروائي", "قارئ نهم للكتب"),
        "faith": ("الحمد لله دائما", "استغفر الله", "اللهم اغفر لي", "سبحان الله وبحمده"),
        "tech": ("مهندس برمجيات", "مطور تطبيقات", "مبرمج", "مهتم بالتقنية"),
    },
    "ko": {
        "music": ("음악을 좋아해요", "기타 치는 사람", "작곡가", "밴드 보컬"),
        "kpop": ("방탄소년단 팬", "아미입니다", "케이팝 덕후", "최애는 영원히"),
        "game": ("게임 좋아함", "게임 방송", "롤 플레이어", "스트리머"),
        "food": ("요리하는 사람", "카페 투어", "맛집 탐방", "빵 굽는 사람"),
    },
    "th": {
        "music": ("ชอบฟังเพลง", "นักดนตรี", "มือกีตาร์", "นักร้อง"),
        "fan": ("ติ่งเกาหลี", "แฟนคลับ", "รักศิลปิน", "ด้อมนี้ดีมาก"),
        "food": ("ชอบทำอาหาร", "สายกิน", "ร้านกาแฟ", "ขนมหวาน"),
        "game": ("เล่นเกม", "เกมเมอร์", "สตรีมเมอร์", "แคสเกม"),
    },
    "fr": {
        "music": (
            "musicien et compositeur",
            "guitariste",
            "fan de concerts",
            "chanteuse dans un groupe",
        ),
        "football": (
            "fan de foot",
            "supporter de mon club",
            "footballeur amateur",
            "gardien de but",
        ),
        "tech": ("ingénieur logiciel", "développeur web", "programmeur", "passionné de code"),
        "food": ("cuisinier amateur", "recettes maison", "accro au café", "pâtissière"),
    },
    "tr": {
        "football": ("futbol aşığı", "taraftar", "maç günü", "kaleci"),
        "music": ("müzisyen", "gitarist", "şarkı söylerim", "müzik aşkı"),
        "tech": ("yazılım mühendisi", "web geliştirici", "programcı", "teknoloji meraklısı"),
    },
    "id": {
        "music": ("musisi", "pemain gitar", "suka musik", "penyanyi band"),
        "football": ("penggemar sepak bola", "suporter setia", "nonton bola", "kiper"),
        "food": ("suka masak", "kuliner", "pecinta kopi", "resep rumahan"),
    },
    "zh": {
        "music": ("音乐人", "吉他手", "喜欢听音乐", "唱歌"),
        "tech": ("程序员", "软件工程师", "前端开发", "科技爱好者"),
        "food": ("美食爱好者", "喜欢做饭", "咖啡控", "吃货"),
    },
    "de": {
        "music": ("Musiker und Songwriter", "Gitarrist", "Konzertgänger", "Sängerin in einer Band"),
        "football": ("Fußballfan", "Dauerkarteninhaber", "Stadiongänger", "Torwart"),
        "tech": ("Softwareentwickler", "Programmierer", "Informatiker", "Open Source"),
    },
    "ru": {
        "music": ("музыкант", "гитарист", "люблю музыку", "певица"),
        "football": ("футбольный болельщик", "фанат футбола", "вратарь", "люблю футбол"),
        "tech": ("программист", "разработчик", "инженер", "айтишник"),
    },
    "it": {
        "music": ("musicista", "chitarrista", "amo la musica", "cantante"),
        "football": ("tifoso di calcio", "calcio sempre", "portiere", "ultrà"),
        "food": ("cuoco per passione", "ricette di casa", "amante del caffè", "pizza"),
    },
}

EMOJI = ("✨", "🎸", "⚽", "💻", "🍜", "🎨", "🎮", "❤️", "♡", "☆", "♪", "🌸", "🔥", "→", "🇧🇷", "😊")
AGES = ("18", "19", "20", "21", "22", "25", "30", "she/her", "he/him", "they/them", "18+", "20↑")
URLS = ("https://t.co/{}", "https://instagram.com/{}", "http://youtube.com/@{}", "www.{}.com")

EMPTY_SHARE = 0.2
LINK_SHARE = 0.2
TOPIC_SHARE = 0.8  # of non-empty bios in a language that has topics
SENTENCE_SHARE = 0.6


class DevUser(NamedTuple):
    user_id: str
    bio: str
    lang: str
    topic: str | None


@cache
def fragments(lang: str, udhr_dir: Path = UDHR_DIR) -> tuple[str, ...]:
    """Clause-sized pieces of the language's UDHR text: bio-sized sentences."""
    text = (udhr_dir / f"{lang}.txt").read_text(encoding="utf-8")
    pieces = []
    for line in text.splitlines():
        for part in re.split(r"[,.;:،؛。、，．；：!?।]+", line):
            part = part.strip(" \t()（）「」『』〈〉\"'")
            if not part:
                continue
            spaced = " " in part
            if (spaced and 3 <= len(part.split()) <= 12) or (not spaced and 6 <= len(part) <= 40):
                pieces.append(part)
    return tuple(pieces)


def dev_users(count: int = 7300, seed: int = 1, udhr_dir: Path = UDHR_DIR) -> list[DevUser]:
    """`count` users with their language and topic; the same seed gives the same users."""
    rng = random.Random(seed)
    langs = list(LANGUAGE_SHARES)
    weights = [LANGUAGE_SHARES[lang] for lang in langs]
    users = []
    for n in range(count):
        lang = rng.choices(langs, weights)[0]
        users.append(_user(rng, f"d{seed}-{n}", lang, udhr_dir))
    return users


def _user(rng: random.Random, user_id: str, lang: str, udhr_dir: Path) -> DevUser:
    if rng.random() < EMPTY_SHARE:
        return DevUser(user_id, rng.choice(("", "", " ", rng.choice(EMOJI))), lang, None)
    parts: list[str] = []
    topic = None
    topics = TOPICS.get(lang)
    if topics and rng.random() < TOPIC_SHARE:
        topic = rng.choice(sorted(topics))
        parts += rng.sample(topics[topic], 2)
        if rng.random() < 0.3:  # a hashtag of the topic
            parts.append("#" + re.sub(r"\s+", "", rng.choice(topics[topic])))
    if rng.random() < SENTENCE_SHARE or not parts:
        parts.append(rng.choice(fragments(lang, udhr_dir)))
    rng.shuffle(parts)
    if rng.random() < 0.3:
        parts.append(rng.choice(AGES))
    separator = rng.choice((" | ", " · ", " / ", "、" if lang in ("ja", "zh") else ", ", " "))
    bio = separator.join(parts)
    if rng.random() < 0.35:
        bio += " " + "".join(rng.choices(EMOJI, k=rng.randint(1, 3)))
    if rng.random() < LINK_SHARE:
        handle = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=8))
        bio += " " + rng.choice(URLS).format(handle)
    return DevUser(user_id, bio, lang, topic)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=7300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--udhr", type=Path, default=UDHR_DIR)
    parser.add_argument("--show", type=int, default=25, help="print this many bios")
    args = parser.parse_args(argv)
    users = dev_users(args.users, args.seed, args.udhr)
    for user in users[: args.show]:
        print(f"{user.lang}\t{user.topic or '-'}\t{user.bio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

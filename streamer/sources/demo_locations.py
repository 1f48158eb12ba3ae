"""What the demo's authors write in their profile `location`, as people do on the real stream.

About 60% of accounts fill the field; a third of those write no place at all (a joke, their
pronouns, an emoji, "worldwide"). The rest name a city in one of the forms people use: the
plain name, a nickname or code, "City, Country" in the country's language, the native script,
a pin emoji, lower case. Some live abroad. These strings are the demo's own (written for it),
so the demo shows honestly how much of a stream the geolocator can place and how much it
leaves out.
"""

from __future__ import annotations

# Of authors: a non-empty profile location (share measured on the v1.1 sample, ~58-62%).
LOCATION_SHARE = 0.6
# Of those: a string that names no place.
NON_PLACE_SHARE = 1 / 3
# Of place strings: a city of another language's list (people who moved or travel).
ABROAD_SHARE = 0.07

# City name (as in demo_corpus) -> the ways its people write it.
CITY_FORMS: dict[str, tuple[str, ...]] = {
    "New York": ("New York", "NYC", "New York, NY", "new york city", "Brooklyn, NY"),
    "London": ("London", "London, UK", "London, England", "LDN", "london"),
    "Los Angeles": ("Los Angeles, CA", "LA", "Los Angeles", "los angeles, california"),
    "Sydney": ("Sydney, Australia", "Sydney NSW", "Sydney", "sydney"),
    "Lagos": ("Lagos, Nigeria", "Lagos", "Lasgidi", "Lagos 🇳🇬"),
    "Tokyo": ("東京", "東京都", "Tokyo", "Tokyo, Japan", "東京 🗼"),
    "Osaka": ("大阪", "大阪府", "Osaka", "大阪市"),
    "Sapporo": ("札幌", "札幌市", "Sapporo", "北海道"),
    "Madrid": ("Madrid", "Madrid, España", "MADRID", "📍Madrid"),
    "Ciudad de México": ("CDMX", "Ciudad de México", "Mexico City", "cdmx 🇲🇽"),
    "Buenos Aires": ("Buenos Aires, Argentina", "CABA", "Bs As", "buenos aires"),
    "Bogotá": ("Bogotá, Colombia", "Bogota", "Bogotá D.C.", "bogotá"),
    "São Paulo": ("São Paulo, Brasil", "Sampa", "São Paulo", "sao paulo", "SP"),
    "Rio de Janeiro": ("Rio de Janeiro", "Rio de Janeiro, Brasil", "RJ", "rio"),
    "Lisboa": ("Lisboa", "Lisboa, Portugal", "Lisbon", "lisboa 🇵🇹"),
    "Riyadh": ("الرياض", "Riyadh", "الرياض، السعودية", "Riyadh, KSA"),
    "Cairo": ("القاهرة", "Cairo, Egypt", "مصر", "القاهرة، مصر"),
    "Dubai": ("دبي", "Dubai, UAE", "Dubai 🇦🇪", "dubai"),
    "Seoul": ("서울", "Seoul, Korea", "서울특별시", "Seoul"),
    "Busan": ("부산", "Busan", "부산광역시", "Busan, South Korea"),
    "Bangkok": ("กรุงเทพฯ", "Bangkok, Thailand", "กทม", "Bangkok"),
    "Chiang Mai": ("เชียงใหม่", "Chiang Mai", "Chiang Mai, Thailand"),
    "Paris": ("Paris", "Paris, France", "Paris 🇫🇷", "paris"),
    "Montréal": ("Montréal", "Montreal, QC", "MTL", "Montréal, Québec"),
    "Dakar": ("Dakar, Sénégal", "Dakar", "dakar 🇸🇳"),
    "İstanbul": ("İstanbul", "Istanbul, Türkiye", "istanbul", "İstanbul, Türkiye"),
    "Ankara": ("Ankara", "Ankara, Türkiye", "ankara"),
    "Jakarta": ("Jakarta", "Jakarta, Indonesia", "DKI Jakarta", "JKT"),
    "Surabaya": ("Surabaya", "Surabaya, Jawa Timur", "surabaya"),
    "Moscow": ("Москва", "Moscow", "Москва, Россия", "мск"),
    "Saint Petersburg": ("Санкт-Петербург", "СПб", "Питер", "Saint Petersburg"),
    "Berlin": ("Berlin", "Berlin, Deutschland", "📍 Berlin", "berlin"),
    "München": ("München", "Munich", "München, Bayern", "muenchen"),
    "Wien": ("Wien", "Vienna, Austria", "Wien, Österreich", "wien"),
    "Roma": ("Roma", "Roma, Italia", "Rome", "roma"),
    "Milano": ("Milano", "Milan, Italy", "Milano, Lombardia", "milano"),
    "Delhi": ("New Delhi", "Delhi", "नई दिल्ली", "Delhi NCR"),
    "Mumbai": ("Mumbai", "मुंबई", "Mumbai, India", "Bombay"),
}

# A country alone, as people write it in the language (also a place, at country precision).
COUNTRY_FORMS: dict[str, tuple[str, ...]] = {
    "en": ("USA", "United Kingdom", "Nigeria", "Australia"),
    "ja": ("日本", "Japan"),
    "es": ("España", "México", "Argentina", "Colombia"),
    "pt": ("Brasil", "Portugal"),
    "ar": ("السعودية", "مصر", "الإمارات"),
    "ko": ("대한민국", "한국"),
    "th": ("ประเทศไทย", "Thailand"),
    "fr": ("France", "Sénégal", "Québec"),
    "tr": ("Türkiye",),
    "id": ("Indonesia",),
    "ru": ("Россия",),
    "de": ("Deutschland", "Österreich", "Schweiz"),
    "it": ("Italia",),
    "hi": ("भारत", "India"),
}

# Strings that name no place: jokes, pronouns, emoji, slogans, in many languages.
NON_PLACES: tuple[str, ...] = (
    "Earth",
    "worldwide",
    "planet earth 🌎",
    "she/her",
    "he/him",
    "they/them",
    "in your heart",
    "wherever the wifi is",
    "🌍",
    "✨🌙✨",
    "🏳️‍🌈",
    "Hogwarts",
    "my own little world",
    "somewhere over the rainbow",
    "404 not found",
    "the internet",
    "ask me",
    "here and there",
    "dreamland",
    "on a journey",
    "behind you 👀",
    "your mom's house",
    "Gotham City",
    "lost",
    "everywhere",
    "home",
    "Mars",
    "地球",
    "どこか遠く",
    "宇宙",
    "세상 어딘가",
    "อยู่บ้าน",
    "في قلبك",
    "dünya",
    "здесь и сейчас",
    "überall",
    "ovunque",
    "en todas partes",
    "no mundo da lua",
    "partout et nulle part",
    "di hatimu",
    "जहाँ दिल है",
)

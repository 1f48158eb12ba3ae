# ruff: noqa: RUF001  (the sentences are Cyrillic, Arabic, Thai...: look-alike letters are the point)
"""What the demo stream talks about: sentences, hashtags, cities and bios per language.

Written for tweetheat. Each sentence carries enough everyday function words for the stopword
detector to place it, the way real posts do; the script-based languages need only their script.
Hashtags are listed most popular first: the generator draws them with a Zipf-like skew.
"""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    lat: float
    lon: float


class LanguageCorpus(NamedTuple):
    share: float  # relative frequency in the stream
    sentences: tuple[str, ...]
    hashtags: tuple[str, ...]  # as people write them; stored lower-cased
    cities: tuple[City, ...]
    bio_lines: tuple[str, ...]  # a line in the language that users add to their bios


CORPUS: dict[str, LanguageCorpus] = {
    "en": LanguageCorpus(
        30.0,
        (
            "I can't believe how good the weather is today",
            "We are going to the game tonight with some of our friends",
            "This is the best coffee I have had in a very long time",
            "Does anyone know when the new episode is coming out?",
            "So proud of my team for all of their hard work this week",
            "Just finished reading a book that I could not put down",
            "What a day, I think I need to get some sleep now",
            "Thank you all for the support, it means so much to me",
            "If you are in town this weekend you should come and see us",
            "There is nothing better than a quiet morning with a good book",
        ),
        (
            "News",
            "Music",
            "NBA",
            "Football",
            "Love",
            "Art",
            "Travel",
            "Gaming",
            "TBT",
            "Photography",
            "Crypto",
            "Movies",
            "Fitness",
            "Tech",
            "Election2026",
            "Sunday",
        ),
        (
            City("New York", 40.7128, -74.006),
            City("London", 51.5074, -0.1278),
            City("Los Angeles", 34.0522, -118.2437),
            City("Sydney", -33.8688, 151.2093),
            City("Lagos", 6.5244, 3.3792),
        ),
        ("proud parent", "opinions are my own", "living my best life", "he/him"),
    ),
    "ja": LanguageCorpus(
        15.0,
        (
            "今日はとても良い天気ですね",
            "明日から仕事が始まるのが少し憂鬱です",
            "みんな応援ありがとうございます",
            "この曲を毎日聴いています",
            "今夜の試合は何時から始まるか知っている人いますか",
            "疲れたけど、すごく楽しかった",
            "新しいカフェに行ってきました。とても美味しかったです",
            "週末は家でゆっくり映画を見る予定です",
        ),
        (
            "拡散希望",
            "アニメ",
            "東京",
            "ラーメン",
            "野球",
            "猫",
            "今日の一枚",
            "ゲーム",
            "写真好きな人と繋がりたい",
            "音楽",
        ),
        (
            City("Tokyo", 35.6762, 139.6503),
            City("Osaka", 34.6937, 135.5023),
            City("Sapporo", 43.0618, 141.3545),
        ),
        ("よろしくお願いします", "無言フォロー失礼します", "日常をつぶやきます"),
    ),
    "es": LanguageCorpus(
        11.0,
        (
            "No puedo creer que ya sea viernes otra vez",
            "Hoy es un día muy bonito para salir con los amigos",
            "Me encanta esta canción, la escucho todos los días",
            "¿Alguien sabe a qué hora empieza el partido esta noche?",
            "Gracias a todos por estar siempre conmigo en las buenas y en las malas",
            "Estoy muy cansado pero feliz por lo que hicimos",
            "La vida es mejor cuando estás con tu familia y los tuyos",
            "Que alguien me explique por qué llueve tanto en esta ciudad",
        ),
        (
            "Fútbol",
            "Música",
            "LigaMX",
            "Noticias",
            "Viernes",
            "Amor",
            "Madrid",
            "Cine",
            "Feliz",
            "Política",
        ),
        (
            City("Madrid", 40.4168, -3.7038),
            City("Ciudad de México", 19.4326, -99.1332),
            City("Buenos Aires", -34.6037, -58.3816),
            City("Bogotá", 4.711, -74.0721),
        ),
        ("amante del café", "siempre con mi familia", "de todo un poco"),
    ),
    "pt": LanguageCorpus(
        7.0,
        (
            "Não acredito que já é sexta de novo",
            "Hoje eu vou ficar em casa com a minha família",
            "Essa música é muito boa, não paro de ouvir",
            "Alguém sabe se o jogo de hoje já começou? Eu não consegui ver",
            "Obrigado a todos pelo carinho, vocês são demais",
            "Estou com saudade de você e da nossa cidade",
            "A vida é muito curta para ficar triste por isso",
            "Eu não sei o que fazer com tanta coisa para estudar",
        ),
        ("Futebol", "BBB", "Música", "Flamengo", "SextaFeira", "Amor", "Brasil", "Novela"),
        (
            City("São Paulo", -23.5505, -46.6333),
            City("Rio de Janeiro", -22.9068, -43.1729),
            City("Lisboa", 38.7223, -9.1393),
        ),
        ("apaixonada por livros", "vivendo um dia de cada vez", "só mais um no mundo"),
    ),
    "ar": LanguageCorpus(
        6.0,
        (
            "لا أصدق أن اليوم هو الجمعة مرة أخرى",
            "الجو جميل جدا في هذا اليوم وسوف نخرج إلى الحديقة",
            "شكرا لكل من وقف معي في هذه الأيام",
            "هل يعرف أحد متى تبدأ المباراة في هذه الليلة",
            "أنا متعب جدا ولكن سعيد بما حققناه في هذا العام",
            "هذه أفضل قهوة شربتها منذ وقت طويل",
            "نحن في الطريق إلى البيت بعد يوم طويل",
            "الحياة أجمل عندما نكون معا في كل مكان",
        ),
        ("السعودية", "الرياض", "كرة_القدم", "رمضان", "مصر", "دبي", "عاجل", "الهلال"),
        (
            City("Riyadh", 24.7136, 46.6753),
            City("Cairo", 30.0444, 31.2357),
            City("Dubai", 25.2048, 55.2708),
        ),
        ("الحمد لله دائما", "محب للقراءة", "من هنا وهناك"),
    ),
    "ko": LanguageCorpus(
        5.0,
        (
            "오늘 날씨가 정말 좋네요",
            "내일부터 다시 일을 시작해야 해요",
            "응원해 주셔서 정말 감사합니다",
            "이 노래를 매일 듣고 있어요",
            "오늘 밤 경기 몇 시에 시작하는지 아시는 분",
            "피곤하지만 정말 즐거운 하루였어요",
        ),
        ("BTS", "방탄소년단", "서울", "KPOP", "오늘의일상", "먹스타그램", "축구"),
        (City("Seoul", 37.5665, 126.978), City("Busan", 35.1796, 129.0756)),
        ("일상 계정입니다", "무언팔 환영", "음악을 사랑해요"),
    ),
    "th": LanguageCorpus(
        4.0,
        (
            "วันนี้อากาศดีมากเลย",
            "ขอบคุณทุกคนที่ให้กำลังใจนะคะ",
            "เพลงนี้เพราะมาก ฟังทุกวันเลย",
            "คืนนี้บอลเตะกี่โมงมีใครรู้บ้าง",
            "เหนื่อยมากแต่ก็มีความสุข",
            "กำลังกลับบ้านหลังจากวันที่ยาวนาน",
        ),
        ("ไทย", "กรุงเทพ", "ฟุตบอล", "ละคร", "อาหารไทย", "เที่ยว"),
        (City("Bangkok", 13.7563, 100.5018), City("Chiang Mai", 18.7883, 98.9853)),
        ("ชอบฟังเพลง", "รักแมว", "ติดตามกันได้นะ"),
    ),
    "fr": LanguageCorpus(
        4.0,
        (
            "Je ne sais pas ce que je vais faire ce week-end",
            "C'est vraiment une belle journée pour aller au parc",
            "Merci à tous pour vos messages, ça me touche beaucoup",
            "Quelqu'un sait à quelle heure commence le match ce soir ?",
            "Il fait tellement froid que je reste chez moi",
            "On a passé une soirée incroyable avec les amis",
            "Je suis trop fatigué mais tellement content de vous voir",
            "La vie est plus belle quand on est ensemble",
        ),
        ("Foot", "Paris", "Musique", "OM", "Politique", "Cinéma", "Vendredi", "Rugby"),
        (
            City("Paris", 48.8566, 2.3522),
            City("Montréal", 45.5017, -73.5673),
            City("Dakar", 14.7167, -17.4677),
        ),
        ("passionné de musique", "amoureuse des chats", "je dis ce que je pense"),
    ),
    "tr": LanguageCorpus(
        3.0,
        (
            "Bugün hava çok güzel, belki biraz dışarı çıkacağım",
            "Bu şarkıyı her gün dinliyorum ve hiç bıkmadım",
            "Herkese çok teşekkür ederim, siz de hep yanımdaydınız",
            "Maç bu akşam saat kaçta başlıyor, bilen var mı?",
            "Çok yorgunum ama yine de mutluyum",
            "Ne yapacağımı bilmiyorum, belki de eve giderim",
            "Hayat bazen çok zor ama biz de güçlüyüz",
        ),
        ("Galatasaray", "Fenerbahçe", "İstanbul", "Müzik", "Gündem", "Futbol"),
        (City("İstanbul", 41.0082, 28.9784), City("Ankara", 39.9334, 32.8597)),
        ("kitap kurdu", "hayat güzel", "bir gün her şey olacak"),
    ),
    "id": LanguageCorpus(
        3.0,
        (
            "Aku tidak percaya sudah hari Jumat lagi",
            "Hari ini cuacanya sangat bagus untuk jalan-jalan dengan teman",
            "Terima kasih untuk semua yang sudah mendukung saya",
            "Ada yang tahu jam berapa pertandingan dimulai nanti malam?",
            "Saya sangat lelah tapi juga senang sekali",
            "Ini adalah kopi terbaik yang pernah saya minum",
            "Kami sedang dalam perjalanan pulang ke rumah",
            "Hidup ini lebih indah kalau kita bersama",
        ),
        ("Indonesia", "Jakarta", "Sepakbola", "Musik", "Kuliner", "Liburan"),
        (City("Jakarta", -6.2088, 106.8456), City("Surabaya", -7.2575, 112.7521)),
        ("pecinta kopi", "hidup adalah perjalanan", "anak rantau"),
    ),
    "ru": LanguageCorpus(
        2.0,
        (
            "Не могу поверить, что уже снова пятница",
            "Сегодня такая хорошая погода, и мы пойдём гулять в парк",
            "Спасибо всем за поддержку, это очень важно для меня",
            "Кто-нибудь знает, во сколько начинается матч сегодня?",
            "Я так устал, но очень счастлив",
            "Это был самый вкусный кофе, который я когда-либо пил",
            "Мы уже едем домой после долгого дня",
            "Жизнь лучше, когда мы все вместе",
        ),
        ("Москва", "Футбол", "Музыка", "Новости", "Россия", "Кино"),
        (City("Moscow", 55.7558, 37.6173), City("Saint Petersburg", 59.9311, 30.3609)),
        ("люблю путешествовать", "всё будет хорошо", "просто живу"),
    ),
    "de": LanguageCorpus(
        2.0,
        (
            "Ich kann nicht glauben, dass schon wieder Freitag ist",
            "Heute ist so ein schöner Tag, wir gehen in den Park",
            "Danke an alle für die lieben Nachrichten",
            "Weiß jemand von euch, wann das Spiel heute Abend beginnt?",
            "Ich bin so müde, aber auch sehr glücklich",
            "Das war der beste Kaffee, den ich seit langem hatte",
            "Wir sind gerade auf dem Weg nach Hause",
            "Es regnet schon wieder und ich habe keinen Schirm dabei",
        ),
        ("Bundesliga", "Berlin", "Musik", "Tatort", "Fußball", "Politik"),
        (
            City("Berlin", 52.52, 13.405),
            City("München", 48.1351, 11.582),
            City("Wien", 48.2082, 16.3738),
        ),
        ("Kaffee und Bücher", "hier privat", "immer unterwegs"),
    ),
    "it": LanguageCorpus(
        1.5,
        (
            "Non ci posso credere che è già venerdì",
            "Oggi è una bella giornata per uscire con gli amici",
            "Grazie a tutti per i messaggi, siete fantastici",
            "Qualcuno sa a che ora inizia la partita stasera?",
            "Sono stanchissimo ma sono molto felice",
            "Questo è il caffè più buono che abbia mai bevuto",
            "Stiamo tornando a casa dopo una lunga giornata",
            "La vita è più bella quando siamo insieme",
        ),
        ("SerieA", "Roma", "Musica", "Calcio", "Sanremo", "Cucina"),
        (City("Roma", 41.9028, 12.4964), City("Milano", 45.4642, 9.19)),
        ("amante della pizza", "sempre in viaggio", "qui per caso"),
    ),
    "hi": LanguageCorpus(
        1.5,
        (
            "आज मौसम बहुत अच्छा है",
            "सभी का धन्यवाद, आप लोग बहुत अच्छे हैं",
            "यह गाना मैं हर दिन सुनता हूँ",
            "आज रात मैच कितने बजे शुरू होगा",
            "बहुत थक गया हूँ लेकिन खुश हूँ",
        ),
        ("क्रिकेट", "भारत", "बॉलीवुड", "दिल्ली", "संगीत"),
        (City("Delhi", 28.7041, 77.1025), City("Mumbai", 19.076, 72.8777)),
        ("संगीत प्रेमी", "जय हिंद", "दिल से"),
    ),
}

# Bios are about something: a topic gives users shared vocabulary across languages, which is
# what the bio clustering looks for.
BIO_TOPICS: dict[str, tuple[str, ...]] = {
    "music": (
        "musician",
        "songwriter",
        "guitar",
        "producer",
        "live music",
        "vinyl collector",
        "concerts",
    ),
    "sport": ("football fan", "runner", "season ticket holder", "marathon", "basketball", "gym"),
    "tech": (
        "software engineer",
        "python developer",
        "open source",
        "startup founder",
        "data science",
        "cloud",
    ),
    "food": ("food blogger", "home cook", "coffee addict", "baker", "recipes", "chef"),
    "politics": (
        "journalist",
        "policy nerd",
        "news junkie",
        "activist",
        "human rights",
        "reporter",
    ),
    "art": (
        "illustrator",
        "photographer",
        "painter",
        "digital art",
        "commissions open",
        "designer",
    ),
    "gaming": ("gamer", "twitch streamer", "esports", "speedrunner", "retro games", "cosplay"),
}

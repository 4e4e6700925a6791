"""What the benchmark fixture (bench/fixture.py) draws from: the words of its campaigns, needs,
updates and messages in four languages, and the amounts, currencies and categories it picks."""

DAY = 86400.0
LANGUAGES = ("en", "ru", "be", "pl")
OTHER_LANGUAGES = ("ru", "be", "pl")
CATEGORIES = ("political_prisoner", "family", "relocation", "medical", "legal_aid", "other")
# (currency, weight, scale of amounts: PLN gifts are about four times the euro figures)
CURRENCIES = (("EUR", 80, 1), ("PLN", 12, 4), ("USD", 8, 1))
PROVIDERS = ("demo", "bank")
GIFTS = (500, 1000, 1000, 1500, 2000, 2500, 2500, 3000, 5000, 5000, 7500, 10000, 20000, 50000)
NEED_AMOUNTS = (30000, 50000, 80000, 100000, 150000, 200000, 300000, 500000)
BANK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

NAMES = (
    {"en": "Pavel", "ru": "Павел", "be": "Павел", "pl": "Paweł"},
    {"en": "Olga", "ru": "Ольга", "be": "Вольга", "pl": "Olga"},
    {"en": "Andrei", "ru": "Андрей", "be": "Андрэй", "pl": "Andrzej"},
    {"en": "Maria", "ru": "Мария", "be": "Марыя", "pl": "Maria"},
    {"en": "Ihar", "ru": "Игорь", "be": "Ігар", "pl": "Igor"},
    {"en": "Natalia", "ru": "Наталья", "be": "Наталля", "pl": "Natalia"},
    {"en": "Siarhei", "ru": "Сергей", "be": "Сяргей", "pl": "Siergiej"},
    {"en": "Alena", "ru": "Елена", "be": "Алена", "pl": "Helena"},
    {"en": "Dzmitry", "ru": "Дмитрий", "be": "Дзмітрый", "pl": "Dmitrij"},
    {"en": "Hanna", "ru": "Анна", "be": "Ганна", "pl": "Anna"},
    {"en": "Mikalai", "ru": "Николай", "be": "Мікалай", "pl": "Mikołaj"},
    {"en": "Volha", "ru": "Ольга", "be": "Вольга", "pl": "Olga"},
)
INITIALS = (
    {"en": "K.", "ru": "К.", "be": "К.", "pl": "K."},
    {"en": "S.", "ru": "С.", "be": "С.", "pl": "S."},
    {"en": "M.", "ru": "М.", "be": "М.", "pl": "M."},
    {"en": "B.", "ru": "Б.", "be": "Б.", "pl": "B."},
)
TITLES = (
    {
        "en": "{name}: a new start after prison",
        "ru": "{name}: новая жизнь после тюрьмы",
        "be": "{name}: новае жыццё пасля турмы",
        "pl": "{name}: nowy start po więzieniu",
    },
    {
        "en": "{name}: bringing the family together",
        "ru": "{name}: воссоединить семью",
        "be": "{name}: сабраць сям'ю разам",
        "pl": "{name}: połączyć rodzinę",
    },
    {
        "en": "{name}: a lawyer for the appeal",
        "ru": "{name}: адвокат для апелляции",
        "be": "{name}: адвакат для апеляцыі",
        "pl": "{name}: adwokat do apelacji",
    },
    {
        "en": "{name}: treatment after the colony",
        "ru": "{name}: лечение после колонии",
        "be": "{name}: лячэнне пасля калоніі",
        "pl": "{name}: leczenie po kolonii karnej",
    },
    {
        "en": "{name}: parcels and letters",
        "ru": "{name}: передачи и письма",
        "be": "{name}: перадачы і лісты",
        "pl": "{name}: paczki i listy",
    },
)
SUMMARIES = (
    {
        "en": "Released after years behind bars, {name} had to leave the country and needs help to settle.",
        "ru": "После лет заключения {name} пришлось уехать из страны, и теперь нужна помощь, чтобы обустроиться.",
        "be": "Пасля гадоў зняволення {name} давялося з'ехаць з краіны, і цяпер патрэбна дапамога, каб уладкавацца.",
        "pl": "Po latach za kratami {name} musi wyjechać z kraju i potrzebuje pomocy, by zacząć od nowa.",
    },
    {
        "en": "The family of a political prisoner needs rent, food and school things this winter.",
        "ru": "Семье политзаключённого этой зимой нужны деньги на аренду, еду и школьные вещи.",
        "be": "Сям'і палітвязня гэтай зімой патрэбныя грошы на арэнду, ежу і школьныя рэчы.",
        "pl": "Rodzina więźnia politycznego potrzebuje tej zimy pieniędzy na czynsz, jedzenie i rzeczy do szkoły.",
    },
    {
        "en": "Medical care that was refused in the colony, now possible abroad.",
        "ru": "Лечение, в котором отказывали в колонии, теперь возможно за границей.",
        "be": "Лячэнне, у якім адмаўлялі ў калоніі, цяпер магчымае за мяжой.",
        "pl": "Leczenie, którego odmawiano w kolonii karnej, jest teraz możliwe za granicą.",
    },
)
PARAGRAPHS = (
    {
        "en": "{name} grew up in a small town and worked at a furniture workshop before the events of 2020.",
        "ru": "{name} вырос в небольшом городе и до событий 2020 года работал в столярной мастерской.",
        "be": "{name} вырас у невялікім горадзе і да падзей 2020 года працаваў у сталярнай майстэрні.",
        "pl": "{name} dorastał w małym mieście i przed wydarzeniami 2020 roku pracował w stolarni.",
    },
    {
        "en": "After the election, {name} went to a peaceful protest with neighbours and was detained a week later.",
        "ru": "После выборов {name} вышел с соседями на мирный протест и через неделю был задержан.",
        "be": "Пасля выбараў {name} выйшаў з суседзямі на мірны пратэст і праз тыдзень быў затрыманы.",
        "pl": "Po wyborach {name} wyszedł z sąsiadami na pokojowy protest i tydzień później został zatrzymany.",
    },
    {
        "en": "The court gave three years in a penal colony for **taking part in mass riots**.",
        "ru": "Суд дал три года колонии за **участие в массовых беспорядках**.",
        "be": "Суд даў тры гады калоніі за **ўдзел у масавых беспарадках**.",
        "pl": "Sąd skazał na trzy lata kolonii karnej za **udział w masowych zamieszkach**.",
    },
    {
        "en": "In the colony political prisoners are treated worse than anyone else, and health suffers.",
        "ru": "В колонии с политическими обращаются хуже, чем с остальными, и здоровье страдает.",
        "be": "У калоніі з палітычнымі абыходзяцца горш, чым з астатнімі, і здароўе пакутуе.",
        "pl": "W kolonii więźniowie polityczni są traktowani gorzej niż inni i cierpi na tym zdrowie.",
    },
    {
        "en": "After release the pressure did not stop, and the family had to leave for Poland.",
        "ru": "После освобождения давление не прекратилось, и семье пришлось уехать в Польшу.",
        "be": "Пасля вызвалення ціск не спыніўся, і сям'і давялося з'ехаць у Польшчу.",
        "pl": "Po wyjściu na wolność nacisk nie ustał i rodzina musiała wyjechać do Polski.",
    },
    {
        "en": "Your help pays for the first months: a room, documents, a doctor and a lawyer.",
        "ru": "Ваша помощь оплатит первые месяцы: комнату, документы, врача и юриста.",
        "be": "Ваша дапамога аплаціць першыя месяцы: пакой, дакументы, лекара і юрыста.",
        "pl": "Twoja pomoc opłaci pierwsze miesiące: pokój, dokumenty, lekarza i prawnika.",
    },
)
LOCATIONS = (
    {"en": "Poland", "ru": "Польша", "be": "Польшча", "pl": "Polska"},
    {"en": "Lithuania", "ru": "Литва", "be": "Літва", "pl": "Litwa"},
    {"en": "Georgia", "ru": "Грузия", "be": "Грузія", "pl": "Gruzja"},
    {"en": "", "ru": "", "be": "", "pl": ""},
)
NEEDS = (
    {
        "en": "Rent for the first three months",
        "ru": "Аренда на первые три месяца",
        "be": "Арэнда на першыя тры месяцы",
        "pl": "Czynsz za pierwsze trzy miesiące",
    },
    {"en": "Lawyer's fees", "ru": "Услуги адвоката", "be": "Паслугі адваката", "pl": "Honorarium adwokata"},
    {"en": "Medical treatment", "ru": "Лечение", "be": "Лячэнне", "pl": "Leczenie"},
    {"en": "Visa and documents", "ru": "Виза и документы", "be": "Віза і дакументы", "pl": "Wiza i dokumenty"},
    {"en": "Warm clothes", "ru": "Тёплая одежда", "be": "Цёплае адзенне", "pl": "Ciepłe ubrania"},
    {"en": "Parcels to the colony", "ru": "Передачи в колонию", "be": "Перадачы ў калонію", "pl": "Paczki do kolonii"},
    {"en": "Travel to join the family", "ru": "Дорога к семье", "be": "Дарога да сям'і", "pl": "Podróż do rodziny"},
    {"en": "Language course", "ru": "Языковые курсы", "be": "Моўныя курсы", "pl": "Kurs językowy"},
)
UPDATES = (
    {
        "en": ("Thank you", "The first need is covered. Thank you for your support."),
        "ru": ("Спасибо", "Первая потребность закрыта. Спасибо за поддержку."),
        "be": ("Дзякуй", "Першая патрэба закрытая. Дзякуй за падтрымку."),
        "pl": ("Dziękujemy", "Pierwsza potrzeba jest pokryta. Dziękujemy za wsparcie."),
    },
    {
        "en": ("News from the lawyer", "The appeal has been filed; we will write when there is a date."),
        "ru": ("Новости от адвоката", "Апелляция подана; напишем, когда будет дата."),
        "be": ("Навіны ад адваката", "Апеляцыя пададзеная; напішам, калі будзе дата."),
        "pl": ("Wieści od adwokata", "Apelacja została złożona; napiszemy, gdy będzie termin."),
    },
)
MESSAGES = {
    "en": ("Stay strong!", "You are not alone.", "With love from Vilnius.", "Hold on, freedom is near."),
    "ru": ("Держитесь!", "Вы не одни.", "С любовью из Вильнюса.", "Свобода близко."),
    "be": ("Трымайцеся!", "Вы не адны.", "З любоўю з Вільні.", "Жыве Беларусь!"),
    "pl": ("Trzymajcie się!", "Nie jesteście sami.", "Z pozdrowieniami z Warszawy.", "Wolność jest blisko."),
}
PUBLIC_NAMES = ("Anna", "Tomasz", "Ales", "Kasia", "Jan", "Ira", "Maks", "Lena", "Piotr", "Uladzimir")

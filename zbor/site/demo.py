"""Demo content for `make run`: campaigns across categories and states, written for Zbor.

The main campaign follows the structure and figures of a real foundation's page (a former
political prisoner reuniting with his family; €2,000 in three needs, €683 collected), told
in new words under a pseudonym. Amounts are minor units.
"""

from typing import NotRequired, TypedDict

from zbor.site.demo_funds import FAMILIES_FUND, FUNDS
from zbor.site.demo_texts import STORY_BE, STORY_EN, STORY_PL, STORY_RU


class BeneficiarySpec(TypedDict):
    reference: str
    pseudonym: bool
    names: dict[str, str]


class CampaignSpec(TypedDict):
    slug: str
    #: None for a programme fund.
    beneficiary: NotRequired[BeneficiarySpec]
    #: "personal" (the default) or "fund".
    kind: NotRequired[str]
    #: A fund's yearly target, minor units.
    yearly_target: NotRequired[int]
    #: The slug of the fund monthly gifts go to once this campaign closes (a fund listed before it).
    monthly_fund: NotRequired[str]
    category: str
    currency: str
    original_language: str
    status: str
    days_ago: int
    #: language -> {"title", "summary", "location", "story"}
    translations: dict[str, dict[str, str]]
    #: (amount, language -> description)
    needs: list[tuple[int, dict[str, str]]]
    #: (amount, index of the earmarked need or None)
    donations: list[tuple[int, int | None]]
    #: Monthly supporters' amounts (minor units): each gift started with its first month paid.
    monthly: NotRequired[list[int]]
    #: (days ago, language -> (title, body))
    updates: list[tuple[int, dict[str, tuple[str, str]]]]
    #: (need index, amount, channel, days ago)
    payouts: NotRequired[list[tuple[int, int, str, int]]]


# The funds first: the flagship names one.
CAMPAIGNS: list[CampaignSpec] = [
    *FUNDS,
    {
        "slug": "from-prison-to-family",
        "monthly_fund": FAMILIES_FUND,
        "beneficiary": {
            "reference": "B-0001",
            "pseudonym": True,
            "names": {"en": "Pavel M.", "ru": "Павел М.", "be": "Павел М.", "pl": "Paweł M."},
        },
        "category": "relocation",
        "currency": "EUR",
        "original_language": "en",
        "status": "published",
        "days_ago": 12,
        "translations": {
            "en": {
                "title": "From prison to family: help a former political prisoner reach his wife",
                "summary": "Pavel spent three years in a penal colony for going to a protest. Now he waits in Georgia for a visa to join his wife in Poland.",
                "location": "Georgia",
                "story": STORY_EN,
            },
            "ru": {
                "title": "Из тюрьмы к семье: помогите бывшему политзаключённому добраться до жены",
                "summary": "Павел провёл три года в колонии за участие в протесте. Сейчас он ждёт в Грузии визу, чтобы приехать к жене в Польшу.",
                "location": "Грузия",
                "story": STORY_RU,
            },
            "be": {
                "title": "З турмы да сям’і: дапамажыце былому палітвязню дабрацца да жонкі",
                "summary": "Павел правёў тры гады ў калоніі за ўдзел у пратэсце. Цяпер ён чакае ў Грузіі візу, каб прыехаць да жонкі ў Польшчу.",
                "location": "Грузія",
                "story": STORY_BE,
            },
            "pl": {
                "title": "Z więzienia do rodziny: pomóż byłemu więźniowi politycznemu dotrzeć do żony",
                "summary": "Paweł spędził trzy lata w kolonii karnej za udział w proteście. Teraz czeka w Gruzji na wizę, by dołączyć do żony w Polsce.",
                "location": "Gruzja",
                "story": STORY_PL,
            },
        },
        "needs": [
            (
                50000,
                {
                    "en": "A safety net while I wait in Georgia for the visa: I can only find part-time work here, and the wait may be long.",
                    "ru": "Подушка безопасности, пока я жду визу в Грузии: здесь я могу найти только подработку, а ожидание может затянуться.",
                    "be": "Падушка бяспекі, пакуль я чакаю візу ў Грузіі: тут я магу знайсці толькі падпрацоўку, а чаканне можа зацягнуцца.",
                    "pl": "Zabezpieczenie na czas oczekiwania na wizę w Gruzji: mogę tu znaleźć tylko dorywczą pracę, a czekanie może się przeciągnąć.",
                },
            ),
            (
                50000,
                {
                    "en": "Warm clothes and shoes for autumn and winter: I left with almost nothing.",
                    "ru": "Тёплая одежда и обувь на осень и зиму: я уехал почти ни с чем.",
                    "be": "Цёплая вопратка і абутак на восень і зіму: я з’ехаў амаль ні з чым.",
                    "pl": "Ciepłe ubrania i buty na jesień i zimę: wyjechałem prawie z niczym.",
                },
            ),
            (
                100000,
                {
                    "en": "The first months in Poland: rent, transport and food until I find work.",
                    "ru": "Первые месяцы в Польше: жильё, транспорт и еда, пока я не найду работу.",
                    "be": "Першыя месяцы ў Польшчы: жыллё, транспарт і ежа, пакуль я не знайду працу.",
                    "pl": "Pierwsze miesiące w Polsce: mieszkanie, transport i jedzenie, dopóki nie znajdę pracy.",
                },
            ),
        ],
        # (amount, index of the earmarked need or None): 683.00 in all.
        "donations": [(20000, None), (10000, 1), (5000, None), (2500, None), (25000, None), (5800, None)],
        "updates": [
            (
                5,
                {
                    "en": (
                        "The visa appointment is booked",
                        "Pavel has an appointment at the consulate next month. Thank you to everyone who has given so far: the safety net is already covered.",
                    ),
                    "ru": (
                        "Запись в консульство получена",
                        "Павел записан в консульство на следующий месяц. Спасибо всем, кто уже помог: подушка безопасности собрана.",
                    ),
                    "be": (
                        "Запіс у консульства атрыманы",
                        "Павел запісаны ў консульства на наступны месяц. Дзякуй усім, хто ўжо дапамог: падушка бяспекі сабраная.",
                    ),
                    "pl": (
                        "Termin w konsulacie jest już wyznaczony",
                        "Paweł ma wizytę w konsulacie w przyszłym miesiącu. Dziękujemy wszystkim, którzy już pomogli: zabezpieczenie na czas oczekiwania jest zebrane.",
                    ),
                },
            ),
        ],
    },
    {
        "slug": "winter-for-three-children",
        "beneficiary": {
            "reference": "B-0002",
            "pseudonym": True,
            "names": {
                "en": "The family of Alena K.",
                "ru": "Семья Алёны К.",
                "be": "Сям’я Алены К.",
                "pl": "Rodzina Aleny K.",
            },
        },
        "category": "family",
        "currency": "EUR",
        "original_language": "en",
        "status": "published",
        "days_ago": 20,
        "translations": {
            "en": {
                "title": "A warm winter for three children whose father is in prison",
                "summary": "Their father is serving a long sentence for his words. Their mother works two jobs; the children need winter clothes and school things.",
                "location": "Belarus",
                "story": "Alena's husband was arrested for comments he wrote online and sentenced to six years. She is raising their three children alone and working two jobs.\n\nThe oldest starts secondary school this year; the youngest has outgrown every coat in the house. The family cannot ask for help openly, so the foundation raises it for them.\n\nAll help reaches the family through people the foundation trusts, in a way that does not expose them.",
            },
            "ru": {
                "title": "Тёплая зима для троих детей, чей отец в заключении",
                "summary": "Их отец отбывает долгий срок за свои слова. Мама работает на двух работах; детям нужны зимняя одежда и всё для школы.",
                "location": "Беларусь",
                "story": "Мужа Алёны задержали за комментарии в интернете и приговорили к шести годам. Она одна растит троих детей и работает на двух работах.\n\nСтарший в этом году идёт в среднюю школу, младший вырос из всех курток в доме. Семья не может открыто просить о помощи, поэтому фонд собирает её за них.\n\nВся помощь доходит до семьи через людей, которым фонд доверяет, и так, чтобы никого не подставить.",
            },
        },
        "needs": [
            (
                60000,
                {
                    "en": "Winter coats, boots and hats for three children.",
                    "ru": "Зимние куртки, ботинки и шапки для троих детей.",
                },
            ),
            (
                40000,
                {
                    "en": "School bags, books and stationery for the school year.",
                    "ru": "Рюкзаки, учебники и канцелярия на учебный год.",
                },
            ),
            (
                30000,
                {"en": "Heating bills for the coldest months.", "ru": "Счета за отопление в самые холодные месяцы."},
            ),
        ],
        "donations": [(15000, 0), (10000, None), (7500, None), (9000, 1)],
        "updates": [],
    },
    {
        "slug": "lawyer-for-an-appeal",
        "beneficiary": {
            "reference": "B-0003",
            "pseudonym": True,
            "names": {"en": "Ihar S.", "ru": "Игорь С.", "be": "Ігар С.", "pl": "Ihar S."},
        },
        "category": "legal_aid",
        "currency": "EUR",
        "original_language": "en",
        "status": "funded",
        "days_ago": 45,
        "translations": {
            "en": {
                "title": "A lawyer for an appeal",
                "summary": "A lawyer's fees so that a detained journalist has a defence at his appeal hearing.",
                "location": "Belarus",
                "story": "Ihar is a journalist who was detained after covering a trial. His family found a lawyer willing to take the case, but cannot pay the fees.\n\nThe foundation pays the lawyer directly, against invoices it checks.",
            },
            "ru": {
                "title": "Адвокат для апелляции",
                "summary": "Гонорар адвоката, чтобы у задержанного журналиста была защита на апелляционном заседании.",
                "location": "Беларусь",
                "story": "Игорь — журналист, его задержали после того, как он написал о судебном процессе. Семья нашла адвоката, готового взяться за дело, но оплатить его работу не может.\n\nФонд платит адвокату напрямую, по счетам, которые сам проверяет.",
            },
        },
        "needs": [
            (
                150000,
                {
                    "en": "The lawyer's fees for preparing and arguing the appeal.",
                    "ru": "Гонорар адвоката за подготовку апелляции и защиту в заседании.",
                },
            )
        ],
        "donations": [(50000, None), (40000, None), (35000, None), (25000, None)],
        # (need index, amount, channel, days ago): paid with a checked receipt.
        "payouts": [(0, 100000, "bank_abroad", 20), (0, 50000, "bank_abroad", 6)],
        "updates": [],
    },
    {
        "slug": "dental-care-after-release",
        "beneficiary": {
            "reference": "B-0004",
            "pseudonym": False,
            "names": {"en": "Maryna", "ru": "Марина", "be": "Марына", "pl": "Maryna"},
        },
        "category": "medical",
        "currency": "PLN",
        "original_language": "en",
        "status": "closed",
        "days_ago": 120,
        "translations": {
            "en": {
                "title": "Dental treatment after two years in a women's colony",
                "summary": "Two years without proper care left Maryna needing urgent dental treatment in Warsaw.",
                "location": "Poland",
                "story": "In the colony, dental care meant a tooth pulled without anaesthetic. After her release Maryna moved to Warsaw, where a clinic agreed to treat her at cost.\n\nThe treatment is finished. Thank you to everyone who helped.",
            },
            "ru": {
                "title": "Лечение зубов после двух лет в женской колонии",
                "summary": "Два года без нормальной медицинской помощи — и Марине понадобилось срочное лечение зубов в Варшаве.",
                "location": "Польша",
                "story": "В колонии лечить зубы означало вырвать зуб без обезболивания. Выйдя на свободу, Марина переехала в Варшаву, где клиника согласилась лечить её по себестоимости.\n\nЛечение закончено. Спасибо всем, кто помог.",
            },
        },
        "needs": [
            (
                250000,
                {"en": "The treatment plan agreed with the clinic.", "ru": "План лечения, согласованный с клиникой."},
            ),
            (60000, {"en": "Follow-up visits and medicines.", "ru": "Повторные визиты и лекарства."}),
        ],
        "donations": [(200000, None), (110000, None)],
        # Paid to the clinic against its invoices: the plan, then the follow-up.
        "payouts": [(0, 250000, "bank_abroad", 70), (1, 60000, "bank_abroad", 40)],
        "updates": [],
    },
    {
        "slug": "parcels-to-a-penal-colony",
        "beneficiary": {
            "reference": "B-0005",
            "pseudonym": True,
            "names": {"en": "Siarhei", "ru": "Сергей", "be": "Сяргей", "pl": "Siarhiej"},
        },
        "category": "political_prisoner",
        "currency": "EUR",
        "original_language": "en",
        "status": "published",
        "days_ago": 3,
        "translations": {
            "en": {
                "title": "Parcels and letters for a prisoner in a penal colony",
                "summary": "Food parcels, warm underwear and stamped envelopes for a political prisoner with no family left outside.",
                "location": "Belarus",
                "story": "Siarhei has no relatives left who can send him parcels. The rules allow a few parcels a year; each one must be packed exactly to the colony's list.\n\nVolunteers pack and send them; the foundation pays for what goes inside.\n\n[[note:shizo]]\n\nHe has been in the SHIZO twice this year, which is when a parcel that arrives afterwards matters most.",
            },
            "ru": {
                "title": "Передачи и письма для заключённого в колонии",
                "summary": "Продуктовые передачи, тёплое бельё и конверты с марками для политзаключённого, у которого на воле не осталось родных.",
                "location": "Беларусь",
                "story": "У Сергея не осталось родственников, которые могли бы отправлять ему передачи. Правила разрешают несколько передач в год, и каждую нужно собрать точно по списку колонии.\n\nВолонтёры собирают и отправляют передачи, фонд оплачивает то, что в них лежит.\n\n[[note:shizo]]\n\nВ этом году он дважды побывал в ШИЗО, а передача, которая приходит после этого, значит больше всего.",
            },
        },
        "needs": [
            (24000, {"en": "Four food parcels over the year.", "ru": "Четыре продуктовые передачи за год."}),
            (8000, {"en": "Warm underwear and socks.", "ru": "Тёплое бельё и носки."}),
            (
                3000,
                {
                    "en": "Envelopes and stamps so he can write back.",
                    "ru": "Конверты и марки, чтобы он мог отвечать на письма.",
                },
            ),
        ],
        "donations": [(3000, 2)],
        "updates": [],
    },
    {
        "slug": "first-months-in-lithuania",
        "beneficiary": {
            "reference": "B-0006",
            "pseudonym": True,
            "names": {
                "en": "Volha and her son",
                "ru": "Ольга и её сын",
                "be": "Вольга і яе сын",
                "pl": "Wolha i jej syn",
            },
        },
        "category": "relocation",
        "currency": "EUR",
        "original_language": "en",
        "status": "draft",
        "days_ago": 0,
        "translations": {
            "en": {
                "title": "First months in Lithuania for a mother and her son",
                "summary": "A draft: still being checked by the foundation.",
                "location": "Lithuania",
                "story": "This campaign is still a draft and must never be visible to the public.",
            },
            "ru": {
                "title": "Первые месяцы в Литве для мамы с сыном",
                "summary": "Черновик: фонд ещё проверяет этот сбор.",
                "location": "Литва",
                "story": "Этот сбор — ещё черновик, и посетители сайта не должны его видеть никогда.",
            },
        },
        "needs": [
            (
                120000,
                {"en": "Rent and deposit for the first three months.", "ru": "Аренда и залог за первые три месяца."},
            )
        ],
        "donations": [],
        "updates": [],
    },
]

DEMO_STAFF_USERNAME = "demo"
# Publishing and paying out need a second person: the demo has two logins.
DEMO_REVIEWER_USERNAME = "demo-reviewer"
DEMO_STAFF_PASSWORD = "zbor-demo-only"  # noqa: S105 - the demo login, refused in production

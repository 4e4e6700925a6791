"""The demo's programme funds (zbor.site.demo): open-ended, no beneficiary, no end date.

Loaded before the personal campaigns, so that the flagship can name the families fund as the
place its monthly gifts go once it closes. Texts in Zbor's own words."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zbor.site.demo import CampaignSpec

FAMILIES_FUND = "families-of-political-prisoners"

FUNDS: list[CampaignSpec] = [
    {
        "slug": FAMILIES_FUND,
        "kind": "fund",
        # €12,000 a year: about a thousand euros a month for the families the fund looks after.
        "yearly_target": 1200000,
        "category": "family",
        "currency": "EUR",
        "original_language": "en",
        "status": "published",
        "days_ago": 60,
        "translations": {
            "en": {
                "title": "Families of political prisoners",
                "summary": "A standing fund for the wives, husbands, children and parents left outside: rent, food, school things and trips to visits.",
                "location": "",
                "story": "When someone is jailed for their views, the family pays too: one income is gone, lawyers and parcels cost money, and a trip to a distant colony for a visit can take a month's pay.\n\nThis fund helps those families month after month, whatever the news: rent that is due, a child's winter boots, the train ticket to a long visit. The foundation decides with each family what helps most and pays the bills directly where it can.\n\nIt never closes. A monthly gift here is the steadiest help there is.",
            },
            "ru": {
                "title": "Семьи политзаключённых",
                "summary": "Постоянный фонд для жён, мужей, детей и родителей, оставшихся на воле: аренда, еда, всё для школы и поездки на свидания.",
                "location": "",
                "story": "Когда человека сажают за взгляды, расплачивается и семья: пропадает один доход, адвокат и передачи стоят денег, а поездка на свидание в далёкую колонию может съесть месячную зарплату.\n\nЭтот фонд помогает таким семьям месяц за месяцем, что бы ни происходило в новостях: аренда, зимние ботинки ребёнку, билет на длительное свидание. Фонд вместе с каждой семьёй решает, что поможет больше всего, и по возможности оплачивает счета напрямую.\n\nОн не закрывается. Ежемесячный взнос сюда — самая надёжная помощь.",
            },
            "be": {
                "title": "Сем’і палітвязняў",
                "summary": "Пастаянны фонд для жонак, мужоў, дзяцей і бацькоў, якія засталіся на волі: арэнда, ежа, усё для школы і паездкі на спатканні.",
                "location": "",
                "story": "Калі чалавека саджаюць за погляды, плаціць і сям’я: знікае адзін заробак, адвакат і перадачы каштуюць грошай, а паездка на спатканне ў далёкую калонію можа забраць месячны заробак.\n\nГэты фонд дапамагае такім сем’ям месяц за месяцам, што б ні адбывалася ў навінах: арэнда, зімовыя боты дзіцяці, квіток на доўгае спатканне. Фонд разам з кожнай сям’ёй вырашае, што дапаможа найбольш, і калі можа, плаціць па рахунках наўпрост.\n\nЁн не закрываецца. Штомесячны ўнёсак сюды — самая надзейная дапамога.",
            },
            "pl": {
                "title": "Rodziny więźniów politycznych",
                "summary": "Stały fundusz dla żon, mężów, dzieci i rodziców, którzy zostali na wolności: czynsz, jedzenie, rzeczy do szkoły i dojazdy na widzenia.",
                "location": "",
                "story": "Gdy ktoś trafia do więzienia za poglądy, płaci też rodzina: znika jedna pensja, adwokat i paczki kosztują, a podróż na widzenie do odległej kolonii potrafi pochłonąć miesięczną wypłatę.\n\nTen fundusz pomaga takim rodzinom miesiąc po miesiącu, niezależnie od wiadomości: zaległy czynsz, zimowe buty dla dziecka, bilet na długie widzenie. Fundacja ustala z każdą rodziną, co pomoże najbardziej, i tam, gdzie może, płaci rachunki bezpośrednio.\n\nFundusz nigdy się nie zamyka. Comiesięczna wpłata tutaj to najpewniejsza pomoc.",
            },
        },
        "needs": [],
        "donations": [(5000, None), (2500, None), (10000, None), (2000, None), (5000, None)],
        "monthly": [1000, 2500, 500, 1000],
        "updates": [],
    },
    {
        "slug": "emergency-relocation",
        "kind": "fund",
        "category": "relocation",
        "currency": "EUR",
        "original_language": "en",
        "status": "published",
        "days_ago": 90,
        "translations": {
            "en": {
                "title": "Emergency relocation",
                "summary": "Money ready for the day someone must leave at once: a ticket, a first week's bed, a lawyer's advice at the border.",
                "location": "",
                "story": "Sometimes a person learns on a Tuesday that they will be searched on Thursday. There is no time then to open a campaign, write a story and wait for it to be checked.\n\nThis fund is kept ready for those days. It pays for the journey, the first nights somewhere safe and the first advice on staying legally, and the foundation tells nobody who it helped or where they went.",
            },
            "ru": {
                "title": "Экстренный выезд",
                "summary": "Деньги наготове на тот день, когда человеку нужно уехать немедленно: билет, жильё на первую неделю, консультация юриста на границе.",
                "location": "",
                "story": "Бывает, что во вторник человек узнаёт: в четверг к нему придут с обыском. Тогда некогда открывать сбор, писать историю и ждать, пока её проверят.\n\nЭтот фонд держат наготове как раз для таких дней. Из него оплачивают дорогу, первые ночи в безопасном месте и первую консультацию о легальном пребывании, а фонд никому не говорит, кому помог и куда человек уехал.",
            },
            "be": {
                "title": "Тэрміновы ад’езд",
                "summary": "Грошы напагатове на дзень, калі чалавеку трэба з’ехаць неадкладна: квіток, жыллё на першы тыдзень, кансультацыя юрыста на мяжы.",
                "location": "",
                "story": "Бывае, што ў аўторак чалавек даведваецца: у чацвер да яго прыйдуць з ператрусам. Тады няма калі адкрываць збор, пісаць гісторыю і чакаць, пакуль яе праверуць.\n\nГэты фонд трымаюць напагатове якраз для такіх дзён. З яго плацяць за дарогу, першыя ночы ў бяспечным месцы і першую кансультацыю пра легальнае знаходжанне, а фонд нікому не кажа, каму дапамог і куды чалавек паехаў.",
            },
            "pl": {
                "title": "Nagły wyjazd",
                "summary": "Pieniądze gotowe na dzień, w którym ktoś musi wyjechać natychmiast: bilet, nocleg na pierwszy tydzień, porada prawnika na granicy.",
                "location": "",
                "story": "Bywa, że we wtorek ktoś dowiaduje się, że w czwartek przyjdą do niego z przeszukaniem. Nie ma wtedy czasu, by otworzyć zbiórkę, napisać historię i czekać, aż zostanie sprawdzona.\n\nTen fundusz jest trzymany w gotowości właśnie na takie dni. Płaci za podróż, pierwsze noce w bezpiecznym miejscu i pierwszą poradę o legalnym pobycie, a fundacja nikomu nie mówi, komu pomogła ani dokąd ta osoba wyjechała.",
            },
        },
        "needs": [
            (
                150000,
                {
                    "en": "A reserve for three emergency departures: tickets and the first week somewhere safe.",
                    "ru": "Резерв на три экстренных выезда: билеты и первая неделя в безопасном месте.",
                    "be": "Рэзерв на тры тэрміновыя ад’езды: квіткі і першы тыдзень у бяспечным месцы.",
                    "pl": "Rezerwa na trzy nagłe wyjazdy: bilety i pierwszy tydzień w bezpiecznym miejscu.",
                },
            )
        ],
        "donations": [(15000, None), (5000, None), (20000, None)],
        "monthly": [2000, 1000],
        "updates": [],
    },
]

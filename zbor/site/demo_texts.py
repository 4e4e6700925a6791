"""The longer texts of the demo (zbor.site.demo): the flagship's story in four languages and
the foundation note it places, in Zbor's own words."""

SHIZO_NOTE = {
    "key": "shizo",
    "translations": {
        "en": (
            "SHIZO",
            "SHIZO is a punitive isolation cell. A prisoner sent there loses parcels, visits, "
            "letters and walks, sleeps on a plank that is folded to the wall in the daytime, and is "
            "often kept in the cold. Political prisoners are sent there again and again.",
        ),
        "ru": (
            "ШИЗО",
            "ШИЗО — штрафной изолятор. Заключённого там лишают передач, свиданий, писем и прогулок, "
            "днём нары пристёгивают к стене, в камере часто холодно. Политических заключённых "
            "отправляют туда снова и снова.",
        ),
        "be": (
            "ШІЗА",
            "ШІЗА — штрафны ізалятар. Зняволенага там пазбаўляюць перадач, спатканняў, лістоў і "
            "шпацыраў, удзень нары прышпільваюць да сцяны, у камеры часта холадна. Палітвязняў "
            "адпраўляюць туды зноў і зноў.",
        ),
        "pl": (
            "SZIZO",
            "SZIZO to karna izolatka. Więzień traci tam paczki, widzenia, listy i spacery, w dzień "
            "prycza jest przypięta do ściany, a w celi często jest zimno. Więźniów politycznych "
            "wysyła się tam raz po raz.",
        ),
    },
}

STORY_EN = """\
My name is Pavel. I grew up in a small town in the west of Belarus and in 2020 I was twenty, working at a furniture workshop and caring more about football than about politics.

That summer my manager told all of us to sign a letter of support for the authorities. I did not sign. A few weeks later I voted for the first time in my life, and when the official result came out I went to the square with my neighbours.

The police broke up the crowd with stun grenades and rubber bullets. I helped carry a wounded man out of the street, and I was hit in the leg. Friends took me to a doctor they trusted, because going to a hospital felt too dangerous.

A week later investigators came for me. I was charged with taking part in "mass riots", and in 2021 I was sentenced to three years in a penal colony.

In the colony political prisoners are treated worse than anyone else. I was put in the SHIZO many times, and my health got much worse there. Letters from my girlfriend kept me going; we married while I was still inside. Then she was pressured too, and she had to leave for Poland.

[[note:shizo]]

I was released in the spring of 2024. Within weeks officers began calling me in for "conversations" and made it clear what would happen next. I left Belarus for Georgia, and now I am trying to get a visa to join my wife in Poland.

Your help will carry me through the wait and the first months in a new country, until I can stand on my own feet. Thank you for reading this.
"""

STORY_RU = """\
Меня зовут Павел. Я вырос в небольшом городе на западе Беларуси, и в 2020 году мне было двадцать: я работал в мебельной мастерской, и футбол интересовал меня куда больше политики.

Тем летом начальник велел всем нам подписать письмо в поддержку власти. Я не подписал. Через несколько недель я впервые в жизни проголосовал, а когда объявили официальный результат, вышел на площадь вместе с соседями.

Милиция разгоняла людей светошумовыми гранатами и резиновыми пулями. Я помогал вынести раненого с улицы, и меня ранило в ногу. Друзья отвезли меня к знакомому врачу: идти в больницу было слишком опасно.

Через неделю за мной пришли следователи. Меня обвинили в участии в «массовых беспорядках», и в 2021 году приговорили к трём годам колонии.

В колонии к политическим относятся хуже, чем ко всем остальным. Меня много раз сажали в ШИЗО, и здоровье там сильно пошатнулось. Держался я благодаря письмам девушки; мы поженились, пока я ещё сидел. Потом давить начали и на неё, и ей пришлось уехать в Польшу.

[[note:shizo]]

Весной 2024 года я вышел на свободу. Уже через несколько недель меня стали вызывать на «беседы» и ясно дали понять, что будет дальше. Я уехал из Беларуси в Грузию и теперь пытаюсь получить визу, чтобы воссоединиться с женой в Польше.

Ваша помощь поможет мне пережить ожидание и первые месяцы в новой стране, пока я не встану на ноги. Спасибо, что прочитали.
"""

STORY_BE = """\
Мяне завуць Павел. Я вырас у невялікім горадзе на захадзе Беларусі, і ў 2020 годзе мне было дваццаць: я працаваў у мэблевай майстэрні, і футбол цікавіў мяне значна больш за палітыку.

Тым летам начальнік загадаў усім нам падпісаць ліст у падтрымку ўлады. Я не падпісаў. Праз некалькі тыдняў я ўпершыню ў жыцці прагаласаваў, а калі абвясцілі афіцыйны вынік, выйшаў на плошчу разам з суседзямі.

Міліцыя разганяла людзей святлошумавымі гранатамі і гумовымі кулямі. Я дапамагаў вынесці з вуліцы параненага, і мяне параніла ў нагу. Сябры завезлі мяне да знаёмага лекара: ісці ў бальніцу было занадта небяспечна.

Праз тыдзень па мяне прыйшлі следчыя. Мяне абвінавацілі ва ўдзеле ў «масавых беспарадках», і ў 2021 годзе прысудзілі да трох гадоў калоніі.

У калоніі да палітычных ставяцца горш, чым да ўсіх астатніх. Мяне шмат разоў саджалі ў ШІЗА, і здароўе там моцна пагоршылася. Трымаўся я дзякуючы лістам дзяўчыны; мы пажаніліся, калі я яшчэ сядзеў. Потым ціснуць пачалі і на яе, і ёй давялося з’ехаць у Польшчу.

[[note:shizo]]

Увесну 2024 года я выйшаў на волю. Ужо праз некалькі тыдняў мяне пачалі выклікаць на «размовы» і ясна далі зразумець, што будзе далей. Я з’ехаў з Беларусі ў Грузію і цяпер спрабую атрымаць візу, каб уз’яднацца з жонкай у Польшчы.

Ваша падтрымка дапаможа мне перачакаць і пражыць першыя месяцы ў новай краіне, пакуль я не стану на ногі. Дзякуй, што прачыталі.
"""

STORY_PL = """\
Mam na imię Paweł. Dorastałem w małym mieście na zachodzie Białorusi. W 2020 roku miałem dwadzieścia lat, pracowałem w warsztacie meblarskim i piłka nożna obchodziła mnie o wiele bardziej niż polityka.

Tamtego lata kierownik kazał nam wszystkim podpisać list poparcia dla władz. Nie podpisałem. Kilka tygodni później po raz pierwszy w życiu zagłosowałem, a kiedy ogłoszono oficjalny wynik, wyszedłem z sąsiadami na plac.

Milicja rozpędzała ludzi granatami hukowymi i gumowymi kulami. Pomagałem wynieść z ulicy rannego mężczyznę i sam dostałem w nogę. Przyjaciele zawieźli mnie do zaufanego lekarza, bo pójście do szpitala było zbyt niebezpieczne.

Tydzień później przyszli po mnie śledczy. Oskarżono mnie o udział w „masowych zamieszkach”, a w 2021 roku skazano na trzy lata kolonii karnej.

W kolonii więźniów politycznych traktuje się gorzej niż wszystkich innych. Wiele razy trafiałem do SZIZO i moje zdrowie bardzo tam podupadło. Siły dodawały mi listy od dziewczyny; pobraliśmy się, gdy jeszcze siedziałem. Potem zaczęto naciskać także na nią i musiała wyjechać do Polski.

[[note:shizo]]

Wyszedłem na wolność wiosną 2024 roku. Już po kilku tygodniach zaczęto wzywać mnie na „rozmowy” i dano mi jasno do zrozumienia, co będzie dalej. Wyjechałem z Białorusi do Gruzji i teraz staram się o wizę, żeby dołączyć do żony w Polsce.

Wasze wsparcie pozwoli mi przetrwać czas oczekiwania i pierwsze miesiące w nowym kraju, dopóki nie stanę na nogi. Dziękuję, że to przeczytaliście.
"""

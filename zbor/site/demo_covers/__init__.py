"""The demo campaigns' cover pictures: drawn by ``draw.py`` (the project's own work, no person's
face), committed as JPEGs beside it, and attached by ``load_demo`` as an editor's upload would be:
cleaned (zbor.images.clean_image), stored under a random name, every size made once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.core.files.base import ContentFile

from zbor.images import clean_image, render_cover_variants, store_cover_variants

from .draw import COVERS

HERE = Path(__file__).resolve().parent

#: What each picture shows, for people who cannot see it: slug -> language -> text.
ALT: dict[str, dict[str, str]] = {
    "from-prison-to-family": {
        "en": "Railway tracks running to the horizon at dawn, beside an empty platform.",
        "ru": "Железнодорожные пути уходят к горизонту на рассвете, рядом пустая платформа.",
        "be": "Чыгуначныя рэйкі сыходзяць да небакраю на світанку, побач пустая платформа.",
        "pl": "Tory kolejowe biegnące o świcie ku horyzontowi, obok pusty peron.",
    },
    "winter-for-three-children": {
        "en": "A small house in the snow with a lit window and three scarves drying on a line.",
        "ru": "Маленький дом в снегу со светящимся окном и три шарфа, которые сохнут на верёвке.",
        "be": "Маленькі дом у снезе са святлом у акне і тры шалікі, што сохнуць на вяроўцы.",
        "pl": "Mały dom w śniegu z oświetlonym oknem i trzy szaliki schnące na sznurku.",
    },
    "lawyer-for-an-appeal": {
        "en": "A pair of scales and papers with a pen on a desk under lamplight.",
        "ru": "Весы и бумаги с ручкой на столе в свете лампы.",
        "be": "Шалі і паперы з асадкай на стале ў святле лямпы.",
        "pl": "Waga szalkowa i papiery z długopisem na biurku w świetle lampy.",
    },
    "dental-care-after-release": {
        "en": "Morning light through a window onto a plant and a glass of water on the sill.",
        "ru": "Утренний свет из окна падает на цветок и стакан воды на подоконнике.",
        "be": "Ранішняе святло з акна падае на кветку і шклянку вады на падаконніку.",
        "pl": "Poranne światło z okna pada na roślinę i szklankę wody na parapecie.",
    },
    "parcels-to-a-penal-colony": {
        "en": "A parcel tied with string beside a stack of letters on a table.",
        "ru": "Посылка, перевязанная бечёвкой, рядом со стопкой писем на столе.",
        "be": "Пасылка, перавязаная вяровачкай, побач са стосам лістоў на стале.",
        "pl": "Paczka przewiązana sznurkiem obok stosu listów na stole.",
    },
    "first-months-in-lithuania": {
        "en": "Two hands in warm sleeves holding a steaming cup.",
        "ru": "Две руки в тёплых рукавах держат чашку с горячим напитком.",
        "be": "Дзве рукі ў цёплых рукавах трымаюць кубак з гарачым напоем.",
        "pl": "Dwie dłonie w ciepłych rękawach trzymają parujący kubek.",
    },
}


@cache
def _prepared(file_name: str) -> tuple[bytes, dict[tuple[int, str], bytes]]:
    """The cleaned picture and its sizes, made once per process (tests load the demo often)."""
    cleaned = clean_image(ContentFile((HERE / file_name).read_bytes(), name=file_name)).read()
    return cleaned, render_cover_variants(cleaned)


def attach_cover(campaign) -> None:
    """Give a freshly created demo campaign its cover and the cover's description."""
    if campaign.slug not in COVERS:
        return
    cleaned, variants = _prepared(COVERS[campaign.slug][1])
    campaign.cover.save("cover.jpg", ContentFile(cleaned), save=False)
    store_cover_variants(campaign.cover.storage, campaign.cover.name, variants)
    for language, text in ALT[campaign.slug].items():
        if campaign.has_translation(language):
            campaign.set_current_language(language)
            campaign.cover_alt = text
    campaign.save()

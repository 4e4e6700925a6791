"""Make the sizes (zbor.images) of covers uploaded before pages offered them: a page addresses
every size by name and never checks the disk, so each existing cover needs them once."""

from django.core.files.storage import default_storage
from django.db import migrations
from PIL import UnidentifiedImageError

from zbor.images import store_cover_variants, variant_names


def make_sizes(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    names = set(Campaign.objects.exclude(cover="").values_list("cover", flat=True))
    for name in sorted(names):
        if not default_storage.exists(name) or all(default_storage.exists(v) for v in variant_names(name)):
            continue
        try:
            store_cover_variants(default_storage, name)
        except (OSError, UnidentifiedImageError):
            # A file that is not a picture was never accepted as a cover (clean_image): nothing
            # to show, nothing to make.
            continue


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_staged_revisions")]

    operations = [migrations.RunPython(make_sizes, migrations.RunPython.noop, elidable=True)]

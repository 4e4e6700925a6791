"""Any sequence of edits by any editors and approvals by anyone: nothing reaches a public page
(the campaign's HTML or the API) unless someone who did not edit it since the last approval
approved it, and such an approval always succeeds.

Every edit writes a fresh token; the model knows which tokens were approved. Edits take the
same paths as the admin (a revision plus its editor record; staged text for display names and
notes), whose wiring zbor/campaigns/tests/test_staged_changes.py checks through the admin itself.
"""

import itertools

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests import factories
from zbor.campaigns import revisions, services
from zbor.campaigns.exceptions import CampaignError
from zbor.campaigns.models import Campaign, StagedText, Update

EDITORS = range(3)
REVISION, NAME, NOTE = "revision", "display_name", "note"


class FourEyesMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # parler keeps translations in the cache, which the rolled-back examples do not undo.
        cache.clear()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.note = factories.note("shizo")
        self.live = factories.campaign(slug="walk", story="Story.\n\n[[note:shizo]]")
        self.people = [factories.role_user("editor") for _ in EDITORS]
        self.tokens = (f"T{n:04d}Z" for n in itertools.count())
        self.written: set[str] = set()
        self.approved: set[str] = set()
        #: Per staged thing: tokens waiting and who edited it since the last approval.
        self.pending: dict[str, set[str]] = {REVISION: set(), NAME: set(), NOTE: set()}
        self.editors: dict[str, set[int]] = {REVISION: set(), NAME: set(), NOTE: set()}
        self.visitor = Client()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _token(self, thing: str, who: int) -> str:
        token = next(self.tokens)
        self.written.add(token)
        if thing in (NAME, NOTE):
            self.pending[thing].clear()  # a new proposal replaces the old one
        self.pending[thing].add(token)
        self.editors[thing].add(who)
        return token

    def _revision(self, who: int) -> Campaign:
        revision = revisions.start_revision(self.live, by=self.people[who])
        services.record_editor(revision, self.people[who])  # what the admin does on save
        return revision

    # Edits ---------------------------------------------------------------------------------

    @rule(who=st.sampled_from(EDITORS))
    def edit_campaign_text(self, who):
        token = self._token(REVISION, who)
        revision = self._revision(who)
        revision.set_current_language("en")
        revision.summary = f"Summary {token}"
        revision.save()

    @rule(who=st.sampled_from(EDITORS), index=st.integers(0, 2))
    def edit_need(self, who, index):
        token = self._token(REVISION, who)
        revision = self._revision(who)
        need = revision.needs.order_by("position", "id")[index]
        need.set_current_language("en")
        need.description = f"Need {token}"
        need.save()

    @rule(who=st.sampled_from(EDITORS))
    def add_update(self, who):
        token = self._token(REVISION, who)
        revision = self._revision(who)
        update = Update.objects.create(campaign=revision)
        update.create_translation("en", title=f"News {token}", body=f"Body {token}")

    @rule(who=st.sampled_from(EDITORS))
    def edit_display_name(self, who):
        token = self._token(NAME, who)
        revisions.stage_text(self.live.beneficiary, "en", {"display_name": f"Name {token}"}, by=self.people[who])

    @rule(who=st.sampled_from(EDITORS))
    def edit_note(self, who):
        token = self._token(NOTE, who)
        revisions.stage_text(self.note, "en", {"term": "SHIZO", "text": f"Note {token}"}, by=self.people[who])

    # Approvals -----------------------------------------------------------------------------

    def _settle(self, thing: str, who: int, attempt) -> None:
        exists = bool(self.pending[thing]) or bool(self.editors[thing])
        allowed = exists and who not in self.editors[thing]
        try:
            attempt()
        except CampaignError:
            assert not allowed, f"{thing}: a permitted approval by {who} was refused"
            return
        assert allowed, f"{thing}: approved by {who}, who edited it ({self.editors[thing]})"
        self.approved |= self.pending[thing]
        self.pending[thing] = set()
        self.editors[thing] = set()

    @rule(who=st.sampled_from(EDITORS))
    def approve_revision(self, who):
        revision = Campaign.objects.filter(revision_of=self.live).first()
        if revision is None:
            assert not self.editors[REVISION]
            return
        seen = revisions.revision_digest(revision)
        self._settle(REVISION, who, lambda: revisions.approve_revision(revision, by=self.people[who], seen=seen))

    @rule(who=st.sampled_from(EDITORS), thing=st.sampled_from([NAME, NOTE]))
    def approve_text(self, who, thing):
        staged = StagedText.objects.filter(kind=thing).first()
        if staged is None:
            assert not self.editors[thing]
            return
        self._settle(thing, who, lambda: revisions.approve_staged(staged, by=self.people[who]))

    @rule(who=st.sampled_from(EDITORS))
    def discard_revision(self, who):
        revision = Campaign.objects.filter(revision_of=self.live).first()
        if revision is not None:
            revisions.discard_revision(revision, by=self.people[who])
        self.pending[REVISION] = set()
        self.editors[REVISION] = set()

    # What the public sees ------------------------------------------------------------------

    @invariant()
    def only_approved_text_is_public(self):
        page = self.visitor.get("/en/campaigns/walk/")
        api = self.visitor.get("/api/v1/campaigns/walk?lang=en")
        assert page.status_code == 200 and api.status_code == 200  # never taken offline by an edit
        public = page.content.decode() + api.content.decode()
        leaked = {t for t in self.written - self.approved if t in public}
        assert not leaked, f"unapproved text is public: {leaked}"


@pytest.mark.django_db
def test_nothing_reaches_a_public_page_without_a_second_persons_approval():
    run_state_machine_as_test(
        FourEyesMachine, settings=settings(max_examples=15, stateful_step_count=15, deadline=None)
    )

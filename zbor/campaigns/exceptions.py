"""What can go wrong when staff move a campaign through its life.

CampaignError                 base; its message is shown to staff as is
├── TransitionNotAllowed      e.g. publishing a closed campaign
├── CampaignNotReady          e.g. sending to review without needs, a story or consent
└── FourEyesViolation         approving one's own campaign, or approving twice
"""


class CampaignError(Exception):
    """A staff action on a campaign could not be done; str(exc) is a translated message."""


class TransitionNotAllowed(CampaignError):
    pass


class CampaignNotReady(CampaignError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class FourEyesViolation(CampaignError):
    pass

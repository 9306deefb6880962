"""What campaign staff see and edit in the Django admin.

Each concern lives in its own module; the ModelAdmin classes are assembled here.
"""

from .attempts import CallAttemptAdmin  # noqa: F401
from .blocklist import BlockEntryAdmin  # noqa: F401
from .lines import CampaignLineAdmin  # noqa: F401
from .tokens import ApiTokenAdmin  # noqa: F401
from .webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin  # noqa: F401

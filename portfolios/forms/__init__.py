"""Forms of the portfolio pages.

Forms check what a form can know (shape, signs, dates, which token a symbol
means) and turn the input into service arguments; the services decide the
rest (e.g. a withdrawal larger than the position) and their errors are put
back on the form by :func:`apply_service_error`, so a rejected submission
comes back filled in with the message next to the field it is about.

Modules: ``common`` (fields, the token lookup, service errors), ``legs`` (token
rows and transaction legs, as formsets), ``positions``, ``portfolios`` (portfolio,
transaction and CSV upload forms). The public names are re-exported here.
"""

from portfolios.forms.common import (
    DATETIME_FORMAT,
    DateTimeLocalInput,
    PastDateTimeField,
    apply_service_error,
    clean_fiat_value,
    missing_price_message,
    now_minute,
    resolve_token,
)
from portfolios.forms.legs import (
    BaseLegFormSet,
    BaseTokenAmountFormSet,
    LegForm,
    TokenAmountForm,
    leg_formset,
    token_amount_formset,
)
from portfolios.forms.portfolios import ConfirmDeleteForm, ImportUploadForm, PortfolioForm, TransactionForm
from portfolios.forms.positions import (
    DEFAULT_INCOME_TYPE,
    POOL_KIND_TO_POSITION_KIND,
    ClaimRewardsForm,
    OverrideAmountsForm,
    PositionCloseForm,
    PositionMoveForm,
    PositionOpenForm,
    PositionWithdrawForm,
)

__all__ = [
    "DATETIME_FORMAT",
    "DEFAULT_INCOME_TYPE",
    "POOL_KIND_TO_POSITION_KIND",
    "BaseLegFormSet",
    "BaseTokenAmountFormSet",
    "ClaimRewardsForm",
    "ConfirmDeleteForm",
    "DateTimeLocalInput",
    "ImportUploadForm",
    "LegForm",
    "OverrideAmountsForm",
    "PastDateTimeField",
    "PortfolioForm",
    "PositionCloseForm",
    "PositionMoveForm",
    "PositionOpenForm",
    "PositionWithdrawForm",
    "TokenAmountForm",
    "TransactionForm",
    "apply_service_error",
    "clean_fiat_value",
    "leg_formset",
    "missing_price_message",
    "now_minute",
    "resolve_token",
    "token_amount_formset",
]

"""Reading one day of a shop's database for the day's report (console.reception.report): the
reading, and its read-only connections on either store, are ``console.server.repository.reports``'s
(the one home of the SQL, issue 9); its names are re-exported here for the report's callers."""

from __future__ import annotations

from console.server.repository.reports import DB_ERRORS as DB_ERRORS
from console.server.repository.reports import MARGIN_S as MARGIN_S
from console.server.repository.reports import PgShop as PgShop
from console.server.repository.reports import ReportError as ReportError
from console.server.repository.reports import Where as Where
from console.server.repository.reports import open_read_only as open_read_only
from console.server.repository.reports import policy_in_force as policy_in_force
from console.server.repository.reports import read_day as read_day
from console.server.repository.reports import read_routing_day as read_routing_day
from console.server.repository.reports import where_of as where_of

"""Test collection: the reference scripts in tests/reference/ run in their own environments (scikit-mobility,
trackintel) to produce the committed reference tables; they are not tests and are never imported here."""

collect_ignore = ["reference"]

"""The one exception type users see.

Every error a user can cause (a bad file, a missing column, a bad parameter) is raised as
:class:`MobilityError` with a message that names the file, row or column and says how to fix it.
"""


class MobilityError(ValueError):
    """An error in the user's data, configuration or parameters.

    Examples
    --------
    >>> raise MobilityError("pings.csv: column 'lat' missing; map it with columns={'lat': 'your_name'}")
    Traceback (most recent call last):
    ...
    mobility.errors.MobilityError: pings.csv: column 'lat' missing; map it with columns={'lat': 'your_name'}
    """

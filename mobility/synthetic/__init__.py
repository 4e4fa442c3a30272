"""A synthetic city with ground truth: pings, geography, census tables and the true employment timeline.

Public API: :class:`SyntheticParams`, :func:`generate_region`, :func:`load_truth`.
"""

from mobility.synthetic.config import write_region_config
from mobility.synthetic.params import SyntheticParams
from mobility.synthetic.region import generate_region, load_truth

__all__ = ["SyntheticParams", "generate_region", "load_truth", "write_region_config"]

"""Sector constants: LODES ``CNS01..CNS20`` and Dingel & Neiman (2020) teleworkability.

The teleworkability shares are the 20 rows of ``national_measures/output/NAICS_workfromhome.csv`` of the
replication package of Dingel, J. I. and Neiman, B. (2020), "How Many Jobs Can be Done at Home?", Journal of
Public Economics 189, 104235 (GitHub ``jdingel/DingelNeiman-workathome``, commit 755ea29f, GPL-3.0), typed in
verbatim so the generator reads nothing outside the package at run time. 2-digit NAICS maps 1:1 onto the
LODES sectors ``CNS01..CNS20`` (NAICS ``99``, government per OES, is ``CNS20``, public administration).

The base sector mix is the job share by sector of the LODES 7 WAC file for Pennsylvania 2015
(``pa_wac_S000_JT00_2015``, U.S. Census Bureau LEHD) summed over counties 42101, 42045 and 42091.
"""

from __future__ import annotations

import numpy as np

from mobility.census.lodes import SECTORS, WAC_RAC_GROUPS  # noqa: F401  (SECTORS re-exported to the generator)

# (NAICS, NAICS_TITLE, teleworkable_manual_emp, teleworkable_manual_wage, teleworkable_emp, teleworkable_wage)
DINGEL_NEIMAN_NAICS = (
    ("11", "Agriculture, Forestry, Fishing and Hunting", ".054734729", ".10695023", ".076394059", ".13138799"),
    ("21", "Mining, Quarrying, and Oil and Gas Extraction", ".21036951", ".31011897", ".25448045", ".37411472"),
    ("22", "Utilities", ".36985531", ".41298309", ".37001538", ".40978014"),
    ("23", "Construction", ".14353158", ".18945056", ".18559921", ".22282033"),
    ("31-33", "Manufacturing", ".22953789", ".37583601", ".22480325", ".3593457"),
    ("42", "Wholesale Trade", ".41835341", ".55347383", ".51755255", ".66872668"),
    ("44-45", "Retail Trade", ".11203653", ".17865057", ".14343524", ".21608898"),
    ("48-49", "Transportation and Warehousing", ".13690154", ".18554465", ".18614481", ".24679671"),
    ("51", "Information", ".62327445", ".72074449", ".71706247", ".79785705"),
    ("52", "Finance and Insurance", ".73137891", ".80774504", ".76203007", ".85066956"),
    ("53", "Real Estate and Rental and Leasing", ".31254151", ".42102721", ".41810879", ".540528"),
    ("54", "Professional, Scientific, and Technical Services", ".75884557", ".82105213", ".80275732", ".86352032"),
    ("55", "Management of Companies and Enterprises", ".75478303", ".82206088", ".79189116", ".85778207"),
    ("56", "Administrative and Support and Waste Management and Remediation Services",
     ".28415635", ".39931738", ".3106325", ".43266177"),
    ("61", "Educational Services", ".70948505", ".61174703", ".82646495", ".71397746"),
    ("62", "Health Care and Social Assistance", ".18603338", ".18316416", ".25252154", ".24164785"),
    ("71", "Arts, Entertainment, and Recreation", ".15889172", ".26500109", ".29749355", ".36375317"),
    ("72", "Accommodation and Food Services", ".027766241", ".061951783", ".035365932", ".068208084"),
    ("81", "Other Services (except Public Administration)", ".24750608", ".37196988", ".31235081", ".4278672"),
    ("99", "Federal, State, and Local Government, excluding state and local schools and hospitals and the "
     "U.S. Postal Service (OES Designation)", ".3604888", ".4248057", ".41477612", ".46739817"),
)
TELEWORK_COLUMNS = ("NAICS", "NAICS_TITLE", "teleworkable_manual_emp", "teleworkable_manual_wage",
                    "teleworkable_emp", "teleworkable_wage")

#: tau_s, the share of employment in teleworkable occupations (O*NET measure), by CNS01..CNS20.
TELEWORK_TAU = np.array([float(row[4]) for row in DINGEL_NEIMAN_NAICS])

#: Job share by sector, LODES WAC PA 2015, counties 101+045+091 (sums to 1 after normalisation).
BASE_SECTOR_SHARE = np.array([0.0003, 0.0002, 0.0065, 0.034, 0.0554, 0.0358, 0.099, 0.0342, 0.0213, 0.0605,
                              0.014, 0.0866, 0.0246, 0.063, 0.1013, 0.1963, 0.016, 0.075, 0.036, 0.0399])
BASE_SECTOR_SHARE = BASE_SECTOR_SHARE / BASE_SECTOR_SHARE.sum()

#: How strongly each sector concentrates in the central business district (log-odds per unit centrality).
SECTOR_CENTRALITY = np.array([-2.0, -2.0, 0.0, -1.0, -1.5, -1.0, -0.5, -0.5, 1.5, 2.0,
                              0.5, 1.5, 1.5, 0.0, 0.0, 0.3, 0.5, 1.0, 0.0, 1.5])

#: Default job-loss hazard multiplier by sector (high: retail, arts, accommodation/food; low: information,
#: finance, real estate, professional services, management, public administration).
DEFAULT_SECTOR_HAZARD_MULTIPLIER = (1.0, 1.0, 0.3, 1.2, 1.0, 0.8, 2.0, 1.0, 0.3, 0.3,
                                    0.4, 0.3, 0.3, 1.5, 0.8, 0.8, 2.5, 3.0, 1.5, 0.2)

# The LODES column groups, as the census reader defines and checks them.
AGE_GROUPS = WAC_RAC_GROUPS["age"]
EARNINGS_GROUPS = WAC_RAC_GROUPS["earnings"]
RACE_GROUPS = WAC_RAC_GROUPS["race"]
ETHNICITY_GROUPS = WAC_RAC_GROUPS["ethnicity"]
EDUCATION_GROUPS = WAC_RAC_GROUPS["education"]
SEX_GROUPS = WAC_RAC_GROUPS["sex"]

"""Word lists the normalizer and the sentence splitter share.

Everything here is an immutable table; the rules that use them live in `normalize.py` and
`sentences.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)
MONTH_BY_NAME = MappingProxyType(
    {
        **{m: i + 1 for i, m in enumerate(MONTHS)},
        **{m[:3]: i + 1 for i, m in enumerate(MONTHS)},
        "sept": 9,
    }
)

# Capitalised words that usually begin a sentence. After an abbreviation that can also end a
# sentence ("etc.", "a.m.", "U.S.A.", "Baker St."), one of these means the period was a full stop.
SENTENCE_STARTERS = frozenset(
    """
    The A An It He She We They I You This That These Those There Here In On At But And So Then
    His Her Its Our Their My Your If When While After Before What Who Why How Where Yes No As For
    To Some All Many Most One Each Every Now Today Also However Meanwhile Later Let Please Thanks
    Thank Do Did Does Is Are Was Were Can Could Should Would Will Not Just Still Yet Although
    Because Since Unless Once Sometimes Afterwards Finally First Next Last Another Other Such
    """.split()
)

# Titles read before a name. Period optional where the bare form is not an English word.
TITLES = MappingProxyType(
    {
        "mr": "mister", "mrs": "missus", "ms": "miz", "mx": "mix", "messrs": "messieurs",
        "prof": "professor", "gen": "general", "capt": "captain", "cpt": "captain",
        "lt": "lieutenant", "sgt": "sergeant", "col": "colonel", "gov": "governor",
        "sen": "senator", "rep": "representative", "rev": "reverend", "hon": "honorable",
        "pres": "president", "maj": "major", "adm": "admiral", "cmdr": "commander",
        "cdr": "commander", "cpl": "corporal", "pvt": "private", "det": "detective",
        "insp": "inspector", "supt": "superintendent", "fr": "father", "brig": "brigadier",
        "mt": "mount", "ft": "fort", "pt": "point",
    }
)
# Titles that need no period to be recognised (the bare forms are not English words).
BARE_TITLES = frozenset({"mr", "mrs", "ms", "mx", "messrs", "prof", "mt", "dr", "st", "capt", "sgt", "lt"})

# Read after a name: "John Smith Jr." / "Smith, Sr."
POST_NOMINALS = MappingProxyType({"jr": "junior", "sr": "senior", "esq": "esquire"})

# Dr. / St. are the two with a title reading and a street reading.
TITLE_OR_PLACE = MappingProxyType({"dr": ("doctor", "drive"), "st": ("saint", "street")})

# Abbreviations with a period that are read the same everywhere.
PLAIN_ABBREVIATIONS = MappingProxyType(
    {
        "etc": "et cetera", "vs": "versus", "approx": "approximately", "dept": "department",
        "ave": "avenue", "blvd": "boulevard", "rd": "road", "ln": "lane", "hwy": "highway",
        "pkwy": "parkway", "sq": "square", "apt": "apartment", "ste": "suite", "bldg": "building",
        "inc": "incorporated", "ltd": "limited", "co": "company", "corp": "corporation",
        "bros": "brothers", "univ": "university", "assoc": "associate", "asst": "assistant",
        "govt": "government", "intl": "international", "natl": "national", "misc": "miscellaneous",
        "incl": "including", "excl": "excluding", "avg": "average", "cf": "compare",
        "viz": "namely", "est": "established", "mfg": "manufacturing", "jan": "january",
        "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
        "aug": "august", "sep": "september", "sept": "september", "oct": "october",
        "nov": "november", "dec": "december", "mon": "monday", "tue": "tuesday",
        "tues": "tuesday", "wed": "wednesday", "thu": "thursday", "thur": "thursday",
        "thurs": "thursday", "fri": "friday",
    }
)
# Abbreviations that read as words when written without a period too.
BARE_PLAIN = frozenset({"vs", "approx", "etc"})

# Dotted Latin abbreviations (matched with their internal periods).
LATIN = MappingProxyType(
    {"e.g.": "for example", "i.e.": "that is", "a.k.a.": "also known as", "et al.": "et al",
     "n.b.": "note", "p.s.": "p s", "r.i.p.": "rest in peace", "ca.": "circa", "c.": "circa"}
)

# Abbreviations read only before a number: "No. 5", "p. 12", "Fig. 3".
BEFORE_NUMBER = MappingProxyType(
    {
        "no": "number", "nos": "numbers", "nr": "number", "p": "page", "pp": "pages",
        "pg": "page", "fig": "figure", "figs": "figures", "vol": "volume", "vols": "volumes",
        "ch": "chapter", "chap": "chapter", "sec": "section", "art": "article", "ext": "extension",
        "para": "paragraph", "eq": "equation", "eqn": "equation", "ref": "reference",
        "tel": "telephone", "rm": "room", "op": "opus", "ed": "edition", "ep": "episode",
    }
)

# Initialisms spelled letter by letter even though they look pronounceable.
INITIALISMS = frozenset(
    """
    FBI CIA NSA USA US UK EU UN BBC CNN NBC CBS ABC CEO CFO CTO COO HR PR TV PC CD DVD DNA RNA
    ATM IBM MIT NFL NBA NHL MLB IRS DMV FAQ PDF HTML CSS XML API URL USB GPS SUV BMW UFO IQ ID
    DJ VIP AI AD BC CE BCE UCLA USAF USSR USPS UAE AOL ASAP EST PST GMT UTC IT OS IOS AM PM
    IPA EPA ICU OMG EDT PDT CST MST BA MA MD PHD MBA DC LA NY AP
    """.split()
)

# All-caps words read as words although short, plus fixed readings.
ACRONYM_WORDS = MappingProxyType(
    {
        "OK": "okay", "NASA": "nasa", "NATO": "nato", "UNESCO": "unesco", "UNICEF": "unicef",
        "NASDAQ": "nasdaq", "LASER": "laser", "RADAR": "radar", "SCUBA": "scuba",
        "AIDS": "aids", "COVID": "covid", "OPEC": "opec", "FIFA": "fifa", "IKEA": "ikea",
        "LEGO": "lego", "GIF": "gif", "PIN": "pin", "ZIP": "zip", "RAM": "ram", "ROM": "rom", "SIM": "sim",
        "JPEG": "jay peg", "IEEE": "i triple e", "AAA": "triple a", "WWII": "world war two",
        "WWI": "world war one", "SQL": "s q l", "NO": "no", "YES": "yes", "WOW": "wow",
        "HEY": "hey", "OH": "oh", "HI": "hi", "YOU": "you", "THE": "the", "AND": "and",
        "NOT": "not", "NOW": "now", "GO": "go", "BYE": "bye", "WHY": "why", "STOP": "stop",
        "HELP": "help", "NEW": "new", "FREE": "free", "SALE": "sale", "WARNING": "warning",
        "NOTE": "note", "DANGER": "danger", "CAUTION": "caution", "EXIT": "exit",
    }
)

# Mixed-case forms with a fixed reading.
SPECIAL_WORDS = MappingProxyType(
    {"PhD": "p h d", "PhDs": "p h d's", "C#": "c sharp", "F#": "f sharp", "C++": "c plus plus",
     "AT&T": "a t and t", "R&D": "r and d", "Q&A": "q and a", "B&B": "b and b",
     "24/7": "twenty-four seven", "911": "nine one one", "9/11": "nine eleven", "w/o": "without", "c/o": "care of",
     "n/a": "n a", "N/A": "n a", "and/or": "and or", "he/she": "he or she", "s/he": "she or he",
     "his/her": "his or her", "401(k)": "four oh one k", "403(b)": "four oh three b", "457(b)": "four fifty-seven b",
     "401k": "four oh one k"}
)

# Previous words after which a Roman numeral is a cardinal number ("chapter IV" -> "chapter four").
ROMAN_CARDINAL_CUES = frozenset(
    """
    chapter chapters part parts book books volume volumes vol act acts scene scenes section
    sections article articles phase phases type types class level levels stage stages grade
    episode season round title appendix psalm psalms canto war bowl apollo gemini vatican
    council tier category mark mk series number schedule annex
    """.split()
)
# Names after which even a one-letter numeral ("Henry V", "Elizabeth I") is regnal.
REGNAL_NAMES = frozenset(
    """
    henry louis edward george william elizabeth charles james richard john paul pius benedict
    gregory leo innocent clement alexander peter frederick philip mary victoria napoleon
    ramesses rameses constantine nicholas ivan otto ludwig francis felipe juan carlos gustav
    gustavus christian olaf haakon harald wilhelm friedrich boniface urban sixtus stephen
    anne david robert alfonso pedro manuel umberto amadeus cyrus darius ptolemy ferdinand
    leopold maximilian rudolf sigismund casimir mehmed murad selim suleiman mahmud baldwin
    conrad thutmose amenhotep seti antiochus seleucus theodosius justinian valentinian
    """.split()
)
# Titles after which any name takes a regnal numeral ("Pharaoh Thutmose III", "King Tut II").
REGNAL_TITLES = frozenset(
    "king queen pope emperor empress tsar czar tsarina sultan pharaoh prince princess duke kaiser shah".split()
)

# Words after a 4-digit number that still allow a year reading ("in 1999 and 2005").
YEAR_FOLLOWERS = frozenset(
    """
    and or but nor was were is are be been being had has have will would could should might may
    when where while to through until till saw for in on at by with as that which who whom he
    she it they we i you there this after before during since so then than the a an of from
    onward onwards bc ad bce ce election elections census season olympics world cup
    """.split()
)
# Words before a 4-digit number that make it a year whatever follows ("in 1995 prices rose").
# "in" is a cue although "in 1500 cases" then reads "in fifteen hundred cases" (still correct speech).
YEAR_CUES = frozenset(
    """
    in since from until till during year circa ca c spring summer autumn fall winter early late
    mid class vintage model
    """.split()
)

# Determiners and possessives before which a 4-digit number is an adjective, usually a year:
# "a 2019 study", "his 1995 album". A plural noun after it makes it a count again ("the 1500 people").
YEAR_DETERMINERS = frozenset("the a an his her their its our my your this that whose".split())
# Plurals without an "s" at the end, and "s" words that are no plurals (for the check above).
IRREGULAR_PLURALS = frozenset("people men women children feet teeth mice geese police cattle".split())
S_SINGULARS = frozenset("news series species bus gas lens bonus census campus virus status".split())

# unit -> (singular, plural); case-sensitive, matched only right after a number
UNITS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"), "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"), "µm": ("micrometer", "micrometers"), "nm": ("nanometer", "nanometers"),
    "ft": ("foot", "feet"), "yd": ("yard", "yards"), "yds": ("yard", "yards"), "mi": ("mile", "miles"),
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "µg": ("microgram", "micrograms"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"),
    "l": ("liter", "liters"), "L": ("liter", "liters"), "cl": ("centiliter", "centiliters"),
    "µl": ("microliter", "microliters"), "µL": ("microliter", "microliters"), "gal": ("gallon", "gallons"),
    "mph": ("mile per hour", "miles per hour"), "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"), "kmh": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"), "rpm": ("revolution per minute", "revolutions per minute"),
    "bpm": ("beat per minute", "beats per minute"), "fps": ("frame per second", "frames per second"),
    "ms": ("millisecond", "milliseconds"), "µs": ("microsecond", "microseconds"), "ns": ("nanosecond", "nanoseconds"),
    "s": ("second", "seconds"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "h": ("hour", "hours"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "yr": ("year", "years"), "yrs": ("year", "years"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"),
    "KiB": ("kibibyte", "kibibytes"), "MiB": ("mebibyte", "mebibytes"), "GiB": ("gibibyte", "gibibytes"),
    "TiB": ("tebibyte", "tebibytes"), "kb": ("kilobit", "kilobits"), "Kb": ("kilobit", "kilobits"),
    "Mb": ("megabit", "megabits"), "Gb": ("gigabit", "gigabits"),
    "kbps": ("kilobit per second", "kilobits per second"), "Kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "THz": ("terahertz", "terahertz"),
    "V": ("volt", "volts"), "mV": ("millivolt", "millivolts"), "kV": ("kilovolt", "kilovolts"),
    "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "mA": ("milliamp", "milliamps"), "mAh": ("milliamp hour", "milliamp hours"), "dB": ("decibel", "decibels"),
    "px": ("pixel", "pixels"), "ppm": ("part per million", "parts per million"), "cal": ("calorie", "calories"),
    "kcal": ("kilocalorie", "kilocalories"), "tsp": ("teaspoon", "teaspoons"),
    "tbsp": ("tablespoon", "tablespoons"), "sq ft": ("square foot", "square feet"),
    "sq mi": ("square mile", "square miles"), "sq km": ("square kilometer", "square kilometers"),
    "m²": ("square meter", "square meters"), "km²": ("square kilometer", "square kilometers"),
    "cm²": ("square centimeter", "square centimeters"), "ft²": ("square foot", "square feet"),
    "m³": ("cubic meter", "cubic meters"), "cm³": ("cubic centimeter", "cubic centimeters"),
    "°C": ("degree celsius", "degrees celsius"), "°F": ("degree fahrenheit", "degrees fahrenheit"),
    "°": ("degree", "degrees"), "%": ("percent", "percent"), "in.": ("inch", "inches"),
    "dl": ("deciliter", "deciliters"), "dL": ("deciliter", "deciliters"),
    "cc": ("cubic centimeter", "cubic centimeters"),
    "cu ft": ("cubic foot", "cubic feet"), "cu in": ("cubic inch", "cubic inches"), "ac": ("acre", "acres"),
    "ha": ("hectare", "hectares"), "cup": ("cup", "cups"), "cups": ("cup", "cups"), "qt": ("quart", "quarts"),
    "mmHg": ("millimeter of mercury", "millimeters of mercury"), "Wh": ("watt hour", "watt hours"),
    "MWh": ("megawatt hour", "megawatt hours"), "Ah": ("amp hour", "amp hours"), "kPa": ("kilopascal", "kilopascals"),
    "psi": ("p s i", "p s i"),
})
# Units also recognized in any letter case after a number ("12KG", "1 mbps", "250 ML"): lower-case form ->
# the key in UNITS. Only units of two or more letters whose other-case forms mean nothing else after a
# number; one-letter units (m, g, s, V, K) and the byte/bit pairs keep their case ("MB" byte, "Mb" bit).
UNITS_ANY_CASE = MappingProxyType({
    "kg": "kg", "km": "km", "cm": "cm", "mm": "mm", "mg": "mg", "ml": "ml", "mph": "mph", "kph": "kph",
    "kmh": "kmh", "mbps": "Mbps", "kbps": "kbps", "gbps": "Gbps", "hz": "Hz", "khz": "kHz", "mhz": "MHz",
    "ghz": "GHz", "thz": "THz", "gb": "GB", "tb": "TB", "mb": "MB", "lb": "lb", "lbs": "lbs", "oz": "oz",
    "ft": "ft", "yd": "yd", "yds": "yds", "gal": "gal", "kw": "kW", "kwh": "kWh", "mah": "mAh", "kcal": "kcal",
    "tsp": "tsp", "tbsp": "tbsp", "sec": "sec", "secs": "secs", "min": "min", "mins": "mins", "hr": "hr",
    "hrs": "hrs", "db": "dB", "ppm": "ppm", "rpm": "rpm", "bpm": "bpm", "fps": "fps", "mmhg": "mmHg", "kpa": "kPa",
    "mwh": "MWh", "cal": "cal", "dl": "dL",
})
# Lengths that take "square"/"cubic" with a power: "m2", "km²", "ft³"
POWER_UNITS = frozenset({"m", "km", "cm", "mm", "ft", "in", "mi", "yd", "µm", "nm"})
# "/mo", "per yr": time periods and counters after a rate; unit symbols are read from UNITS
RATE_WORDS = MappingProxyType({
    "mo": "month", "mos": "month", "mth": "month", "month": "month", "yr": "year", "year": "year", "y": "year",
    "annum": "annum", "wk": "week", "week": "week", "d": "day", "day": "day", "hr": "hour", "h": "hour",
    "hour": "hour", "min": "minute", "minute": "minute", "sec": "second", "s": "second", "second": "second",
    "night": "night", "nt": "night", "person": "person", "pp": "person", "head": "head", "unit": "unit",
    "item": "item", "piece": "piece", "pc": "piece", "ea": "each", "page": "page", "word": "word",
    "share": "share", "ticket": "ticket", "seat": "seat", "user": "user", "mile": "mile", "visit": "visit",
    "session": "session", "class": "class", "lesson": "lesson", "gallon": "gallon", "liter": "liter",
    "litre": "litre", "pound": "pound", "dozen": "dozen", "bag": "bag", "box": "box", "can": "can",
    "bottle": "bottle", "pack": "pack", "kilo": "kilo", "serving": "serving", "slice": "slice",
})

CURRENCIES = MappingProxyType({  # symbol -> (one, many, sub-unit one, sub-unit many)
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", None, None),
    "₽": ("ruble", "rubles", "kopek", "kopeks"),
})
# "US$5", "A$5", "HK$5": the letters before "$" name whose dollar it is
CURRENCY_PREFIX = MappingProxyType(
    {"us": "u s ", "a": "australian ", "au": "australian ", "c": "canadian ", "ca": "canadian ",
     "nz": "new zealand ", "hk": "hong kong ", "s": "singapore "}
)
# "$5m", "$3bn", "$1.2 million"
MAGNITUDES = MappingProxyType(
    {"thousand": "thousand", "k": "thousand", "million": "million", "m": "million", "mn": "million",
     "mm": "million", "billion": "billion", "bn": "billion", "b": "billion", "trillion": "trillion",
     "tn": "trillion", "t": "trillion"}
)

# --- addresses --------------------------------------------------------------------------------------
# street types (any case after a house number; Title case after a street name alone) -> reading
STREET_TYPES = MappingProxyType({
    "st": "street", "street": "street", "ave": "avenue", "av": "avenue", "avenue": "avenue",
    "blvd": "boulevard", "boulevard": "boulevard", "rd": "road", "road": "road", "dr": "drive", "drive": "drive",
    "hwy": "highway", "highway": "highway", "expy": "expressway", "expwy": "expressway",
    "expressway": "expressway", "fwy": "freeway", "freeway": "freeway", "ct": "court", "court": "court",
    "ln": "lane", "lane": "lane", "pkwy": "parkway", "parkway": "parkway", "pl": "place", "place": "place",
    "ter": "terrace", "terr": "terrace", "terrace": "terrace", "cir": "circle", "circle": "circle",
    "sq": "square", "square": "square", "way": "way", "trl": "trail", "trail": "trail", "loop": "loop",
    "plz": "plaza", "plaza": "plaza", "cres": "crescent", "crescent": "crescent", "hts": "heights",
    "row": "row", "pike": "pike", "tpke": "turnpike", "turnpike": "turnpike", "aly": "alley", "alley": "alley",
    "ctr": "center", "center": "center", "sqr": "square", "xing": "crossing", "crossing": "crossing",
})
COMPASS = MappingProxyType({
    "n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
    "se": "southeast", "sw": "southwest", "north": "north", "south": "south", "east": "east", "west": "west",
})
# unit designators before an apartment/suite number
UNIT_DESIGNATORS = MappingProxyType({
    "apt": "apartment", "apartment": "apartment", "suite": "suite", "ste": "suite", "unit": "unit",
    "rm": "room", "room": "room", "bldg": "building", "building": "building", "fl": "floor", "floor": "floor",
})
# US state and territory codes, read after a city ("Santa Clara, CA 95051"); DC is said as letters
US_STATES = MappingProxyType({
    "AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california", "CO": "colorado",
    "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia", "HI": "hawaii", "ID": "idaho",
    "IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas", "KY": "kentucky", "LA": "louisiana",
    "ME": "maine", "MD": "maryland", "MA": "massachusetts", "MI": "michigan", "MN": "minnesota",
    "MS": "mississippi", "MO": "missouri", "MT": "montana", "NE": "nebraska", "NV": "nevada",
    "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico", "NY": "new york", "NC": "north carolina",
    "ND": "north dakota", "OH": "ohio", "OK": "oklahoma", "OR": "oregon", "PA": "pennsylvania",
    "RI": "rhode island", "SC": "south carolina", "SD": "south dakota", "TN": "tennessee", "TX": "texas",
    "UT": "utah", "VT": "vermont", "VA": "virginia", "WA": "washington", "WV": "west virginia",
    "WI": "wisconsin", "WY": "wyoming", "PR": "puerto rico", "GU": "guam", "VI": "virgin islands",
})

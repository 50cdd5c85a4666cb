"""The one vocabulary of facechat: every attribute a person can ask for, as data.

Parser, prompts, editor backends, evaluation and UI all import this module; nothing else lists attribute
names. Each `Attribute` says which backend family serves it (``"expression"``: flow/geometry warps for
emotions and action units; ``"appearance"``: latent edits), the words people use for it, the words for
its opposite direction (``younger`` is a negative ``age``), whether it carries a value (a colour), and a
few example sentences the offline parser's sentence-embedding model compares paraphrases with.

Strength convention (signed): 1.0 is the typical full expression (the mean labelled example), 0.0 no
change, negative values suppress or reverse (``remove glasses``, ``stop smiling``, ``younger``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

#: Backend families. Each attribute is served by exactly one.
EXPRESSION = "expression"
APPEARANCE = "appearance"
FAMILIES: tuple[str, ...] = (EXPRESSION, APPEARANCE)

#: Default number of steps K per family: intermediate results of a flow edit, sampling steps of a latent edit.
DEFAULT_STEPS: MappingProxyType[str, int] = MappingProxyType({EXPRESSION: 5, APPEARANCE: 25})
#: Allowed range of ``steps`` (inclusive).
STEPS_RANGE: tuple[int, int] = (1, 100)

#: Largest absolute strength accepted anywhere (1.4 is "extremely"; numbers up to 2.0 are honoured).
MAX_STRENGTH = 2.0
#: Strength used when a request names an attribute with no intensity word ("make her smile").
DEFAULT_STRENGTH = 0.7


@dataclass(frozen=True)
class Band:
    """A named strength band: ``low < |strength| <= high``; ``value`` is what its words map to."""

    name: str
    value: float
    low: float
    high: float


#: The strength convention as one table, weakest first. Bands tile (0, MAX_STRENGTH].
STRENGTH_BANDS: tuple[Band, ...] = (
    Band("subtle", 0.3, 0.0, 0.4),
    Band("moderate", 0.5, 0.4, 0.6),
    Band("default", DEFAULT_STRENGTH, 0.6, 0.85),
    Band("strong", 1.0, 0.85, 1.2),
    Band("extreme", 1.4, 1.2, MAX_STRENGTH),
)

#: "more" / "less" rescale factors by the intensity band said with them ("a bit more" -> 1.25,
#: "much less" -> 0.5); also used for "smile more" / "less angry" on an attribute already edited.
RESCALE_FACTORS: MappingProxyType[str, MappingProxyType[str, float]] = MappingProxyType(
    {
        "more": MappingProxyType(
            {"subtle": 1.25, "moderate": 1.25, "default": 1.5, "strong": 2.0, "extreme": 2.5}
        ),
        "less": MappingProxyType(
            {"subtle": 0.8, "moderate": 0.8, "default": 1 / 1.5, "strong": 0.5, "extreme": 0.4}
        ),
    }
)

#: Intensity words and phrases -> band name. Longer phrases are matched before their parts.
INTENSITY_WORDS: MappingProxyType[str, str] = MappingProxyType(
    {
        # subtle (about 0.3)
        "slightly": "subtle",
        "slight": "subtle",
        "a touch": "subtle",
        "a tad": "subtle",
        "a tiny bit": "subtle",
        "a teeny bit": "subtle",
        "a little": "subtle",
        "a little bit": "subtle",
        "a hint": "subtle",
        "a hint of": "subtle",
        "hint of": "subtle",
        "a trace of": "subtle",
        "a smidge": "subtle",
        "a light": "subtle",
        "barely": "subtle",
        "subtle": "subtle",
        "subtly": "subtle",
        "faint": "subtle",
        "faintly": "subtle",
        "mild": "subtle",
        "mildly": "subtle",
        "lightly": "subtle",
        "light": "subtle",
        "gently": "subtle",
        "gentle": "subtle",
        "soft": "subtle",
        "softly": "subtle",
        "tiny": "subtle",
        "little": "subtle",
        "small": "subtle",
        "just a little": "subtle",
        "only a bit": "subtle",
        "only a little": "subtle",
        "only slightly": "subtle",
        "just slightly": "subtle",
        "low key": "subtle",
        "low-key": "subtle",
        "very slightly": "subtle",
        "ever so slightly": "subtle",
        "not too much": "subtle",
        "minimal": "subtle",
        "minimally": "subtle",
        "understated": "subtle",
        "delicate": "subtle",
        # moderate (about 0.5)
        "a bit": "moderate",
        "a little more than slightly": "moderate",
        "somewhat": "moderate",
        "moderately": "moderate",
        "moderate": "moderate",
        "kind of": "moderate",
        "kinda": "moderate",
        "sort of": "moderate",
        "sorta": "moderate",
        "fairly": "moderate",
        "partly": "moderate",
        "halfway": "moderate",
        "half way": "moderate",
        "partially": "moderate",
        "half": "moderate",
        "medium": "moderate",
        "reasonably": "moderate",
        "a fair bit": "moderate",
        "some": "moderate",
        "more or less": "moderate",
        # strong (about 1.0)
        "very": "strong",
        "really": "strong",
        "big": "strong",
        "broad": "strong",
        "broadly": "strong",
        "wide": "strong",
        "strongly": "strong",
        "strong": "strong",
        "a lot": "strong",
        "lots": "strong",
        "so": "strong",
        "super": "strong",
        "clearly": "strong",
        "obviously": "strong",
        "properly": "strong",
        "seriously": "strong",
        "deeply": "strong",
        "heavily": "strong",
        "heavy": "strong",
        "full": "strong",
        "fully": "strong",
        "totally": "strong",
        "completely": "strong",
        "quite": "default",
        "pretty": "default",
        "genuinely": "strong",
        "genuine": "strong",
        "real": "strong",
        "bold": "strong",
        "dramatic": "strong",
        "dramatically": "strong",
        "intense": "strong",
        "huge": "strong",
        "high": "strong",
        "pure": "strong",
        "sheer": "strong",
        "thick": "strong",
        "deep": "strong",
        "as hell": "strong",
        "af": "strong",
        "hella": "strong",
        "mega": "strong",
        "large": "strong",
        "much": "strong",
        "way": "strong",
        # extreme (about 1.4)
        "extremely": "extreme",
        "as much as possible": "extreme",
        "as much as you can": "extreme",
        "as far as possible": "extreme",
        "maximum": "extreme",
        "max": "extreme",
        "maxed out": "extreme",
        "to the max": "extreme",
        "all the way": "extreme",
        "incredibly": "extreme",
        "insanely": "extreme",
        "ridiculously": "extreme",
        "hugely": "extreme",
        "massively": "extreme",
        "massive": "extreme",
        "enormous": "extreme",
        "enormously": "extreme",
        "intensely": "extreme",
        "absolutely": "extreme",
        "utterly": "extreme",
        "exaggerated": "extreme",
        "over the top": "extreme",
        "really really": "extreme",
        "very very": "extreme",
        "super duper": "extreme",
        "crazy": "extreme",
        "extreme": "extreme",
        "outrageously": "extreme",
    }
)

#: Colour words -> canonical colour value of value-carrying attributes.
COLOURS: MappingProxyType[str, str] = MappingProxyType(
    {
        "black": "black",
        "jet black": "black",
        "dark": "black",
        "brown": "brown",
        "brunette": "brown",
        "chestnut": "brown",
        "chocolate": "brown",
        "blonde": "blonde",
        "blond": "blonde",
        "golden": "blonde",
        "platinum": "platinum",
        "platinum blonde": "platinum",
        "red": "red",
        "ginger": "red",
        "redhead": "red",
        "redheaded": "red",
        "auburn": "auburn",
        "copper": "auburn",
        "grey": "grey",
        "gray": "grey",
        "silver": "silver",
        "white": "white",
        "blue": "blue",
        "green": "green",
        "hazel": "hazel",
        "amber": "amber",
        "pink": "pink",
        "purple": "purple",
        "violet": "purple",
        "lilac": "purple",
        "orange": "orange",
        "teal": "teal",
        "turquoise": "teal",
        "burgundy": "burgundy",
        "wine": "burgundy",
        "maroon": "burgundy",
        "coral": "coral",
        "nude": "nude",
        "rainbow": "rainbow",
    }
)
#: Words that shade a following colour ("dark red" is red); alone, they are colours themselves.
COLOUR_MODIFIERS: frozenset[str] = frozenset(
    {"dark", "light", "bright", "deep", "pale", "pastel", "hot", "neon"}
)
#: The canonical colour values (what ``EditRequest.value`` may hold for colour attributes).
COLOUR_VALUES: frozenset[str] = frozenset(COLOURS.values())
#: Style words -> canonical style value, for attributes whose value is a kind rather than a colour
#: ("round glasses"). A request without one gets the backend's everyday default.
STYLES: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        "glasses": MappingProxyType(
            {
                "round": "round", "circular": "round", "lennon": "round", "wire-rimmed": "round",
                "wire rimmed": "round", "square": "square", "rectangular": "square", "boxy": "square",
                "thick-rimmed": "square", "thick rimmed": "square", "horn-rimmed": "square",
                "horn rimmed": "square", "sunglasses": "sunglasses", "sun glasses": "sunglasses",
                "shades": "sunglasses", "sunnies": "sunglasses", "tinted": "sunglasses",
            }
        )
    }
)  # fmt: skip
#: Every canonical style value.
STYLE_VALUES: frozenset[str] = frozenset(v for words in STYLES.values() for v in words.values())


@dataclass(frozen=True)
class Attribute:
    """One editable attribute.

    ``aliases`` and ``opposites`` are lower-case words or phrases; ``*`` inside a phrase stands for up to
    three other words ("raise * eyebrows" matches "raise her eyebrows"). ``opposites`` name the negative
    direction. ``examples`` are sentences the embedding matcher compares paraphrases with.
    """

    name: str
    family: str
    kind: str  # "emotion", "action_unit" or "appearance"
    label: str  # how replies name it: "slightly {label}"
    description: str  # one line for the LLM prompt
    aliases: tuple[str, ...]
    opposites: tuple[str, ...] = ()
    takes_value: bool = False
    examples: tuple[str, ...] = field(default=())
    negative_label: str = ""  # how replies name the negative direction ("younger"); "" -> "less {label}"
    noun: str = ""  # how replies name it as a thing ("a smile", "disgust"); "" -> the label


def _attr(
    name: str,
    family: str,
    kind: str,
    label: str,
    description: str,
    aliases: str,
    opposites: str = "",
    *,
    takes_value: bool = False,
    examples: tuple[str, ...] = (),
    negative_label: str = "",
    noun: str = "",
) -> Attribute:
    """Build an `Attribute` from ``|``-separated alias strings (keeps the table below readable)."""

    def split(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split("|") if part.strip())

    return Attribute(
        name,
        family,
        kind,
        label,
        description,
        split(aliases),
        split(opposites),
        takes_value,
        examples,
        negative_label,
        noun,
    )


ATTRIBUTES: tuple[Attribute, ...] = (
    # ---------------------------------------------------------------- emotions (expression family)
    _attr(
        "happy",
        EXPRESSION,
        "emotion",
        "happy",
        "happiness, a smile, a grin",
        "happy|happier|happiest|happiness|smile|smiles|smiling|smiled|smiley|smily|grin|grins|grinning"
        "|joy|joyful|joyous|cheerful|cheery|glad|delighted|beaming|beam|laugh|laughing|laughs|pleased"
        "|jolly|merry|ecstatic|elated|overjoyed|thrilled|content|contented|upbeat|chuffed|giddy"
        "|excited|radiant|bright smile|sunny|amused|lift * corners * mouth|raise * corners * mouth"
        "|mouth corners up|corners of * mouth up|upturned mouth|upturned lips",
        examples=(
            "make her look happy",
            "give him a big smile",
            "she should be smiling",
            "make them look joyful and cheerful",
            "look like she just won the lottery",
            "look like he heard great news",
            "on cloud nine",
            "over the moon",
            "best day of her life",
            "beaming with joy",
            "put a grin on his face",
            "laughing at a funny joke",
            "she just heard a great joke",
        ),
        noun="a smile",
    ),
    _attr(
        "sad",
        EXPRESSION,
        "emotion",
        "sad",
        "sadness, sorrow, a sad frown",
        "sad|sadder|saddest|sadness|unhappy|sorrow|sorrowful|gloomy|depressed|melancholy|melancholic"
        "|miserable|heartbroken|crying|cry|cries|tearful|teary|weepy|weeping|downcast|glum|blue mood"
        "|down in the dumps|frown|frowning|frowns|mournful|grief|grieving|despair|dejected|forlorn"
        "|sulky|sulking|upset|disappointed|hurt|somber|sombre|morose|woeful|bummed|pensive|lonely",
        examples=(
            "make her look sad",
            "make him look unhappy and down",
            "she should look like she is about to cry",
            "look like he just got bad news",
            "tears in her eyes",
            "like she lost her dog",
            "feeling blue",
            "make them look heartbroken",
            "a sorrowful face",
            "he just got fired from his job",
            "she just lost her job",
        ),
        noun="sadness",
    ),
    _attr(
        "angry",
        EXPRESSION,
        "emotion",
        "angry",
        "anger, rage, irritation",
        "angry|angrier|angriest|anger|mad|madder|furious|annoyed|irritated|irritation|rage|raging"
        "|enraged|livid|pissed|pissed off|fuming|irate|cross|grumpy|scowl|scowling|scowls|hostile"
        "|aggressive|outraged|infuriated|seething|fierce|grouchy|cranky|frustrated|indignant|menacing"
        "|stern|ticked off|wrathful|furiously|angrily",
        examples=(
            "make her look angry",
            "make him look furious",
            "she should look really mad at someone",
            "look like he is about to yell",
            "face like thunder",
            "about to explode with rage",
            "ready to fight",
            "seeing red",
            "losing his temper",
            "an enraged face",
            "look irritated and annoyed",
            "someone just insulted her",
            "he was insulted and offended",
        ),
        noun="anger",
    ),
    _attr(
        "surprised",
        EXPRESSION,
        "emotion",
        "surprised",
        "surprise, astonishment, shock",
        "surprised|surprise|surprising|surprisedly|shocked|shock|astonished|astonishment|amazed"
        "|amazement|startled|stunned|astounded|flabbergasted|gobsmacked|dumbfounded|awestruck|in awe"
        "|wow|gasp|gasping|taken aback|speechless|caught off guard|jaw dropping|jaw-dropping|bewildered",
        examples=(
            "make her look surprised",
            "make him look shocked",
            "look like she just saw something unexpected",
            "look astonished",
            "a wow face",
            "look like he can't believe it",
            "caught completely off guard",
            "can't believe her eyes",
        ),
        noun="surprise",
    ),
    _attr(
        "fearful",
        EXPRESSION,
        "emotion",
        "fearful",
        "fear, fright, anxiety",
        "fearful|fear|afraid|scared|scary|frightened|fright|terrified|terror|horrified|horror|anxious"
        "|anxiety|nervous|worried|worry|panicked|panic|panicking|alarmed|petrified|spooked|uneasy"
        "|apprehensive|timid|trembling|freaked out|frantic|distressed|tense",
        examples=(
            "make her look scared",
            "make him look afraid",
            "look like she saw a ghost",
            "look terrified",
            "look nervous and worried",
            "a frightened face",
            "watching a horror movie",
            "heard a noise in the dark",
            "scared of a spider",
        ),
        noun="fear",
    ),
    _attr(
        "disgusted",
        EXPRESSION,
        "emotion",
        "disgusted",
        "disgust, revulsion",
        "disgusted|disgust|disgusting|grossed out|gross|revolted|repulsed|repelled|sickened|nauseated"
        "|nauseous|yuck|eww|ew|icky|appalled|revulsion|queasy|repugnance|put off",
        examples=(
            "make her look disgusted",
            "make him look grossed out",
            "look like she smelled something rotten",
            "look like he tasted something awful",
            "a revolted face",
            "smelled a skunk",
            "ate something sour",
            "stepped in dog poop",
            "found a hair in her soup",
            "about to throw up",
            "going to vomit",
        ),
        noun="disgust",
    ),
    _attr(
        "contempt",
        EXPRESSION,
        "emotion",
        "contemptuous",
        "contempt, a one-sided smirk, disdain",
        "contempt|contemptuous|contemptful|smug|smugly|smirk|smirking|smirks|disdain|disdainful"
        "|sneer|sneering|sneers|scornful|scorn|condescending|arrogant|haughty|snobbish|snooty|snobby"
        "|superior|dismissive|unimpressed|mocking|sarcastic|cocky|patronizing|patronising|derisive",
        examples=(
            "make her look contemptuous",
            "give him a smug smirk",
            "look like she thinks she is better",
            "look condescending",
            "a disdainful face",
            "looking down on someone",
            "rolling his eyes at me",
            "look unimpressed and dismissive",
        ),
        noun="a smirk",
    ),
    _attr(
        "neutral",
        EXPRESSION,
        "emotion",
        "neutral",
        "a neutral, relaxed, expressionless face",
        "neutral|expressionless|blank|blank face|blank expression|poker face|straight face|deadpan"
        "|emotionless|no expression|calm|relaxed|serene|impassive|stoic|stony|stone faced|stone-faced"
        "|composed|unemotional|indifferent|serious|resting face|bored|relax * face|relax"
        "|remove * expression|wipe * expression|no emotion|neutralize|neutralise",
        examples=(
            "make her face neutral",
            "give him a poker face",
            "remove all expression",
            "make them look calm and relaxed",
            "a blank expression",
            "like a passport photo",
            "no emotion at all",
        ),
        noun="a neutral face",
    ),
    # The expression of a reference photo (editor.transfer): no aliases, so no parser names it from
    # words alone; the assistant asks for it when a message points at an attached reference photo
    # ("copy this expression", assistant.parsing.reference), and the request carries the measured
    # expression (EditRequest.expression). An emotion: it replaces the emotions applied, and they it.
    _attr(
        "reference",
        EXPRESSION,
        "emotion",
        "like the reference photo",
        "the expression of a reference photo the person attached ('copy this expression')",
        "",
        noun="the reference photo's expression",
    ),
    # ---------------------------------------------------------------- action units (expression family)
    _attr(
        "brow_raise",
        EXPRESSION,
        "action_unit",
        "raised eyebrows",
        "raise the eyebrows (AU1+2)",
        "raise * eyebrows|raised eyebrows|raising * eyebrows|raises * eyebrows|lift * eyebrows"
        "|lifted eyebrows|lifting * eyebrows|eyebrows up|eyebrows raised|eyebrows higher|higher eyebrows"
        "|arch * eyebrows|arched eyebrows|eyebrows lifted|eyebrow raise|eyebrows raise|eyebrows go up"
        "|eyebrows move up|move * eyebrows up|put * eyebrows up|push * eyebrows up",
        examples=("raise her eyebrows", "lift his brows", "eyebrows up high"),
    ),
    _attr(
        "brow_lower",
        EXPRESSION,
        "action_unit",
        "lowered eyebrows",
        "lower and furrow the eyebrows (AU4)",
        "frown with * eyebrows|lower * eyebrows|lowered eyebrows|lowering * eyebrows|furrow * eyebrows"
        "|furrowed eyebrows"
        "|furrowed brow|furrow|furrowing|knit * eyebrows|knitted eyebrows|eyebrows down|eyebrows lowered"
        "|eyebrows together|pull * eyebrows down|pull * eyebrows together|eyebrows lower|brow furrow"
        "|drop * eyebrows|eyebrows drawn together|frown lines",
        examples=("lower her eyebrows", "furrow his brow", "knit her brows together"),
    ),
    _attr(
        "eyes_wide",
        EXPRESSION,
        "action_unit",
        "wide eyes",
        "open the eyes wide (AU5)",
        "wide eyes|wide eyed|wide-eyed|widen * eyes|widened eyes|widening * eyes|eyes wide|eyes wider"
        "|wider eyes|open * eyes wide|eyes wide open|wide open eyes|bigger eyes|eyes bigger|big eyes"
        "|larger eyes|eyes larger|bulging eyes|eyes bulging|pop * eyes|saucer eyes|doe eyes|doe-eyed"
        "|eyes * wide open|eyes * wide",
        examples=("widen her eyes", "make his eyes wide open", "big round eyes"),
    ),
    _attr(
        "squint",
        EXPRESSION,
        "action_unit",
        "squinting",
        "narrow the eyes, squint (AU6/AU7)",
        "squint|squints|squinting|squinted|squinty|narrow * eyes|narrowed eyes|narrowing * eyes"
        "|eyes narrowed|eyes narrow|narrower eyes|eyes narrower|smaller eyes|eyes smaller|slit eyes",
        opposites="unsquint",
        examples=("make her squint", "narrow his eyes", "squinting at the sun"),
    ),
    _attr(
        "eyes_closed",
        EXPRESSION,
        "action_unit",
        "closed eyes",
        "close both eyes (AU43)",
        "close * eyes|closed eyes|closing * eyes|eyes closed|eyes shut|shut * eyes|shut eyes|blink"
        "|blinking|blinks|asleep|sleeping|sleepy|eyes half closed|droopy eyes|drowsy|eyelids down"
        "|eyes close",
        opposites="open * eyes|opened eyes|eyes open|eyes opened|awake|wake * up",
        negative_label="eyes opened",
        examples=("close her eyes", "make him look asleep", "shut her eyes"),
    ),
    _attr(
        "wink_left",
        EXPRESSION,
        "action_unit",
        "winking (left eye)",
        "close the subject's own left eye only (a wink); plain 'wink' means the left eye",
        "wink * left|left wink|left eye wink|left eye closed|close * left eye|closed left eye"
        "|shut * left eye|left eye shut|wink|winks|winking|winked",
        examples=("make her wink", "wink with his left eye", "close her left eye"),
    ),
    _attr(
        "wink_right",
        EXPRESSION,
        "action_unit",
        "winking (right eye)",
        "close the subject's own right eye only",
        "wink * right|right wink|right eye wink|right eye closed|close * right eye|closed right eye"
        "|shut * right eye|right eye shut",
        examples=("wink with her right eye", "close his right eye"),
    ),
    _attr(
        "mouth_open",
        EXPRESSION,
        "action_unit",
        "open mouth",
        "open the mouth / drop the jaw (AU26/27)",
        "open * mouth|opened mouth|mouth open|mouth opened|opening * mouth|mouth wide open|open-mouthed"
        "|open mouthed|gaping|gape|agape|jaw drop|jaw dropped|drop * jaw|dropped jaw|drops * jaw"
        "|slack jawed|slack-jawed|mouth ajar|lips apart|part * lips|parted lips|yawn|yawning|mouth * open",
        opposites="close * mouth|closed mouth|mouth closed|shut * mouth|mouth shut",
        negative_label="mouth closed",
        examples=("open her mouth", "let his jaw drop", "mouth wide open"),
    ),
    _attr(
        "pout",
        EXPRESSION,
        "action_unit",
        "pouting",
        "push the lips forward, pout (AU18/22)",
        "pout|pouts|pouting|pouty|pouted|pucker|puckered|puckering|duck face|duckface|purse * lips"
        "|pursed lips|pursing * lips|kissy face|kiss face|blow * kiss|lips pushed out|push * lips out",
        examples=("make her pout", "pucker his lips", "duck face"),
    ),
    _attr(
        "lip_press",
        EXPRESSION,
        "action_unit",
        "pressed lips",
        "press the lips together (AU24)",
        "press * lips|pressed lips|lips pressed|pressing * lips|lips together|tight lips|tight-lipped"
        "|tight lipped|tighten * lips|tightened lips|lips tight|thin lips|thin-lipped|clench * lips"
        "|lips clenched|compress * lips|compressed lips|bite * lip|biting * lip|lips sealed|seal * lips",
        examples=("press her lips together", "make him tight-lipped"),
    ),
    _attr(
        "nose_wrinkle",
        EXPRESSION,
        "action_unit",
        "wrinkled nose",
        "wrinkle the nose (AU9)",
        "wrinkle * nose|wrinkled nose|wrinkling * nose|nose wrinkle|nose wrinkled|nose wrinkling"
        "|scrunch * nose|scrunched nose|scrunching * nose|scrunch up * nose|crinkle * nose"
        "|crinkled nose|nose scrunch|nose scrunched|turn up * nose|turned up nose|nose crinkle",
        examples=("wrinkle her nose", "scrunch up his nose"),
    ),
    # ---------------------------------------------------------------- appearance (latent family)
    _attr(
        "glasses",
        APPEARANCE,
        "appearance",
        "glasses",
        "eyeglasses (negative: remove them)",
        "glasses|eyeglasses|spectacles|specs|sunglasses|sun glasses|sunnies|shades|reading glasses|monocle"
        "|eyewear|bifocals|goggles",
        negative_label="without glasses",
        examples=("put glasses on her", "give him spectacles", "add a pair of glasses"),
    ),
    _attr(
        "age",
        APPEARANCE,
        "appearance",
        "older",
        "apparent age (positive older, negative younger)",
        "older|old|aged|age|aging|ageing|elderly|senior|like a grandma|like a grandpa|like a grandmother"
        "|like a grandfather|like a pensioner|wrinkles|wrinkly|wrinkled|mature|oldest",
        opposites="younger|young|youthful|youth|de-age|deage|rejuvenate|rejuvenated|childlike|like a child"
        "|like a kid|like a teenager|like a teen|baby face|babyface|youngest",
        negative_label="younger",
        examples=("make her look older", "make him look like a grandpa", "add some years to her face"),
    ),
    _attr(
        "hair_color",
        APPEARANCE,
        "appearance",
        "hair colour",
        "hair colour; value is the colour",
        "hair color|hair|haired|hairs|redhead|dye * hair|dyed hair|highlights|brunette|blonde|blond",
        takes_value=True,
        examples=("change her hair color", "dye his hair", "give her red hair"),
    ),
    # Latent-only: no built-in backend draws new hair, a local diffusers model can (editor/latent).
    _attr(
        "hair_style",
        APPEARANCE,
        "appearance",
        "hairstyle",
        "a different hairstyle or haircut (needs a latent model)",
        "hairstyle|hair style|hairstyles|haircut|hair cut|hairdo|curly hair|curls|wavy hair|straight hair"
        "|long hair|short hair|bob cut|pixie cut|ponytail|braids|braided hair|bangs|updo",
        examples=("give her a new hairstyle", "change his haircut", "give her curly hair"),
        noun="a new hairstyle",
    ),
    _attr(
        "lipstick",
        APPEARANCE,
        "appearance",
        "lipstick",
        "lipstick; value is the colour",
        "lipstick|lip color|lipcolor|lip gloss|lipgloss|colored lips|lips colored|lips painted|paint * lips",
        takes_value=True,
        negative_label="without lipstick",
        examples=("put lipstick on her", "give her red lips"),
    ),
    _attr(
        "eye_color",
        APPEARANCE,
        "appearance",
        "eye colour",
        "iris colour; value is the colour",
        "eye color|eyes color|iris color|iris|irises|colored eyes|contacts|contact lenses",
        takes_value=True,
        examples=("change her eye color", "give him blue eyes"),
    ),
    _attr(
        "makeup",
        APPEARANCE,
        "appearance",
        "makeup",
        "cosmetics in general (negative: remove them)",
        "makeup|cosmetics|mascara|eyeliner|eye liner|eyeshadow|eye shadow|blush|blusher|foundation"
        "|rouge|glam|glamorous|done up|dolled up|made up|contour|contouring",
        opposites="bare faced|bare-faced|barefaced|natural look|no-makeup look",
        negative_label="less makeup",
        examples=("put makeup on her", "give him some eyeliner", "make her look glamorous with makeup"),
    ),
    _attr(
        "tan",
        APPEARANCE,
        "appearance",
        "tan",
        "sun tan (negative: paler skin)",
        "tan|tanned|tanning|suntan|suntanned|sun tan|sun-kissed|sunkissed|bronzed|bronze|darker skin"
        "|skin darker|beach tan",
        opposites="paler|pale|pallid|lighter skin|skin lighter|pasty|fairer|fair skinned|ghostly pale",
        negative_label="paler",
        examples=("give her a tan", "make him look sun-tanned", "bronzed skin"),
    ),
    _attr(
        "beard",
        APPEARANCE,
        "appearance",
        "beard",
        "beard or facial hair (negative: clean-shaven)",
        "beard|bearded|beardy|stubble|stubbly|facial hair|goatee|mustache|moustache|mustached"
        "|moustached|sideburns|whiskers|five o'clock shadow|scruff|scruffy",
        opposites="shave * beard off|shave * stubble off|shave * beard|shave * stubble|shave off * beard"
        "|shave|shaved|shaven|clean shaven|clean-shaven"
        "|beardless|shaving",
        negative_label="less beard (shaved)",
        examples=("give him a beard", "add some stubble", "a bearded man"),
    ),
)

#: Kinds whose attributes replace one another: a new emotion replaces the emotions already applied
#: (unless the person says "also", "as well", "keep ..."); action units and appearance compose.
EXCLUSIVE_KINDS: frozenset[str] = frozenset({"emotion"})


@dataclass(frozen=True)
class WordSense:
    """A word or phrase that names an attribute AND how much of it: "furious" is a strong anger.

    ``band`` is the strength band the word itself carries; an intensity word said with it wins ("a
    little furious" is slight, "really annoyed" strong), and so does a hedge clause ("repulsed, but only
    a bit"). ``reading``: the word is an interpretation rather than a name ("tired" -> slightly closed
    eyes), so the reply says what it was read as. ``also``: attributes the phrase names as well
    ("jaw-dropping": surprise and an open mouth).
    """

    phrase: str
    attribute: str
    band: str
    reading: bool = False
    also: tuple[str, ...] = ()


def _senses(table: tuple[tuple, ...]) -> tuple[WordSense, ...]:
    """`WordSense` rows from ``(attribute, band, "word|word|...", reading[, also])`` rows."""
    return tuple(
        WordSense(phrase.strip(), row[0], row[1], row[3], tuple(row[4]) if len(row) > 4 else ())
        for row in table
        for phrase in row[2].split("|")
        if phrase.strip()
    )


#: Words that carry their own strength (and everyday phrasings read as an attribute), as data.
WORD_SENSES: tuple[WordSense, ...] = _senses(
    (
        ("angry", "strong", "furious|livid|enraged|irate|seething|fuming|raging|outraged|infuriated"
         "|incensed|wrathful|furiously", False),
        ("angry", "subtle", "annoyed|irritated|peeved|miffed|irked|displeased", False),
        ("fearful", "strong", "terrified|horrified|petrified|panicked|panicking|panic stricken"
         "|panic-stricken|scared stiff|scared to death", False),
        ("fearful", "subtle", "uneasy|apprehensive|wary|jittery", False),
        ("surprised", "strong", "astonished|shocked|stunned|astounded|flabbergasted|gobsmacked"
         "|dumbfounded|thunderstruck", False),
        ("happy", "strong", "ecstatic|beaming|overjoyed|elated|euphoric|jubilant|from ear to ear"
         "|grinning from ear to ear|smiling from ear to ear|ear to ear", False),
        ("happy", "subtle", "pleased|content|contented", False),
        ("happy", "subtle", "friendly|friendlier|friendliest|warm|warmer|approachable|welcoming"
         "|less serious|less stern|lighten up|lightened up", True),
        ("sad", "strong", "devastated|distraught|inconsolable|grief stricken|grief-stricken", False),
        ("sad", "subtle", "wistful", False),
        ("disgusted", "strong", "revolted|repulsed|nauseated|appalled", False),
        ("eyes_closed", "subtle", "tired|weary|tiredly", True),
        ("eyes_closed", "moderate", "exhausted|worn out|worn-out|knackered|drained", True),
        ("surprised", "default", "jaw dropping|jaw-dropping", False, ("mouth_open",)),
        ("angry", "default", "angry eyebrows|angry frown", False, ("brow_lower",)),
        ("eyes_wide", "default", "open * eyes wider|open * eyes * wider|open * eyes more"
         "|open * eyes bigger|eyes open wider", False),
    )
)  # fmt: skip
#: Phrase -> its `WordSense`.
SENSES: MappingProxyType[str, WordSense] = MappingProxyType({s.phrase: s for s in WORD_SENSES})

#: "N years older/younger" edits this attribute with strength N / AGE_YEARS_PER_UNIT.
YEARS_ATTRIBUTE = "age"
AGE_YEARS_PER_UNIT = 20.0
#: The attribute whose requests carry a reference photo's measured expression (`editor.transfer`).
REFERENCE = "reference"
#: A wink that names no eye closes this one (the subject's own left).
DEFAULT_WINK = "wink_left"

#: Canonical name -> Attribute (read-only).
BY_NAME: MappingProxyType[str, Attribute] = MappingProxyType({a.name: a for a in ATTRIBUTES})
#: Every canonical attribute name, in table order.
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
#: The attribute a colour word alone implies, per "<colour> <noun>" noun ("red hair", "blue eyes").
COLOUR_NOUNS: MappingProxyType[str, str] = MappingProxyType(
    {
        "hair": "hair_color",
        "haired": "hair_color",
        "locks": "hair_color",
        "eyes": "eye_color",
        "eyed": "eye_color",
        "iris": "eye_color",
        "irises": "eye_color",
        "lips": "lipstick",
        "lipstick": "lipstick",
        "lip": "lipstick",
    }
)


def attribute(name: str) -> Attribute:
    """The `Attribute` called ``name``; raises ``KeyError`` naming the valid names if unknown."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"Unknown attribute {name!r}; use one of: {', '.join(ATTRIBUTE_NAMES)}.") from None


def family(name: str) -> str:
    """The backend family (``"expression"`` or ``"appearance"``) serving attribute ``name``."""
    return attribute(name).family


def default_steps(name: str) -> int:
    """Default ``steps`` for attribute ``name`` (by its backend family)."""
    return DEFAULT_STEPS[family(name)]


def takes_value(name: str) -> bool:
    """Whether attribute ``name`` carries a value (a colour)."""
    return attribute(name).takes_value


def styles(name: str) -> MappingProxyType[str, str]:
    """Style words -> canonical style of attribute ``name`` (empty for attributes without styles)."""
    return STYLES.get(name, MappingProxyType({}))


def band(name: str) -> Band:
    """The `Band` called ``name`` ("subtle", "moderate", "default", "strong", "extreme")."""
    for item in STRENGTH_BANDS:
        if item.name == name:
            return item
    raise KeyError(
        f"Unknown strength band {name!r}; use one of: {', '.join(b.name for b in STRENGTH_BANDS)}."
    )


def band_of(strength: float) -> str:
    """Name of the band holding ``|strength|``; ``"none"`` for 0."""
    magnitude = abs(strength)
    if magnitude == 0:
        return "none"
    for item in STRENGTH_BANDS:
        if item.low < magnitude <= item.high:
            return item.name
    return STRENGTH_BANDS[-1].name


def intensity_strength(word: str) -> float:
    """Strength magnitude an intensity word or phrase maps to (``"slightly"`` -> 0.3)."""
    return band(INTENSITY_WORDS[word]).value


def replaces_others(name: str) -> bool:
    """Whether a new request for ``name`` replaces the applied attributes of its kind (emotions do)."""
    return attribute(name).kind in EXCLUSIVE_KINDS


def noun_phrase(name: str, strength: float | None = None, *, definite: bool = False) -> str:
    """Attribute ``name`` as a thing: ``"the smile"`` (definite), ``"a slight disgust"`` (with strength)."""
    item = attribute(name)
    noun = item.noun or item.label
    bare = noun.removeprefix("a ").removeprefix("an ")
    if definite:
        return f"the {bare}"
    adjective = {"subtle": "slight", "moderate": "moderate", "strong": "strong", "extreme": "extreme"}.get(
        band_of(strength or 0.0), ""
    )
    if not adjective:
        return noun
    article = "an" if adjective[0] in "aeiou" else "a"
    return f"{article} {adjective} {bare}"


def describe(name: str, strength: float, value: str | None = None) -> str:
    """A short phrase for replies: ``describe("disgusted", 0.3)`` -> ``"slightly disgusted"``."""
    item = attribute(name)
    label = f"{value} {item.label}" if value else item.label
    if value and item.label in value:
        label = value  # "sunglasses", not "sunglasses glasses"
    adverb = {
        "subtle": "slightly",
        "moderate": "a bit",
        "default": "",
        "strong": "very",
        "extreme": "extremely",
    }
    word = adverb.get(band_of(strength), "")
    comparative = {"strong": "much", "extreme": "far"}.get(band_of(strength), word)
    if strength < 0:
        negative = item.negative_label or f"less {label}"
        return f"{comparative} {negative}".strip()
    if name == YEARS_ATTRIBUTE:
        return f"{comparative} {label}".strip()  # "much older", not "very older"
    return f"{word} {label}".strip()

"""The offline parser's own word lists (data): commands, negation, relative change, replacement, safety.

Attribute words, intensity words and colours live in `editor.vocabulary`; this module holds only the
words that steer parsing. Patterns are regular expressions over normalised text (see
`assistant.parsing.text.normalize`: lower case, single spaces, "do not" instead of "don't").
"""

from __future__ import annotations

#: Command patterns, checked in this order (first match wins for the command slot).
COMMAND_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "reset",
        r"\breset\b|\b(the way|how|as) (it|she|he|they) (was|were|looked)\b"
        r"|\bstart (all )?over\b|\bstart again\b|\bstart from scratch\b|\bfrom scratch\b"
        r"|\b(back|go back|revert|return|restore|take (it|me) back)( it)? to (the |my )?(original|beginning"
        r"|start)\b"
        r"|\brestore (the )?original\b|\boriginal (photo|image|picture|face|version)\b"
        r"|\b(clear|remove|undo|revert|drop|erase|discard|cancel) (all|every)( the| of the| my)? (edits"
        r"|changes)\b"
        r"|\b(undo|revert|clear|erase) everything\b|\bwipe (it|everything) clean\b|\bclean slate\b",
    ),
    (
        "redo",
        r"\bredo\b|\bre-do\b|\bundo (the|that|my|your) undo\b|\bput (it|that) back\b|\bbring (it|that) back\b"
        r"|\bgo forward\b|\bstep forward\b|\bforward (one|a) step\b",
    ),
    (
        "undo",
        r"\bundo\b|\bun-do\b|\bgo back\b|\bstep back\b|\bback (one|a) step\b|\brevert\b|\brollback\b"
        r"|\broll (it |that )?back\b|\btake (that|it) back\b|\bscratch that\b|\bprevious (one|version|state"
        r"|image)\b"
        r"|\bcancel (that|the last|last)\b|\b(remove|drop|discard) (that|the last) (edit|change)\b"
        r"|\bdid not like (that|it)\b|\bgo back one\b|\bback up\b",
    ),
    (
        "show_steps",
        r"\bsteps\b|\bstep by step\b|\b(what|which) (edits |changes )?(did you|have you|you have|you did)"
        r"( do| done| change| changed| made| make| apply| applied)?\b"
        r"|\b(show|list|give|tell)( me)? (the |all the |your )?(edits|changes|history|sequence|progression"
        r"|stages)\b"
        r"|\bhow did you get\b|\bhistory\b|\bintermediate\b|\bin between\b|\bframes\b",
    ),
    (
        "less",
        r"\bless\b|\bweaker\b|\btone (it |that |this )?down\b|\bdial (it |that )?(back|down)\b"
        r"|\b(a bit|a little|a tad|way|too|rather|kind of|bit) much\b|\bhalf as\b"
        r"|\btoo (much|strong|far|intense"
        r"|extreme|dramatic|exaggerated|obvious|heavy|big)\b|\bsofter\b|\bsubtler\b|\bmore subtle\b"
        r"|\breduce\b"
        r"|\bdecrease\b|\bback off\b|\bease (up|off)\b|\bturn (it |that )?down\b|\boverdone\b|\bnot so much\b"
        r"|\bhalf as much\b|\bhalve\b|\bpull (it |that )?back\b|\bcalm (it|that) down\b"
        r"|\blighter\b|\bsmaller\b"
        r"|\bweaken\b|\blower\b|\bscale (it |that )?(back|down)\b|\bnot as much\b|\bgentler\b|\bmilder\b"
        r"|\bover the top\b|\boverkill\b|\bway too\b",
    ),
    (
        "more",
        r"\bmore\b|\bstronger\b|\bintensify\b|\bincrease\b|\bboost\b|\bamplify\b|\bexaggerate\b|\bcrank\b"
        r"|\bturn (it |that )?up\b|\bpush (it|that)( further)?\b|\bgo further\b"
        r"|\bfurther\b|\bnot enough\b|\bdouble\b"
        r"|\bharder\b|\bbigger\b|\bkeep going\b|\bamp (it |that )?up\b|\btwice\b|\bstrengthen\b|\bheighten\b"
        r"|\bstep it up\b|\bpump (it |that )?up\b|\bextra\b|\bintenser\b|\bstill too (little|weak|subtle"
        r"|faint)\b"
        r"|\btoo (little|weak|subtle|faint)\b|\bhardly (see|notice)\b|\bcan not (see|tell|notice)\b"
        r"|\bcan barely\b",
    ),
)

#: Explicit more/less factors ("twice as much" -> 2.0), checked before the band-based default.
FACTOR_PATTERNS: tuple[tuple[str, float], ...] = (
    (r"\b(twice|double|2x|two times)\b", 2.0),
    (r"\b(three times|triple|3x)\b", 3.0),
    (r"\b(half as (much|strong|strongly|intense|big)|halve|half)\b", 0.5),
)
#: Words before an attribute that negate or suppress it ("stop smiling", "no glasses", "not angry").
NEGATORS_BEFORE = (
    r"\bnot\b|\bno\b|\bnever\b|\bstop\b|\bstops\b|\bremove\b|\bremoving\b|\bwithout\b|\btoo\b"
    r"|\bless\b|\blose\b|\bdrop\b"
    r"|\berase\b|\bdelete\b|\btake (off|away|out)\b|\bget rid of\b|\bgetting rid of\b"
    r"|\brid of\b|\bwipe( off| away)?\b"
    r"|\bminus\b|\bnix\b|\bditch\b|\bhide\b|\bcancel\b|\bnone\b|\bfewer\b|\breduce\b"
    r"|\bdecrease\b|\btone down\b"
    r"|\bdial down\b|\bturn down\b|\bsuppress\b|\bweaken\b|\bsoften\b|\bnever\b"
    r"|\bquit\b|\bstrip\b|\bshave off\b"
    r"|\bun\b|\bclear\b|\banti\b|\bweaker\b|\bsmaller\b|\bfainter\b|\bnot any\b"
    r"|\bno longer\b|\bno more\b|\blessen\b|\bminimi[sz]e\b|\beliminate\b"
)
#: "bring the glasses back", "put her smile back", "restore the beard": take back an earlier removal.
RESTORE_BEFORE = r"\b(bring|put|give|add|get)\b"
RESTORE_AFTER = r"\bback\b"
RESTORE_ONLY = r"\b(restore|re-add|readd)\b"
#: "not angry enough": a stronger edit, not a negation.
NOT_ENOUGH_PATTERN = r"\benough\b"
#: Words after an attribute that negate it ("glasses off", "the beard gone", "smile less").
NEGATORS_AFTER = r"\boff\b|\bgone\b|\baway\b|\bremoved\b|\bless\b|\bno more\b|\bany ?more\b|\bweaker\b"
#: Words before an attribute that make its strength a change on top of the current one.
RELATIVE_BEFORE = (
    r"\btoo\b|\bmore\b|\bless\b|\bbigger\b|\bwider\b|\blarger\b|\bbroader\b|\bsmaller\b|\bnarrower\b"
    r"|\bincrease\b|\bboost\b|\bintensify\b|\bamplify\b|\bstrengthen\b|\bextra\b|\beven\b"
    r"|\breduce\b|\bdecrease\b|\btone down\b|\bdial down\b|\bturn down\b|\bweaken\b|\bsoften\b|\blessen\b"
    r"|\bturn up\b|\bdial up\b|\bcrank up\b|\bpump up\b|\bstronger\b|\bweaker\b|\bfurther\b"
)
RELATIVE_AFTER = r"\bmore\b|\bless\b|\bstronger\b|\bweaker\b|\bstill\b|\bthan (before|that|now)\b"
#: Words after an attribute that suppress rather than add (negative relative change).
WEAKER_WORDS = (
    r"\bless\b|\breduce\b|\bdecrease\b|\btone down\b|\bdial down\b|\bturn down\b"
    r"|\bweaken\b|\bsoften\b|\blessen\b|\bweaker\b"
)

#: The message replaces the previous turn's edit ("sad instead", "actually make her surprised").
INSTEAD_PATTERN = (
    r"\binstead\b|\brather than\b|\brather\b|^(no|nope|nah)\s*[,.!-]|^(wait|hmm|hm|oops)\b|^actually\b"
    r"|\bon second thought\b"
    r"|\bchange (it|that|this) to\b|\bswitch (it |that )?to\b|\bnot that\b|\bi meant\b|\bi mean\b"
)
#: The words after these name the replaced edit and are dropped ("sad instead of angry").
REPLACED_PATTERN = r"\b(instead of|rather than|in place of|not)\b(?P<replaced>.*)$"

#: Clause separators (after normalisation).
CLAUSE_SPLIT = (
    r"\s*(?:[,;!?:]|\.(?!\d)|\band then\b|\band also\b|\bas well as\b|\band\b|\bbut\b|\bthen\b|\balso\b"
    r"|\bplus\b|\bwhile\b|&)\s*"
)

#: Text that tries to subvert the assistant or asks for secrets: no edit, a refusal.
HOSTILE_PATTERN = (
    r"\bignore\b.{0,40}\b(instructions?|prompts?|rules|messages?|above|previous)\b|\bsystem prompt\b"
    r"|\bapi[ _-]?keys?\b|\bpasswords?\b|\bcredentials?\b|\bsecret\b|\btokens?\b|\bjailbreak\b"
    r"|\bdeveloper mode\b|\bdan mode\b|\byou are now\b|\bpretend (you are|to be)\b|\bact as\b"
    r"|\bdisregard\b|\boverride\b|\breveal\b|\benv(ironment)? var|\brm -rf\b|\bdrop table\b|<script"
    r"|\bsudo\b|\bexec\b|\beval\b|\bimport os\b|\b(print|show|tell|give|dump|leak)\b.{0,30}\b(config"
    r"|configuration|instructions|prompt|keys?)\b"
)
#: Abuse: no edit, a calm reply.
ABUSE_PATTERN = r"\b(stupid|idiot|dumb|useless|shut up|hate you|f+u+c+k|shit|crap|moron|suck|sucks)\b"
#: Greetings and thanks.
SMALL_TALK_PATTERN = (
    r"^(hi|hello|hey|yo|hiya|good (morning|afternoon|evening)|thanks|thank you|thx|cheers|great|perfect|nice"
    r"|awesome|cool|ok|okay|good|lovely|looks (good|great)|that is (good|great|perfect)|love it|wow nice)\b"
)
#: Satisfaction that names an emotion word but asks for nothing ("I'm happy with it").
SATISFIED_PATTERN = (
    r"\b(i am|im|i|we are|we)\s+(so |very |really |quite )?(happy|glad|pleased|satisfied|content|fine|done)\b"
    r"|\b(happy|fine|good|okay|ok) (with|about) (it|that|this|the result)\b|^(that is|it is|this is"
    r"|looks) (good|great|fine|perfect)\b"
)
HELP_PATTERN = (
    r"\bhelp\b|\bwhat can you do\b|\bhow does this work\b|\bwhat do you do\b|\bcommands\b|\boptions\b"
)

#: Words that say nothing about what to edit; a clause of only these has no content for the embedder.
FILLER_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "her",
        "his",
        "him",
        "she",
        "he",
        "they",
        "them",
        "their",
        "its",
        "it",
        "this",
        "that",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "us",
        "our",
        "please",
        "make",
        "makes",
        "making",
        "made",
        "look",
        "looks",
        "looking",
        "seem",
        "seems",
        "appear",
        "appears",
        "give",
        "gives",
        "put",
        "add",
        "set",
        "let",
        "have",
        "has",
        "be",
        "is",
        "are",
        "am",
        "was",
        "were",
        "being",
        "been",
        "do",
        "does",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "now",
        "also",
        "and",
        "but",
        "or",
        "so",
        "then",
        "face",
        "person",
        "man",
        "woman",
        "guy",
        "girl",
        "lady",
        "boy",
        "photo",
        "picture",
        "image",
        "pic",
        "expression",
        "slightly",
        "bit",
        "little",
        "more",
        "less",
        "very",
        "really",
        "some",
        "kind",
        "sort",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "up",
        "down",
        "a",
        "into",
        "like",
        "as",
        "same",
        "one",
        "again",
        "too",
        "okay",
        "ok",
        "keep",
        "wife",
        "husband",
        "friend",
        "mum",
        "mom",
        "dad",
        "mother",
        "father",
        "son",
        "daughter",
        "brother",
        "sister",
        "boyfriend",
        "girlfriend",
        "baby",
        "someone",
        "something",
        "keeping",
        "still",
        "get",
        "go",
        "bring",
        "turn",
        "want",
        "wanted",
        "need",
        "there",
        "here",
        "show",
        "wait",
        "hmm",
        "hm",
        "um",
        "uh",
        "oh",
        "no",
        "nope",
        "yes",
        "yeah",
        "actually",
        "instead",
        "well",
    ]
)

#: "N steps" in a message sets ``steps`` for its requests.
STEPS_PATTERN = (
    r"\b(?:in|with|over|using|use|take|at)?\s*(\d{1,3})\s*(?:steps?|frames?|stages?|iterations?)\b"
)
#: A bare strength for the last edit: "make it 80%", "set it to 0.5", "intensity 7/10", "50%".
SET_STRENGTH_PATTERN = (
    r"\b(make|set|put|turn|change) (it|that|this|the (strength|intensity|level|edit))\b"
    r"|\b(strength|intensity|level|amount)\b|\d percent\b|\d ?(out of|/) ?(10|5|100)\b|^\s*-?\d+(\.\d+)?\s*$"
)
#: "N years older/younger".
YEARS_PATTERN = r"\b(\d{1,3})\s*(?:years?|yrs?)\b(?:\s*(?:old|of age)\b)?\s*(?P<dir>older|younger)?"
#: "age her by 20 years", "add 10 years": older without saying "older".
YEARS_ADDED_PATTERN = r"\b(age|aged|add|adding|put on)\b( [a-z]+)?( by)?( about| around| roughly)?"
#: "as happy as possible", "as wide as you can": the extreme band.
AS_POSSIBLE_PATTERN = (
    r"\bas [#a-z' -]{1,40}? as (possible|you can|it gets|can be|humanly possible"
    r"|(they|it|she|he|you|we) (can|could|go|goes|will go|can go|get|gets))\b"
)
#: Explicit strength numbers: percent, "N out of 10", "N/10", plain decimals.
#: A number counts only as a word of its own: not inside code or a payload ("1=1", "alert(1)", "x*2",
#: '"strength":99'), which the guards below leave out.
_NUMBER_BEFORE = r"(?<![\w.=\"'<>/*+^&|\\:])(?<!\w\()"
_NUMBER_AFTER = r"(?![\w.=\"'<>/*+^&|\\(])"
PERCENT_PATTERN = _NUMBER_BEFORE + r"(-?\d+(?:\.\d+)?)\s*percent\b"
OUT_OF_PATTERN = _NUMBER_BEFORE + r"(-?\d+(?:\.\d+)?)\s*(?:out of|/)\s*(10|5|100)\b"
NUMBER_PATTERN = _NUMBER_BEFORE + r"(-?\d+(?:\.\d+)?|-?\.\d+)" + _NUMBER_AFTER

#: A message that mainly instructs the system (a prompt injection, a pasted JSON payload): no edit.
INSTRUCTION_PATTERN = (
    r"\bnew (?:instructions?|rules|task|role)\b|\binstructions?\s*:|^\s*(?:system|assistant|developer)\s*[:,]"
    r"|\brespond (?:only )?(?:with|in)\b|\boutput (?:only |exactly |the following |this )?(?:json\b|[:{\[])"
    r"|[{\[]\s*\"|\bfrom now on\b.{0,40}\b(?:always|set|respond|output|use|every)\b"
    r"|\byour (?:new )?(?:task|role|job) is\b|\bforget (?:everything|all|your)\b"
)
#: "go back two steps", "undo twice", "undo the last 2 changes": undo (or redo) repeated.
COUNT_PATTERN = (
    r"\b(?:(?:go|step|roll|move|take (?:it|me)) back|undo|redo)(?: (?:the )?(?:last|that|it|this))?"
    r" (?:(?P<n>\d{1,2})(?: (?:steps?|times|edits?|changes?|turns?))?|(?P<word>twice|three times|thrice))\b"
)
COUNT_WORDS: dict[str, int] = {"twice": 2, "three times": 3, "thrice": 3}
#: The new emotions add to those applied ("also", "as well", "keep the smile") instead of replacing them.
KEEP_PATTERN = (
    r"\balso\b|\bas well\b|^(?:and|plus)\b|\bin addition\b|\bon top of\b|\badditionally\b|\btoo[.! ]*$"
    r"|\bkeep(?:ing)? (?:the |her |his |their |that )?(?:[a-z]+ )?(?:smile|smiling|expression|look)\b"
)
#: A clause that names what should stay ("but keep the smile"): it asks for no change.
KEEP_CLAUSE_PATTERN = r"^(?:but |and |while )?(?:keep|keeping|leave|preserve|maintain|retain|hold on to)\b"
#: "smile like before", "the smile again": the strength the attribute had earlier.
RECALL_PATTERN = (
    r"\b(?:like|as|same as) (?:before|earlier|previously|it was|last time|the last time|the first time"
    r"|at first|you had it)\b|\bagain\b"
)
#: Comparative attribute words: with a percentage they scale the current strength ("20% happier").
COMPARATIVE_PATTERN = (
    r"\b(?:[a-z]+ier|sadder|madder|older|younger|wider|bigger|larger|smaller|warmer|broader|paler"
    r"|darker|narrower)\b"
)

#: English words the typo corrector leaves alone although the embedding model's word list lacks them
#: (without this, "cheeky" became "cheery").
KNOWN_WORDS: frozenset[str] = frozenset({"cheeky", "cheekily", "genuine", "genuinely", "goofy", "quirky"})

#: Subject pronouns for replies ("Making her slightly disgusted").
PRONOUNS: tuple[tuple[str, str], ...] = (
    (r"\b(her|she|woman|lady|girl|wife|mother|mom|sister|daughter|girlfriend)\b", "her"),
    (r"\b(him|he|his|man|guy|boy|husband|father|dad|brother|son|boyfriend)\b", "him"),
    (r"\b(them|they|their|person|people)\b", "them"),
    (r"\b(me|my|i|myself)\b", "you"),
)

#: Sentences the embedding matcher treats as "not an edit": a clause closer to these than to any
#: attribute's examples yields no edit.
OFF_TOPIC_EXAMPLES: tuple[str, ...] = (
    "what is the weather like today",
    "tell me a joke",
    "write some python code",
    "what is your name",
    "who are you",
    "how old are you",
    "what time is it",
    "book a flight to paris",
    "translate this into french",
    "what is the capital of france",
    "send an email to my boss",
    "play some music",
    "make her look like a famous celebrity",
    "change the background to a beach",
    "make the photo black and white",
    "crop the image",
    "rotate the picture",
    "make her naked",
    "add blood and wounds",
    "make him look dead",
    "put a hat on her head",
    "give her a tattoo",
    "make the picture brighter",
    "sharpen the image",
    "remove the background",
    "asdf qwerty zxcv",
    "the quick brown fox jumps over the lazy dog",
    "I like turtles",
    "buy bitcoin now",
    "how do I cook pasta",
    "make the sky blue",
    "paint the car red",
    "change the colour of her shirt",
)

/**
 * Word lists the grammar leans on: polite filler, small talk, status words for list
 * requests, how descriptions attach to titles, and the noise words ignored when matching
 * a reference against titles. Data only; one entry per phrasing.
 */
import type { ChatTopic, Status } from "./types.ts";

/** Said at the start of a message without changing what is asked ("please", "can you"). */
export const LEADING_FILLER: string[] = [
  "please",
  "pls",
  "plz",
  "kindly",
  "hey",
  "hi",
  "hello",
  "ok",
  "okay",
  "so",
  "well",
  "oh",
  "oops",
  "whoops",
  "oh no",
  "hmm",
  "um",
  "uh",
  "alright",
  "all right",
  "right",
  "now",
  "and",
  "also",
  "then",
  "yes",
  "yeah",
  "sure",
  "assistant",
  "(?:would|do) you mind",
  "(?:can|could|would|will|won't) (?:you|u)(?: please| kindly| just| quickly)?(?: go ahead and)?",
  // Only before a look at the list: "can I delete everything?" is a question, not an order.
  "(?:can|could|may) (?:i|we)(?: please)?(?= (?:see|get|have a look|view|look|check|read|hear)\\b)",
  "you (?:can|could|may)(?: now| just| go ahead and)?",
  "i (?:want|need|would like) you to",
  "i'd like you to",
  "go ahead and",
  "help me",
  "quick one",
  "quick(?:ly)?",
  "one more thing",
  "one more",
  "another one",
  "let's",
  "lets",
  "let me (?:know|see)",
  "let me",
  "just",
  "actually",
  "btw",
  "by the way",
];

/** Said at the end without changing what is asked. */
export const TRAILING_FILLER: string[] = [
  "please",
  "pls",
  "thanks",
  "thank you",
  "thx",
  "for me",
  "if you can",
  "if possible",
  "real quick",
  "quickly",
  "now",
  "right now",
];

/** Whole-message small talk, tried before anything else. */
export const SMALL_TALK: Array<[ChatTopic, string]> = [
  [
    "help",
    "help|help me|help please|\\?|commands|options|instructions|usage|how does (?:this|it) work|(?:what|how)(?: (?:sort|sorts|kind|kinds|type|types) of (?:things|stuff|requests|commands|questions))? (?:can|could|do|should|may) (?:you|i) (?:do|help(?: me)?(?: with)?|say|ask|use (?:this|you)|type|do here|do with (?:this|you))|what (?:are|do) you (?:do|for|able to do|capable of|good for)|what are your (?:commands|features|capabilities|skills|abilities)|what do you know|who are you|what are you|how do i use (?:this|you)|what can i (?:say|ask|do)(?: here)?|what commands (?:are there|do you (?:know|understand))|what are my options|show me (?:what you can do|the commands)",
  ],
  [
    "greeting",
    "(?:hi|hello|hey|hiya|howdy|yo|hola|heya|greetings|good (?:morning|afternoon|evening|day)|sup|what's up|whats up|hey there)(?: there| again| assistant| bot| friend| buddy)?(?:,? how are you(?: doing)?(?: today)?)?|how are you(?: doing)?(?: today)?|how's it going",
  ],
  [
    "thanks",
    "(?:thanks|thank you|thank u|thx|ty|cheers|much appreciated|appreciate it|great|awesome|perfect|nice|cool|ok|okay|got it|sounds good|good job|well done|excellent|amazing|wonderful|brilliant|sweet|great job|nice one)(?: (?:so much|a lot|very much|again|mate|buddy|a ton|for (?:that|the help|your help)))*",
  ],
  [
    "bye",
    "bye|goodbye|good bye|bye bye|see you(?: later| soon)?|see ya|later|good night|that's all|that is all|that's it|nothing else|no thanks|no thank you|never ?mind|nvm|i'm done for (?:now|today)|all good",
  ],
];

/** Status words for list requests, checked in this order (first hit wins). */
export const STATUS_WORDS: Array<[Status, string]> = [
  // Negated completion first: "everything I haven't finished" is pending, not all.
  [
    "pending",
    "\\b(?:not (?:yet )?(?:done|completed|complete|finished|started)|(?:haven't|have not|havent|hasn't|has not|didn't|did not|aren't|are not|isn't|is not|weren't|wasn't|not|yet to) (?:i |we |you )?(?:yet )?(?:been )?(?:done|finished|completed|do|finish|complete|get to)|(?:to be|to get|needs? to be|still) (?:done|finished|completed)|needs? doing)\\b",
  ],
  [
    "all",
    "\\b(?:including|both|whole|entire|full list|complete list|regardless|no matter|done or not|and not done|as well as)\\b",
  ],
  [
    "pending",
    "\\b(?:not (?:yet )?(?:done|completed|complete|finished|started)|(?:haven't|have not|havent|didn't|did not|aren't|isn't|not|yet to) (?:i |we |you )?(?:yet )?(?:done|finished|completed|do|finish|complete|get to)|incomplete|uncompleted|unfinished|undone|open|pending|left|remaining|remains?|outstanding|still|to do|todo|to-do|active|upcoming|due|unchecked|current|on my plate|next|need to do|have to do|yet to|waiting|in progress|ongoing|unresolved|not started|uncompleted|do i need|do i have to|should i do)\\b",
  ],
  [
    "completed",
    "(?:\\b(?:completed|complete|done|finished|checked off|ticked off|crossed off|accomplished|closed|achieved|resolved|did|archived|achievements|finish|checked|ticked)\\b|✅)",
  ],
];

/** Phrases meaning "the task list" that contain status-like words ("to-do list"). */
export const LIST_NOUNS =
  "\\b(?:to-?do list|todo list|to do list|to-?dos|todos|to-?do's|to do's|task list|checklist)\\b";

/** Words that make a list request about tasks (vs "what's the weather?"). */
export const LIST_TOPIC =
  "\\b(?:tasks?|list|todos?|to-?dos?|items?|reminders?|plate|agenda|everything|stuff|things|pending|completed|done|finished|left|remaining|open|outstanding|incomplete|unfinished|to do|achieved|accomplished|progress|next|finish|complete|checked off|ticked off|crossed off|did i do|have i done|got done|still|doing|needs? doing|(?:got|have) on|on there|on it|what (?:i've|i have|we've|we have|i|we) (?:got|have)|what (?:do|did) (?:i|we) have)\\b";

/** Titles that are no title at all ("add a task" → ask what the task is). */
export const EMPTY_TITLE =
  /^(?:(?:a|an|the|new|another|one|my|some|more|me)\s+)*(?:task|todo|to-?do|to do|item|entry|reminder|note|something|thing|one|it|that|this|stuff|new task)?s?$/i;

/** Trailing phrases that are not part of a new title ("… to my list", "… please"). */
export const TITLE_TRAILERS = [
  "(?:to|on|onto|in|into) {list}",
  "as (?:a |an )?(?:new )?(?:task|todo|to-?do|item|reminder)",
  "for me",
  "please",
  "thanks",
  "thank you",
];

/** How a description is attached to a title ("X with description Y", "X, description: Y"). */
export const DESCRIPTION_SPLITS = [
  "(?<title>[\"'].+?[\"'])\\s+(?:with\\s+)?(?:a |the )?(?:description|desc|details?|notes?)\\s*[:=-]?\\s*(?<desc>.+)",
  "(?<title>.+?)[,;.]?\\s+(?:(?:and )?describe(?:d)? (?:it |this )?(?:as|with)|with the note|noting)\\s+(?<desc>.+)",
  "(?<title>.+?)[,;.]?\\s+(?:with|and|plus|including|having)\\s+(?:(?:add|set|give it|put|use|attach)\\s+)?(?:a |an |the )?(?:description|desc|details?|notes?|comment)(?:\\s+(?:of|as|saying|that says|reading|is))?\\s*[:=-]?\\s+(?<desc>.+)",
  "(?<title>.+?)\\s*[,;.(—-]\\s*(?:description|desc|details?|notes?|comment)\\s*(?::|-|=|is|as)?\\s*(?<desc>.+?)\\)?",
];

/** Noise in a task reference: after removing these, only the distinguishing words stay. */
export const STOPWORDS = new Set(
  (
    "a an the my your our their his her its this that these those of for to with about on in at by " +
    "and or but task tasks todo todos to-do item items entry entries one ones thing things reminder " +
    "reminders list called named titled saying says i i'm i've me we it is are was be been am " +
    "please just already now all also really so some any number no # which where what one's " +
    "it's do did done get got have has had there here from off out up as"
  ).split(" "),
);

/** Left over in "task 3", "tasks 2 and 4", "#3", "number three": not a title. */
export const NUMBER_FILLER = new Set(
  "task tasks todo todos item items number numbers no no. num # the and & , or one ones entry plus also both my".split(
    " ",
  ),
);

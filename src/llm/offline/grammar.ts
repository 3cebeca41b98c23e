/**
 * The offline assistant's grammar, as data. Each row is one way of saying something;
 * to teach the assistant a new phrasing, add a row. Patterns are regular expressions
 * (matched case-insensitively against the whole message, after polite filler is removed)
 * with {macros} from MACROS: {ref} captures a task reference, {text}/{value} capture
 * the user's own words (kept verbatim, so titles keep their wording and case).
 * Tense and inflection are not spelled out here: language.ts lemmatizes.
 */

/** Reusable pieces of the patterns below. Macros may use other macros. */
export const MACROS: Record<string, string> = {
  ref: "(?<ref>.+?)",
  text: "(?<text>.+)",
  value: "(?<value>.+)",
  i: "(?:i|we)",
  im: "(?:i'm|i am|im|we're|we are)",
  ive: "(?:i've|i have|ive|we've|we have|i|we)",
  // Time words that may sit between "remind me" and the task.
  when: "(?:(?:tomorrow|today|tonight|later|soon|again|first thing|in the (?:morning|afternoon|evening)|(?:on|next|this) \\w+|at \\S+)\\s*)+",
  adv: "(?:(?:just|already|finally|now|also|all|totally|completely|actually|officially|fully) )*",
  done: "(?:done|complete|completed|finished|checked(?: off)?|ticked(?: off)?|crossed off|closed|resolved|accomplished|sorted(?: out)?|handled|paid|bought|taken care of|dealt with|out of the way|over with|✅|✔️|✔|✓)",
  didit:
    "(?:finished|completed|done|did|wrapped up|knocked out|taken care of|took care of|handled|sorted(?: out)?|accomplished|ticked off|checked off|crossed off|got done|gotten done|dealt with|closed|resolved|nailed|completed work on|finished up|finished off)",
  edit: "(?:change|update|edit|modify|set|alter|amend|fix|switch|reword|correct|adjust|revise|rewrite)",
  desc: "(?:description|desc|details|detail|notes|note|body|info|comment)",
  name: "(?:title|name|wording|text|label|heading)",
  // What follows a phrasal verb: "picked up", "handed in", "sent off".
  particle: "(?:up|off|out|in|back|down|over|through|away)",
  // A polite lead-in to a request in the middle of a message: "…, can you add that?"
  youcan: "(?:(?:can|could|would|will) you (?:please )?|please )",
  // Between a task and its new value; longest first, so "to say X" does not keep "say".
  to: "(?:\\s+(?:so that it says|so it says|so it reads|to say|to read|to be|to just|to|as|into|with)\\s+|\\s*[:=]\\s*|\\s+[—–-]\\s+)",
  // Between a verb and the user's words: "add: X", "jot down - X", "add X".
  sep: "(?:\\s*:\\s*|\\s+[—–-]\\s+|\\s+)",
  list: "(?:(?:my|the|your|our|this|that) )?(?:(?:task|tasks|to-?do|todo|to do|todos|reminder|reminders|shopping|checklist) )?(?:list|tasks|todos|to-?dos|checklist|reminders)",
  fromlist: "(?: (?:from|off|out of|on) {list})?",
  task: "(?:(?:a|an|the|one|another|my|some) )?(?:new |quick |separate |extra )?(?:task|todo|to-?do|to do|item|entry|reminder|note)(?: item| entry)?s?",
  // Words that start a look at the list ("show …", "what's …"); the rest must mention tasks.
  show: "(?:show|list|display|view|see|give|tell|read|pull up|print|fetch|check|open|bring up|share|send|recap|review|summarize|summarise|go through|go over|run through|run me through|walk me through|know|find|(?:have |take )?(?:a )?look at|get)",
  ask: "(?:what|what's|whats|which|how many|how much|anything|any|is there|are there|is anything|do i have|do i still have|have i|did i|where|remind me what|remind me of|can i see|can you show)",
};

/**
 * Intent rows, in priority order. The tag says what a match means:
 * "update:title" / "update:description" set that field from {value}; "update:ask" has a
 * task but no new value yet; "add" takes {text} as the title (and maybe description);
 * "add:reparse" ("I want to …") re-reads {text} in case it is itself a command.
 * Rows starting with {ref} are tried only after every verb-first row (see parse.ts).
 */
export type RuleTag =
  | "update:title"
  | "update:description"
  | "update:ask"
  | "add"
  | "add:reparse"
  | "complete"
  | "complete:state"
  | "delete"
  | "list";

export const RULES: Array<[RuleTag, string]> = [
  // "Set task 1 as completed" is a status change, not a rename to "completed".
  [
    "complete",
    "(?:mark|set|flag|tag|label|move|put|change|switch|turn|update)(?: the status of)? {ref} (?:as |to |in |into )?(?:the )?{done}(?: status| column| list| pile)?",
  ],

  // Update: before add/delete, since "add a note to task 2" and "set …" begin like them.
  ["update:description", "{edit} (?:the |its |a )?{desc} (?:of|for|on|in|to) {ref}{to}{value}"],
  ["update:description", "{edit} {ref}(?:'s|s'|') {desc}{to}{value}"],
  ["update:description", "{edit} {ref} {desc}{to}{value}"],
  [
    "update:description",
    "(?:add|put|attach|give|write|include|append|set) (?:a |an |the |this |some )?{desc} (?:to|on|for|in) {ref}(?:\\s*[:,—–-]\\s*|\\s+(?:saying|that says|reading|of|as|with)\\s+){value}",
  ],
  [
    "update:description",
    "(?:for|on|in) {ref},? (?:{edit}|add|put|attach|write|include|append|give it) (?:the |its |a |an )?(?:new )?{desc}(?:{to}|\\s+){value}",
  ],
  ["update:title", "(?:for|on|in) {ref},? {edit} (?:the |its |a )?(?:new )?{name}{to}{value}"],
  ["update:description", "{edit} {ref} with (?:a |an |the )?(?:new )?{desc}(?:{to}|\\s+){value}"],
  // "The description for task 5 should be …", "the note on the bank task: …".
  [
    "update:description",
    "(?:the )?(?:new )?{desc} (?:of|for|on|in) {ref}(?: should (?:now )?(?:be|say|read|become)| is now|{to}) ?{value}",
  ],
  [
    "update:title",
    "(?:the )?(?:new )?{name} (?:of|for|on|in) {ref}(?: should (?:now )?(?:be|say|read|become)| is now|{to}) ?{value}",
  ],
  [
    "update:description",
    "{ref}(?:'s|s'|')? (?:new )?{desc}(?: should (?:now )?(?:be|say|read|become)| is now|{to}) ?{value}",
  ],
  ["update:description", "give {ref} (?:a |an |the )?(?:new )?{desc}{to}{value}"],
  [
    "update:description",
    "(?:add|put|attach|give|write|include|append) (?:a |an |the )?{desc}(?: of| saying)? (?<value>[\"'].+[\"']) (?:to|on|for) {ref}",
  ],
  ["update:description", "(?:describe|annotate) {ref} (?:as|with) {value}"],
  ["update:title", "(?:rename|retitle|re-title|re-name|call) {ref}{to}{value}"],
  ["update:title", "(?:rename|retitle|re-title|re-name) {ref} (?<value>[\"'].+[\"'])"],
  ["update:title", "{edit} (?:the |its )?{name} (?:of|for|on|in) {ref}{to}{value}"],
  ["update:title", "replace (?:the |its )?{name} (?:of|for|on|in) {ref} (?:with|by) {value}"],
  ["update:title", "replace {ref}(?:'s|s'|') {name} (?:with|by) {value}"],
  ["update:title", "{edit} {ref}(?:'s|s'|') {name}{to}{value}"],
  ["update:title", "{edit} {ref} {name}{to}{value}"],
  ["update:title", "{edit} {ref}{to}{value}"],
  ["update:title", "make {ref} (?:say|read) {value}"],
  [
    "update:title",
    "{ref}(?:(?:'s|s'|') (?:title|name))? should (?:be (?:called|named|titled|renamed(?: to)?|retitled(?: to)?|changed to|updated to)|be|say|read|become) {value}",
  ],
  ["update:ask", "(?:change|update|edit|modify|rename) {ref}"],

  // Delete.
  // "Nevermind the milk, delete it": the task is named first, the command comes after.
  [
    "delete",
    "(?:never ?mind |forget (?:about )?)?{ref},? (?:just |please )?(?:delete|remove|drop|cancel|scrap|bin|trash|get rid of) (?:it|that|this|them)",
  ],
  [
    "delete",
    "(?:delete|remove|erase|drop|scrap|scratch(?! off)|trash|bin|discard|cancel|clear|kill|ditch|nuke|axe|purge|dump|eliminate|wipe|toss|uncheck and remove|abandon|forget|forget about|skip|never ?mind|nvm|no need for|no need to|no more)(?: out)? {ref}{fromlist}",
  ],
  [
    "delete",
    "(?:get rid of|do away with|throw (?:away|out)|take out|take away|wipe out|clear out|clean out|call off) {ref}{fromlist}",
  ],
  ["delete", "take {ref} (?:off|out of|from) {list}"],
  [
    "delete",
    "{ref} (?:is|are|was|has been|got|have been) (?:cancelled|canceled|called off|no longer needed|not needed(?: anymore)?|obsolete|irrelevant|off(?: the table)?)",
  ],
  [
    "delete",
    "{ref} (?:can|should|must|needs to|has to|could) (?:be )?(?:go|deleted|removed|gone|dropped|cancelled|canceled|trashed|scrapped|binned)(?: now)?",
  ],
  [
    "delete",
    "(?:i|we) (?:don't|do not|dont|no longer|won't|will not) (?:need|have|want|wanna|plan|intend|have to|need to)(?: to)? {ref}(?: anymore| any more| after all| now)?",
  ],
  ["delete", "(?:there's|there is) no (?:need|point) (?:to|for|in) {ref}(?: anymore| any more)?"],

  // Complete.
  ["complete:state", "(?:mark|set|flag|tag) {ref} as (?<state>\\S+)(?: {particle})?"],
  ["complete", "(?:mark|check|tick|cross|strike|scratch) off {ref}{fromlist}"],
  ["complete", "(?:mark|check|tick|cross|strike) {ref} off(?: (?:of |from )?{list})?"],
  ["complete", "{im} {adv}(?:done|finished|through) (?:with )?{ref}"],
  ["complete", "{adv}(?:done|finished|through) with {ref}"],
  ["complete", "{ive} {adv}{didit} {ref}"],
  [
    "complete",
    "(?:close out|wrap up|finish (?:off|up)|complete|finish|close|resolve|accomplish|tick|check) {ref}",
  ],
  ["complete", "{done}:? {ref}"],
  ["complete", "mark (?:it |this )?(?:as )?{done}:? {ref}"],
  ["complete", "(?:consider|count|call|treat|you can (?:mark|consider)) {ref} (?:as )?{done}"],
  [
    "complete",
    "(?:{ive} )?{adv}(?:got|gotten|get) {ref} (?:done|finished|sorted|completed|over with)",
  ],
  [
    "complete",
    "{ref} (?:can|could|should|may|must|needs to|has to|is to) (?:now )?be (?:(?:marked|set|flagged|considered|moved|put)(?: as| to| into)? )?(?:the )?{adv}{done}(?: now)?",
  ],
  // "The bill is paid", "the dog has been walked": any past participle that means done.
  [
    "complete:state",
    "{ref}(?: (?:is|are|was|were|has been|have been|got)|'s been|'ve been|'s|'re) {adv}(?<state>{done}|\\S+)",
  ],
  ["complete", "{ref}:? {adv}{done}"],
  // Terse reports: "ID renewed", "bank called".
  ["complete:state", "{ref} (?<state>\\S+)"],

  // List: what the user wants to see, filtered by status words (STATUS below).
  ["list", "{show}(?: me| us)?(?: out)? (?<any>.+)"],
  ["list", "{ask}(?<any>.*)"],
  [
    "list",
    "(?<any>(?:everything|all|all of it|the lot|all the (?:stuff|things|items|tasks))(?: (?:i have|i've got|that's|that is))? (?:on|in) {list})",
  ],
  [
    "list",
    "(?<any>(?:(?:my|the|all|all my|your|current|today's|list of) )*(?:(?:pending|open|completed|finished|done|incomplete|unfinished|remaining|outstanding|active|all) )?(?:tasks|todos|to-?dos|to-?do list|todo list|to do list|list|task list|items|reminders|pending|completed|done|finished|remaining|open|outstanding)(?: tasks| ones| items)?(?: list)?(?: please)?)",
  ],

  // Add: explicit requests first, then "I need to …" (re-read in case it is a command).
  // "I have to book a haircut, can you add that?": the words come first, the request after.
  [
    "add",
    "(?<text>.+?)(?:(?:,|;|\\.|\\s+[—–-])\\s+{youcan}?|\\s+{youcan})(?:(?:just|also) )?(?:add|put|note|save|jot|write|pop|stick|log|track)(?: down)? (?:that|it|this)(?: down)?(?: (?:to|on|onto|in|into) {list})?(?: for me)?",
  ],
  // "Track this for me: call the insurance", "remember this: …".
  [
    "add",
    "(?:track|remember|note|save|log|record|keep track of|jot|write|put|add) (?:this|that|the following)(?: down)?(?: for me)?(?: (?:as a task|(?:to|on|in) {list}))?\\s*[:—–-]\\s*{text}",
  ],
  [
    "add",
    "(?:add|create|make|insert|log|record|enter|save|schedule|set up|setup|set|start|open|put in|throw in|jot down|note down|write down|put down|make a note|register) (?:me )?{task}(?: for me)?(?: (?:with the (?:title|name)|with (?:title|name)|to|for|called|named|titled|that says|saying|about|that reads|reading|which says))?{sep}{text}",
  ],
  [
    "add",
    "(?:add|put|write|note|save|append)(?: this| these| the following| something| an item| a task| a new task)? (?:to|on|onto|in|into) {list}{sep}{text}",
  ],
  [
    "add",
    "(?:add|put|stick|throw|pop|place|include|jot down|write down|note down|write|note|save|get|append) {text} (?:to|on|onto|in|into|under|for) {list}",
  ],
  [
    "add",
    "(?:new|another|one more|add|add a|add a new|add this|add the following|create|create a|create a new) (?:task|todo|to-?do|to do|item|reminder|entry)s?{sep}{text}",
  ],
  [
    "add",
    "(?:task|todo|to-?do|to do|reminder|note|note to self|reminder to self|memo|new|add)(?: (?:for|on) (?:the )?\\w+)?(?: *:| +-| +—) *{text}",
  ],
  [
    "add",
    "remind me (?:{when} )?(?:to|that i (?:need|have|must|should|ought) to|that i (?:need|must|should)|i (?:need|have) to) {text}",
  ],
  ["add", "remind me (?:about|of|re) {text}"],
  [
    "add",
    "(?:i'd like|i would like|(?:i )?want|(?:i )?need|give me|let's have|i'd like to add|i want to add) {task}(?: (?:to|for|called|named|titled|about))?{sep}{text}",
  ],
  [
    "add",
    "(?:{i} )?(?:need|have|want|got|must|should|gotta|ought|'ve got|have got|'d better|better) (?:to )?remember (?:to |that i (?:need|have) to )?{text}",
  ],
  ["add", "remember (?:to|that i (?:need|have|must) to|that i (?:need|must|should)) {text}"],
  [
    "add",
    "(?:don't|do not|dont) (?:let me |you let me )?forget(?: to| about| that i (?:need|have) to)?{sep}{text}",
  ],
  [
    "add",
    "{i} (?:must not|mustn't|shouldn't|should not|can't|cannot|can not|don't want to|do not want to|better not|dont want to) forget (?:to |about )?{text}",
  ],
  [
    "add",
    "make sure (?:that )?(?:i|we) (?:remember to |don't forget to |do not forget to )?{text}",
  ],
  [
    "add",
    "(?:add|create|jot down|write down|note down|note|log|record|put down|insert|include|append|save){sep}{text}",
  ],
  [
    "add:reparse",
    "(?:i'd|i would|i|we) (?:like|want|wanna|need|have|must|should|gotta|ought|got|will need|'ll need|am going|'m going|plan|intend) (?:to )?{text}",
  ],
  ["add:reparse", "(?:i'll|we'll|i will|we will) (?:need|have|want) to {text}"],
  ["add:reparse", "(?:need|have|gotta|got|must|should) to {text}"],
  // "add" on its own: ask what the task is.
  ["add", "(?:add|create|new)(?: (?:one|something|a (?:new )?(?:task|todo|to-?do)))?"],
  ["add:reparse", "(?:i've got|i have got|i got|we've got) (?:to )?{text}"],
];

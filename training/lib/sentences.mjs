/**
 * Seeded generator of varied English sentences. The vocabulary is chosen so every English
 * phoneme (including rare ones: zh, oy, aw, uh, th/dh, ng) appears often; templates vary length,
 * punctuation (pauses) and sentence type. Train and held-out sets draw from disjoint seed streams
 * and are de-duplicated against each other by the caller.
 */
const W = (s) => s.trim().split(/\s+/);

const NAMES = W(`Anna Ben Chloe David Ethan Fiona George Hannah Isaac Julia Kevin Laura Mohammed Nora Oscar Priya
  Quentin Rosa Samuel Thea Umar Vera William Xavier Yusuf Zoe Joshua Charlotte Theodore Measha Roy Howard Ruth Judith`);
const NOUNS = W(`boy girl house mouse cloud town voice noise coin toy book wood foot cookie sugar garage treasure vision
  measure pleasure leisure television beige mirage path bath mouth teeth month thumb thing theatre weather mother father
  brother feather rhythm king ring song string wing morning evening judge bridge jacket giant orange cheese church chair
  kitchen watch picture shoe ship fish wish sheep shop ocean nation zebra puzzle lizard buzz music museum rose pizza
  window yellow yard yacht year unicorn violin village valley van vest fox coffee phone photo elephant laughter
  banana bottle button bubble baby apple ant album pencil paper pepper puppy apple moon boot spoon school rule pool
  balloon tooth juice cake table paint rain train day lake bike kite light night time sky fire ice island lion eye
  boat coat goat road snow home phone rope bird word girl earth nurse shirt turtle world car star arm park heart
  garden door floor horse north storm board bear chair hair air square pear ear beer deer year hero idea
  cat hat map bag hand apple lamp dog clock sock box frog bottle cup sun bus duck drum truck egg bed pen desk
  bell leg nest fig pig fish gift milk kid queen quilt whale wheel question answer dinner breakfast lunch
  computer engine machine doctor teacher farmer driver singer painter zoo lawyer sailor tailor`);
const ADJS = W(`big small quick lazy happy sad bright dark loud quiet smooth rough cheap huge usual unusual casual
  visual beautiful joyful noisy cloudy brown round proud good wooden foolish thick thin fresh wet warm cold yellow
  purple orange green blue red violet pleasant strange shiny sharp soft heavy empty early awful royal loyal
  tiny giant ancient modern famous gentle jolly clever nervous curious eager`);
const VERBS_PAST = W(`saw found bought brought caught thought taught pushed pulled pushed watched washed judged
  measured treasured enjoyed destroyed avoided joined pointed shouted counted followed borrowed painted
  visited moved loved waved gave took shook looked cooked booked stood threw grew knew chose froze wrote
  played stayed paid made baked raised fixed mixed kissed missed wished fished checked touched reached
  climbed jumped bumped thanked thrilled bathed breathed soothed smoothed loathed clothed`);
const VERBS_BASE = W(`see find buy bring catch think teach push pull watch wash judge measure enjoy join point
  follow borrow paint visit move love wave give take shake look cook stand throw grow know choose freeze
  write play stay pay make bake raise fix mix kiss miss wish check touch reach climb jump thank breathe soothe`);
const ADVS = W(`quickly slowly quietly loudly usually casually happily sadly gently proudly carefully
  nervously eagerly suddenly finally rarely always never often sometimes together`);
const PLACES = W(`garage kitchen museum village valley garden church school theatre office market station
  harbour island forest beach bridge tower castle library bakery zoo`);
const NUMBERS = W(`one two three four five six seven eight nine ten eleven twelve thirteen twenty thirty
  forty fifty hundred thousand`);
const PREPS = W(`in on under over near behind beside through toward around inside outside beyond`);
const INTERJ = W(`Oh Well Wow Look Hey Yes No Okay Hmm Please Thanks`);

const TEMPLATES = [
  (r) => `The ${adj(r)} ${noun(r)} ${r.pick(VERBS_PAST)} the ${noun(r)}.`,
  (r) => `${name(r)} ${r.pick(VERBS_PAST)} a ${adj(r)} ${noun(r)} ${r.pick(PREPS)} the ${r.pick(PLACES)}.`,
  (r) => `Did ${name(r)} ${r.pick(VERBS_BASE)} the ${noun(r)} ${r.pick(ADVS)}?`,
  (r) => `${r.pick(INTERJ)}, the ${noun(r)} is ${adj(r)} and ${adj(r)}!`,
  (r) => `${r.pick(NUMBERS)} ${noun(r)}s ${r.pick(VERBS_PAST)} ${r.pick(ADVS)} ${r.pick(PREPS)} the ${r.pick(PLACES)}.`,
  (r) => `Why would ${name(r)} ${r.pick(VERBS_BASE)} a ${noun(r)}?`,
  (r) => `I ${r.pick(ADVS)} ${r.pick(VERBS_BASE)} ${r.pick(['my', 'your', 'our', 'their', 'his', 'her'])} ${adj(r)} ${noun(r)}, but ${name(r)} ${r.pick(VERBS_PAST)} it.`,
  (r) => `${name(r)} and ${name(r)} ${r.pick(VERBS_PAST)} ${r.pick(NUMBERS)} ${adj(r)} ${noun(r)}s.`,
  (r) => `Please ${r.pick(VERBS_BASE)} the ${noun(r)} before the ${noun(r)} ${r.pick(['arrives', 'leaves', 'breaks', 'wakes up', 'changes'])}.`,
  (r) => `The ${noun(r)} ${r.pick(PREPS)} the ${r.pick(PLACES)} looks ${adj(r)} this ${r.pick(['morning', 'evening', 'year', 'month', 'week'])}.`,
  (r) => `${r.pick(INTERJ)}! ${name(r)} ${r.pick(VERBS_PAST)} the ${noun(r)}.`,
  (r) => `Would you ${r.pick(VERBS_BASE)} a ${adj(r)} ${noun(r)} with me?`,
  (r) => `There were ${r.pick(NUMBERS)} ${noun(r)}s, a ${noun(r)}, and a ${adj(r)} ${noun(r)}.`,
  (r) => `${name(r)} ${r.pick(ADVS)} ${r.pick(VERBS_PAST)} ${r.pick(NUMBERS)} ${noun(r)}s.`,
];

const noun = (r) => r.pick(NOUNS);
const adj = (r) => r.pick(ADJS);
const name = (r) => r.pick(NAMES);

/** One utterance text (one or two sentences). */
export function makeSentence(rng) {
  const raw = rng.pick(TEMPLATES)(rng);
  const first = raw[0].toUpperCase() + raw.slice(1);
  return rng.chance(0.25) ? `${first} ${rng.pick(TEMPLATES)(rng)}` : first;
}

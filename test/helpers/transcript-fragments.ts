/**
 * A reply as streaming agents send its text: fragments cut anywhere, mid-word included, with
 * their spaces. Joined, the fragments are the reply; cut into words (widget rule), `WORDS`.
 */
export const FRAGMENTS = ['Hel', 'lo, wor', 'ld! It', "'s 3", '.5 km to', ' the mu', 'seum —', ' about', ' ten', ' minutes', ' on foot', '.'];
export const REPLY = FRAGMENTS.join('');
export const WORDS = ['Hello,', 'world!', "It's", '3.5', 'km', 'to', 'the', 'museum', '—', 'about', 'ten', 'minutes', 'on', 'foot.'];

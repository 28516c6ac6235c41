/**
 * One training/eval clip: 1–3 utterances of one voice, with random speed and pitch, joined by
 * pauses, resampled to 16 kHz, optionally speed-perturbed and augmented, with phone timings
 * carried through every step.
 */
import { makeRng } from './rng.mjs';
import { makeSentence } from './sentences.mjs';
import { synthEspeak, synthFlite } from './tts.mjs';
import { FESTIVAL_VOICES, FestivalUtteranceError, festivalVoicesInstalled, pseudoSentence, synthFestival } from './festival.mjs';
import { augment, concatFloat32, resample, setPeak } from './audio.mjs';
import { FLITE_PHONES } from './visemes.mjs';
import { MODEL_SAMPLE_RATE } from '../../src/contracts/contracts.mjs';

const SR = MODEL_SAMPLE_RATE;

/** Voices. Held-out voices never appear in training data. */
export const TRAIN_VOICES = [
  { engine: 'flite', voice: 'kal16' }, { engine: 'flite', voice: 'awb' }, { engine: 'flite', voice: 'rms' },
  { engine: 'flite', voice: 'kal' },
  // flite slt (US female, CMU ARCTIC) is the offline agent's default voice (TTS_VOICE): every
  // `npm start` kiosk speaks with it. Held out, it was the voice the model served worst (main mouth
  // r 0.757 against ≥ 0.86 for the others) and the only natural female voice among the synthetic
  // ones; trained on, real speech gains too (model card, "A natural female voice in training").
  { engine: 'flite', voice: 'slt' },
  ...['en-us', 'en', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-029'].flatMap((base) =>
    ['', '+m1', '+m2', '+m3', '+m4', '+m5', '+m7', '+f1', '+f2', '+f3', '+f5', '+klatt', '+klatt2', '+klatt3', '+klatt4',
      '+Annie', '+linda', '+steph', '+belinda', '+aunty', '+Alicia', '+anika', '+shelby',
      '+Andy', '+david', '+edward', '+mike', '+travis', '+rob'].map((v) => ({ engine: 'espeak', voice: base + v }))),
  // Five natural female voices through Debian's festival (lib/festival.mjs; training-time tools,
  // used where installed): slt's HTS voice, and Italian, Catalan, Czech and Finnish speakers.
  ...FESTIVAL_VOICES,
];
export const HELDOUT_VOICES = [
  { engine: 'espeak', voice: 'en-us-nyc+f4' },
  { engine: 'espeak', voice: 'en-gb-x-gbcwmd+m6' },
];

/**
 * Weight the natural-sounding voices up (espeak has many variants of one formant synthesiser):
 * flite 45 %, festival's female voices 20 % (where installed: else flite and espeak half each, the
 * mix before them), espeak the rest.
 */
export function pickTrainVoice(rng, festival = festivalVoicesInstalled()) {
  const flite = TRAIN_VOICES.filter((v) => v.engine === 'flite');
  const espeak = TRAIN_VOICES.filter((v) => v.engine === 'espeak');
  if (festival.length === 0) return rng.chance(0.5) ? rng.pick(flite) : rng.pick(espeak);
  const u = rng.next();
  return u < 0.45 ? rng.pick(flite) : u < 0.65 ? rng.pick(festival) : rng.pick(espeak);
}

async function synthUtterance(voice, text, rng, tmpDir) {
  if (voice.engine === 'flite') {
    const stretch = rng.uniform(0.8, 1.35);
    // kal, kal16 and awb follow int_f0_target_mean (rms ignores it): mostly their own male range,
    // a third of the time a female range, so pitch is not a proxy for formants.
    const f0Mean = voice.voice.startsWith('kal') || voice.voice === 'awb' ? (rng.chance(0.35) ? rng.uniform(160, 240) : rng.uniform(85, 150)) : undefined;
    return synthFlite({ voice: voice.voice, text, stretch, f0Mean, tmpDir });
  }
  if (voice.engine === 'festival') return synthFestival({ voice: voice.voice, text, stretch: rng.uniform(0.8, 1.3), tmpDir });
  return synthEspeak({ voice: voice.voice, text, rate: Math.round(rng.uniform(125, 250)), pitch: Math.round(rng.uniform(25, 75)) });
}

/**
 * Make a clip (`doAugment`: false = clean, true = the training mix, or an eval condition of
 * `augment()` such as 'room' or 'band'). Returns { samples (16 kHz), phones [{name, parts, start, end}], texts, voice, notes }.
 * `sentence(rng)` supplies texts (train and held-out sets use disjoint streams).
 */
export async function makeClip({ seed, voice, sentence = makeSentence, doAugment, tmpDir, utterances }) {
  const rng = makeRng(seed);
  const count = utterances ?? rng.pick([1, 1, 2, 2, 3]);
  const pieces = [];
  const phones = [];
  const texts = [];
  let t = 0;
  const pushSilence = (seconds) => {
    const n = Math.round(seconds * SR);
    pieces.push(new Float32Array(n));
    phones.push({ name: 'pau', parts: FLITE_PHONES.pau, start: t, end: t + n / SR });
    t += n / SR;
  };
  pushSilence(rng.uniform(0.05, 0.5));
  for (let u = 0; u < count; u++) {
    if (u > 0) pushSilence(rng.uniform(0.1, 0.9));
    // Festival's voices of other languages read pseudo-words in their own spelling; an utterance that
    // asked a diphone voice for a diphone it lacks (silence there), or that the voice failed on, is
    // replaced by another one.
    const foreign = voice.engine === 'festival' && voice.lang !== 'en';
    let text;
    let out;
    for (let attempt = 0; ; attempt++) {
      text = foreign ? pseudoSentence(rng, voice.lang) : sentence(rng);
      let why;
      try {
        out = await synthUtterance(voice, text, rng, tmpDir);
        if (!out.missingDiphones) break;
        why = `${out.missingDiphones} missing diphones`;
      } catch (err) {
        if (!(err instanceof FestivalUtteranceError)) throw err;
        why = err.message;
      }
      if (attempt === 9) throw new Error(`festival ${voice.voice}: ten utterances in a row failed (last: ${why})`);
    }
    texts.push(text);
    const x = resample(out.samples, out.sampleRate, SR);
    const dur = x.length / SR;
    for (const p of out.phones) {
      const start = Math.min(p.start, dur);
      const end = Math.min(p.end, dur);
      if (end > start) phones.push({ ...p, start: t + start, end: t + end });
    }
    if (out.phones.length && out.phones.at(-1).end < dur) phones.push({ name: 'pau', parts: FLITE_PHONES.pau, start: t + out.phones.at(-1).end, end: t + dur });
    pieces.push(x);
    t += dur;
  }
  pushSilence(rng.uniform(0.1, 0.5));
  let samples = concatFloat32(pieces);
  const notes = [];
  if (typeof doAugment === 'string') {
    // An evaluation condition ('room', 'band'): the clean clip through one kind of channel.
    notes.push(augment(samples, rng, SR, doAugment));
  } else if (doAugment) {
    const out = augmentForTraining(samples, phones, rng);
    samples = out.samples;
    notes.push(out.notes);
  } else {
    setPeak(samples, 0.5);
  }
  return { samples, phones, texts, voice: `${voice.engine}:${voice.voice}`, notes: notes.join(',') };
}

/**
 * The training mix: resampling moves tempo, pitch and formants together (a cheap
 * vocal-tract-length perturbation: male voices become higher, shorter ones; `phones` timings are
 * scaled in place), then `augment()`'s channel (reverberation, band limits, noise, level, room tone).
 * Returns { samples, notes }; `samples` may be a new array.
 */
export function augmentForTraining(samples, phones, rng) {
  const notes = [];
  if (rng.chance(0.7)) {
    const factor = rng.uniform(0.85, 1.12);
    samples = resample(samples, SR, SR * factor);
    for (const p of phones) (p.start *= factor), (p.end *= factor);
    notes.push(`speed${factor.toFixed(3)}`);
  }
  if (rng.chance(0.85)) notes.push(augment(samples, rng));
  return { samples, notes: notes.join(',') };
}

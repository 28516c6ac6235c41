/**
 * Model output → 30 FPS frames. The rule lives in `src/contracts/frame-rate.mjs`, plain JS so
 * that training/eval.mjs scores models exactly as the inference worker plays them.
 */
export { framesAt30Fps } from '../contracts/frame-rate.mjs';

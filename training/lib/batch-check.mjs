import ort from 'onnxruntime-node';

/**
 * One [B, n] call of `session` over `rows` (B arrays of n samples) against each row run alone
 * ([1, n]): `mismatch` is the index of the first row whose output differs in any bit (or whose
 * batched output has the wrong batch size: 0), -1 when every row matches; `dims` the batched
 * output's shape. Used by batch-axis.mjs (after its rewrite) and verify-model.mjs.
 */
export async function batchRowMismatch(session, rows) {
  const n = rows[0].length;
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const batch = new Float32Array(rows.length * n);
  rows.forEach((x, r) => batch.set(x, r * n));
  const y = (await session.run({ [input]: new ort.Tensor('float32', batch, [rows.length, n]) }))[output];
  if (Number(y.dims[0]) !== rows.length) return { mismatch: 0, dims: y.dims };
  const per = y.data.length / rows.length;
  for (const [r, x] of rows.entries()) {
    const alone = (await session.run({ [input]: new ort.Tensor('float32', x, [1, n]) }))[output].data;
    if (alone.length !== per || alone.some((v, i) => !Object.is(v, y.data[r * per + i]))) return { mismatch: r, dims: y.dims };
  }
  return { mismatch: -1, dims: y.dims };
}

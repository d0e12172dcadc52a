/**
 * Training-time layers with hand-written gradients. On tfjs-wasm the
 * autodiff of dense + bias + PReLU is dominated by slow kernels (row sums,
 * Greater/Select with broadcasting, transposed matMul); these versions compute
 * the same gradients with fast ones: column sums as a matMul with a row of
 * ones, the PReLU slope from `step(z, -1)`, and explicit transposes.
 * `test/scorer.grad.test.ts` checks them against autodiff.
 */
import * as tf from '@tensorflow/tfjs';

type CustomFn = Parameters<typeof tf.customGrad>[0];

/** Sum over rows of a [P, n] tensor, as [n]. */
function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]);
}

/** dz and dalpha of h = prelu(z, alpha) given dh, all [P, n] except alpha [n]. */
function preluBackward(z: tf.Tensor2D, alpha: tf.Tensor1D, dh: tf.Tensor2D): [tf.Tensor2D, tf.Tensor1D] {
  const u = tf.step(z, -1); // +1 where z > 0, -1 elsewhere
  const slope = tf.mul(tf.prelu(u, alpha as unknown as tf.Tensor2D), u); // 1 where z > 0, alpha elsewhere
  const dz = tf.mul(dh, slope) as tf.Tensor2D;
  // dalpha = Σ_rows dh·min(z, 0) = ½ Σ_rows (dh·z − dh·z·u)
  const t = tf.mul(dh, z) as tf.Tensor2D;
  const dalpha = tf.mul(tf.sub(columnSum(t), columnSum(tf.mul(t, u) as tf.Tensor2D)), 0.5) as tf.Tensor1D;
  return [dz, dalpha];
}

/** prelu(x·w + b, alpha) for x [P, in], w [in, out], b and alpha [out]. */
export const denseBiasPrelu = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, alpha: tf.Tensor1D, save: tf.GradSaveFunc) => {
  const z = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
  save([x, w, z, alpha]);
  return {
    value: tf.prelu(z, alpha as unknown as tf.Tensor2D),
    gradFunc: (dh: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws, zs, as] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const [dz, dalpha] = preluBackward(zs, as, dh);
      return [tf.matMul(dz, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dz), columnSum(dz), dalpha];
    },
  };
}) as unknown as CustomFn) as unknown as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, alpha: tf.Tensor) => tf.Tensor2D;

/**
 * The first layer's activation for B users × m nodes each:
 * prelu(nodeHidden[b·m + j] + userHidden[b], alpha), with userHidden [B, h]
 * (bias included) and nodeHidden [B·m, h]. Returns [B·m, h].
 */
export function userNodePrelu(userHidden: tf.Tensor2D, nodeHidden: tf.Tensor2D, alpha: tf.Tensor, m: number): tf.Tensor2D {
  const f = tf.customGrad(((hu: tf.Tensor2D, hn: tf.Tensor2D, a: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const [b, h] = hu.shape;
    const z = tf.reshape(tf.add(tf.reshape(hn, [b, m, h]), tf.expandDims(hu, 1)), [b * m, h]) as tf.Tensor2D;
    save([z, a]);
    return {
      value: tf.prelu(z, a as unknown as tf.Tensor2D),
      gradFunc: (dh: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [zs, as] = saved as [tf.Tensor2D, tf.Tensor1D];
        const [dz, dalpha] = preluBackward(zs, as, dh);
        return [tf.sum(tf.reshape(dz, [b, m, h]), 1), dz, dalpha];
      },
    };
  }) as unknown as CustomFn) as unknown as (hu: tf.Tensor, hn: tf.Tensor, a: tf.Tensor) => tf.Tensor2D;
  return f(userHidden, nodeHidden, alpha);
}

/** prelu(z, alpha) for z [P, n], alpha [n], with the fast gradient above. */
export const prelu2d = tf.customGrad(((z: tf.Tensor2D, alpha: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([z, alpha]);
  return {
    value: tf.prelu(z, alpha as unknown as tf.Tensor2D),
    gradFunc: (dh: tf.Tensor2D, saved: tf.Tensor[]) => preluBackward(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor1D, dh),
  };
}) as unknown as CustomFn) as unknown as (z: tf.Tensor, alpha: tf.Tensor) => tf.Tensor2D;

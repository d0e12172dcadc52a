/**
 * The MLP every scorer kind ends in: its parameters, their saved names, and
 * the dense product whose gradient transposes explicitly.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError } from '../core/errors.js';
import type { ScorerConfig } from './config.js';

/** One hidden layer after the first: kernel, bias, PReLU slopes. */
export interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
  alpha: tf.Variable;
}

/** All MLP parameters. */
export interface MlpParams {
  /** First layer, user half: [windows·d, h1]. */
  userKernel: tf.Variable;
  /** First layer, node half: [d, h1]. */
  nodeKernel: tf.Variable;
  bias1: tf.Variable;
  alpha1: tf.Variable;
  /** Later hidden layers. */
  layers: DenseLayer[];
  /** Output layer: [h_last, 1] and [1]. */
  outKernel: tf.Variable;
  outBias: tf.Variable;
}

/** Raw weights by name, as saved in weights.bin. */
export type NamedArrays = Map<string, { shape: number[]; data: Float32Array }>;

/**
 * Dense product x·w whose gradient transposes explicitly; on tfjs-wasm this
 * trains several times faster than the autodiff of matMul.
 */
export const matMulT = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor2D;

/** (name, variable) pairs of the MLP in a fixed order. */
export function mlpEntries(p: MlpParams): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [
    ['dense0/user_kernel', p.userKernel],
    ['dense0/node_kernel', p.nodeKernel],
    ['dense0/bias', p.bias1],
    ['dense0/alpha', p.alpha1],
  ];
  p.layers.forEach((l, i) => {
    out.push([`dense${i + 1}/kernel`, l.kernel], [`dense${i + 1}/bias`, l.bias], [`dense${i + 1}/alpha`, l.alpha]);
  });
  out.push(['out/kernel', p.outKernel], ['out/bias', p.outBias]);
  return out;
}

let variableCounter = 0;


/** A function that checks a named array's shape and makes it a uniquely named variable. */
export function variableMaker(arrays: NamedArrays, file: string): (name: string, shape: number[]) => tf.Variable {
  const uid = ++variableCounter;
  return (name: string, shape: number[]): tf.Variable => {
    const a = arrays.get(name);
    const size = shape.reduce((x, y) => x * y, 1);
    if (!a) throw new ModelFormatError(file, `weight ${name} is missing`);
    if (a.data.length !== size || a.shape.length !== shape.length || a.shape.some((s, i) => s !== shape[i])) {
      throw new ModelFormatError(file, `weight ${name} has shape [${a.shape}] but the config needs [${shape}]`);
    }
    return tf.variable(tf.tensor(a.data, shape), true, `arbor${uid}/${name}`);
  };
}

/** The MLP variables of a config, each made by `v` (which checks the saved shape). */
export function makeMlp(config: ScorerConfig, v: (name: string, shape: number[]) => tf.Variable): MlpParams {
  const d = config.embDim;
  const h = config.hidden;
  const userIn = config.windows.length * d;
  const layers: DenseLayer[] = [];
  for (let i = 1; i < h.length; i++) {
    layers.push({ kernel: v(`dense${i}/kernel`, [h[i - 1], h[i]]), bias: v(`dense${i}/bias`, [h[i]]), alpha: v(`dense${i}/alpha`, [h[i]]) });
  }
  return {
    userKernel: v('dense0/user_kernel', [userIn, h[0]]),
    nodeKernel: v('dense0/node_kernel', [d, h[0]]),
    bias1: v('dense0/bias', [h[0]]),
    alpha1: v('dense0/alpha', [h[0]]),
    layers,
    outKernel: v('out/kernel', [h[h.length - 1], 1]),
    outBias: v('out/bias', [1]),
  };
}

/**
 * The state of tfjs's Adam optimiser (the MLP's), read out and put back
 * exactly: the first and second moments of every variable, the running
 * powers β1^t and β2^t it divides by, and the step count. tfjs's own
 * `setWeights` recomputes the powers as pow(β, t + 1), which is not the
 * product it accumulated step by step (float32 rounding differs), so a
 * resumed run would drift from an uninterrupted one; here the accumulated
 * values themselves are saved. The fields are tfjs 4's AdamOptimizer
 * internals; `denseAdamState` checks that they are there.
 */
import * as tf from '@tensorflow/tfjs';
import { ArborError } from '../core/errors.js';

/** One moment tensor of one variable. */
export interface MomentArray {
  /** tfjs's name for it (`<variable>/m` or `<variable>/v`). */
  name: string;
  shape: number[];
  data: Float32Array;
}

/** What a tfjs Adam optimiser carries from step to step. */
export interface DenseAdamState {
  /** Steps applied. */
  iterations: number;
  /** β1^(steps+1) and β2^(steps+1) as the optimiser accumulated them (float32). */
  accBeta1: number;
  accBeta2: number;
  /** First and second moments, in the order of the variables (empty before the first step). */
  m: MomentArray[];
  v: MomentArray[];
}

interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

/** The internals of tfjs's AdamOptimizer this module reads and writes. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerVariable[];
  accumulatedSecondMoment: OptimizerVariable[];
  /** Unset until the first step. */
  iterations_: number | undefined;
}

function internals(opt: tf.Optimizer): AdamInternals {
  const a = opt as unknown as AdamInternals;
  if (typeof a.accBeta1?.assign !== 'function' || typeof a.accBeta2?.assign !== 'function' || !Array.isArray(a.accumulatedFirstMoment) || !Array.isArray(a.accumulatedSecondMoment) || (a.iterations_ !== undefined && typeof a.iterations_ !== 'number')) {
    throw new ArborError('the Adam optimiser of this tfjs version does not expose its state: training checkpoints need @tensorflow/tfjs 4');
  }
  return a;
}

const moment = (v: OptimizerVariable): MomentArray => ({ name: v.originalName, shape: v.variable.shape.slice(), data: (v.variable.dataSync() as Float32Array).slice() });

/** A copy of `opt`'s state (a tfjs Adam optimiser). */
export function denseAdamState(opt: tf.Optimizer): DenseAdamState {
  const a = internals(opt);
  return {
    iterations: a.iterations_ ?? 0,
    accBeta1: a.accBeta1.dataSync()[0],
    accBeta2: a.accBeta2.dataSync()[0],
    m: a.accumulatedFirstMoment.map(moment),
    v: a.accumulatedSecondMoment.map(moment),
  };
}

/** Puts `state` (from denseAdamState) into `opt`, a tfjs Adam optimiser with the same learning rate and variables. */
export function restoreDenseAdam(opt: tf.Optimizer, state: DenseAdamState): void {
  const a = internals(opt);
  tf.dispose([...a.accumulatedFirstMoment.map((x) => x.variable), ...a.accumulatedSecondMoment.map((x) => x.variable)]);
  const make = (x: MomentArray): OptimizerVariable => ({ originalName: x.name, variable: tf.tidy(() => tf.tensor(x.data, x.shape, 'float32').variable(false)) });
  a.accumulatedFirstMoment = state.m.map(make);
  a.accumulatedSecondMoment = state.v.map(make);
  tf.tidy(() => {
    a.accBeta1.assign(tf.scalar(state.accBeta1));
    a.accBeta2.assign(tf.scalar(state.accBeta2));
  });
  a.iterations_ = state.iterations;
}

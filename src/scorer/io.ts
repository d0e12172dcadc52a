/**
 * Scorer weights on disk, in the tfjs artefact layout: `model.json` (format,
 * arbor's scorer config as `modelTopology`, and a tfjs `weightsManifest`)
 * plus one `weights.bin` with every weight in manifest order (float32).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError, UsageError } from '../core/errors.js';
import { validateScorerConfig, type ScorerConfig } from './config.js';
import { ScorerNetwork, type NamedArrays } from './network.js';

/** Format name inside model.json. */
export const SCORER_FORMAT = 'arbor-scorer';
/** Current scorer format version. */
export const SCORER_VERSION = 1;

/** The two files of a saved scorer, in memory. */
export interface ScorerFiles {
  modelJson: string;
  weightsBin: Uint8Array;
}

/** Serialises a network to model.json + weights.bin bytes. */
export async function encodeScorer(net: ScorerNetwork): Promise<ScorerFiles> {
  const arrays = net.toArrays();
  const named = [...arrays].map(([name, a]) => ({ name, tensor: tf.tensor(a.data, a.shape) }));
  const { data, specs } = await tf.io.encodeWeights(named);
  for (const n of named) n.tensor.dispose();
  const modelJson = JSON.stringify(
    {
      format: SCORER_FORMAT,
      version: SCORER_VERSION,
      generatedBy: 'arbor',
      modelTopology: { config: net.config, numInternal: net.numInternal, numItems: net.numItems },
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    },
    null,
    1,
  );
  return { modelJson, weightsBin: new Uint8Array(data) };
}

/** Parses model.json + weights.bin; `dir` names the folder in errors. */
export function decodeScorer(files: ScorerFiles, dir: string): ScorerNetwork {
  const jsonFile = `${dir}/model.json`;
  let doc: {
    format?: string;
    version?: number;
    modelTopology?: { config: ScorerConfig; numInternal: number; numItems: number };
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    doc = JSON.parse(files.modelJson);
  } catch (e) {
    throw new ModelFormatError(jsonFile, `not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object') throw new ModelFormatError(jsonFile, 'not an arbor scorer (expected a JSON object)');
  if (doc.format !== SCORER_FORMAT) throw new ModelFormatError(jsonFile, `not an arbor scorer (format ${JSON.stringify(doc.format)})`);
  if (doc.version !== SCORER_VERSION) throw new ModelFormatError(jsonFile, `scorer version ${JSON.stringify(doc.version)} is not supported (expected ${SCORER_VERSION})`);
  const topo = doc.modelTopology;
  const specs = checkWeightsManifest(jsonFile, doc.weightsManifest);
  if (!topo || typeof topo !== 'object') throw new ModelFormatError(jsonFile, 'modelTopology is missing');
  if (!topo.config || typeof topo.config !== 'object') throw new ModelFormatError(jsonFile, 'modelTopology.config is missing');
  try {
    validateScorerConfig(topo.config);
  } catch (e) {
    if (e instanceof UsageError) throw new ModelFormatError(jsonFile, `modelTopology.config: ${e.message}`);
    throw e;
  }
  for (const key of ['numInternal', 'numItems'] as const) {
    if (!Number.isSafeInteger(topo[key]) || topo[key] < 0) throw new ModelFormatError(jsonFile, `modelTopology.${key} must be a non-negative integer, got ${JSON.stringify(topo[key])}`);
  }
  const expectedBytes = specs.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (files.weightsBin.byteLength !== expectedBytes) {
    throw new ModelFormatError(`${dir}/weights.bin`, `holds ${files.weightsBin.byteLength} bytes, the manifest needs ${expectedBytes}`);
  }
  const buf = files.weightsBin.buffer.slice(files.weightsBin.byteOffset, files.weightsBin.byteOffset + files.weightsBin.byteLength);
  const tensors = tf.io.decodeWeights(buf as ArrayBuffer, specs);
  const arrays: NamedArrays = new Map();
  for (const [name, t] of Object.entries(tensors)) {
    arrays.set(name, { shape: t.shape.slice(), data: t.dataSync() as Float32Array });
    t.dispose();
  }
  for (const [name, a] of arrays) {
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) {
        throw new ModelFormatError(`${dir}/weights.bin`, `weight ${name} holds ${a.data[i]} at index ${i}: the weights are corrupt or training diverged; retrain the model`);
      }
    }
  }
  return ScorerNetwork.fromArrays(topo.config, topo.numInternal, topo.numItems, arrays, `${dir}/weights.bin`);
}

/**
 * The weight specs of model.json, checked: one group read from weights.bin,
 * every weight float32 (the only type arbor writes) with a distinct name and
 * a shape of non-negative integers, nothing quantised.
 */
function checkWeightsManifest(jsonFile: string, manifest: unknown): tf.io.WeightsManifestEntry[] {
  const bad = (what: string): never => {
    throw new ModelFormatError(jsonFile, `weightsManifest: ${what}`);
  };
  if (manifest === undefined) throw new ModelFormatError(jsonFile, 'weightsManifest is missing');
  if (!Array.isArray(manifest) || manifest.length !== 1) return bad('must be a list of one group');
  const group = manifest[0] as { paths?: unknown; weights?: unknown };
  if (!Array.isArray(group?.paths) || group.paths.length !== 1 || group.paths[0] !== 'weights.bin') return bad('its group must read exactly ["weights.bin"]');
  if (!Array.isArray(group.weights)) return bad('its group must list weights');
  const names = new Set<string>();
  for (const w of group.weights as Record<string, unknown>[]) {
    const name = w?.name;
    if (typeof name !== 'string' || names.has(name)) bad(`weight names must be distinct strings, got ${JSON.stringify(name)}`);
    names.add(name as string);
    if (w.dtype !== 'float32') bad(`weight ${name as string} has dtype ${JSON.stringify(w.dtype)}; arbor writes float32 only`);
    if (w.quantization !== undefined) bad(`weight ${name as string} is quantised; arbor writes plain float32`);
    const shape = w.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`weight ${name as string} has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
  }
  return group.weights as tf.io.WeightsManifestEntry[];
}

/**
 * Scorer weights on disk, in the tfjs artefact layout: `model.json` (format,
 * arbor's scorer config as `modelTopology`, and a tfjs `weightsManifest`)
 * plus one `weights.bin` with every weight in manifest order (float32).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError } from '../core/errors.js';
import type { ScorerConfig } from './config.js';
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
  if (doc.format !== SCORER_FORMAT) throw new ModelFormatError(jsonFile, `not an arbor scorer (format ${JSON.stringify(doc.format)})`);
  if (doc.version !== SCORER_VERSION) throw new ModelFormatError(jsonFile, `scorer version ${JSON.stringify(doc.version)} is not supported (expected ${SCORER_VERSION})`);
  const topo = doc.modelTopology;
  const specs = doc.weightsManifest?.[0]?.weights;
  if (!topo || !specs) throw new ModelFormatError(jsonFile, 'modelTopology or weightsManifest is missing');
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
  return ScorerNetwork.fromArrays(topo.config, topo.numInternal, topo.numItems, arrays, `${dir}/weights.bin`);
}

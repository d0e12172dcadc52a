/**
 * The retriever over a trained network: beam search (or, for the oracle,
 * brute force) with the network's scorer. Every caller that searches a
 * model's tree builds it here.
 */
import type { ScorerNetwork } from '../scorer/network.js';
import { NetworkScorer } from '../scorer/session.js';
import type { Tree } from '../tree/tree.js';
import { BeamSearch } from './beam.js';
import { BruteForce } from './brute.js';

/** The two model-based retrieval methods. */
export type SearchMethod = 'beam' | 'brute-force';

/** Beam search (default) or brute force over `tree`, scored by `network`. */
export function networkSearch(tree: Tree, network: ScorerNetwork, method?: 'beam'): BeamSearch;
export function networkSearch(tree: Tree, network: ScorerNetwork, method: 'brute-force'): BruteForce;
export function networkSearch(tree: Tree, network: ScorerNetwork, method?: SearchMethod): BeamSearch | BruteForce;
export function networkSearch(tree: Tree, network: ScorerNetwork, method: SearchMethod = 'beam'): BeamSearch | BruteForce {
  const scorer = new NetworkScorer(network, tree);
  return method === 'brute-force' ? new BruteForce(tree, scorer) : new BeamSearch(tree, scorer);
}

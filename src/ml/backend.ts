import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { errorMessage } from '../lib/errors.js';
import { logger } from '../lib/logger.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let wasmRegistered = false;
let nodeRegistered = false;

function isBackendName(value: string | undefined): value is BackendName {
  return value === 'tensorflow' || value === 'wasm' || value === 'cpu';
}

/**
 * Loads @tensorflow/tfjs-node. Any failure counts as "not available": besides a missing package,
 * a broken native binary throws all sorts of errors (dlopen, missing symbol, ABI mismatch).
 */
async function registerTensorflow(): Promise<boolean> {
  if (nodeRegistered) return true;
  try {
    const name = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ name);
    nodeRegistered = tf.findBackendFactory('tensorflow') !== null;
    return nodeRegistered;
  } catch (err) {
    logger.debug({ err: errorMessage(err) }, 'tfjs-node not available');
    return false;
  }
}

/** The .wasm files ship inside the package; point the loader at them on disk, not at a CDN. */
async function registerWasm(): Promise<boolean> {
  if (wasmRegistered) return true;
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}/`);
    wasmRegistered = true;
    return true;
  } catch (err) {
    logger.debug({ err: errorMessage(err) }, 'tfjs wasm backend not available');
    return false;
  }
}

async function trySetBackend(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow' && !(await registerTensorflow())) return false;
  if (name === 'wasm' && !(await registerWasm())) return false;
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch (err) {
    logger.debug({ err: errorMessage(err), backend: name }, 'tfjs backend failed to initialise');
    return false;
  }
}

/**
 * Picks the fastest TF.js backend that works here: tfjs-node ('tensorflow'), then WebAssembly,
 * then plain JS ('cpu'). `preferred` (or env TFJS_BACKEND) moves one to the front; if it fails we
 * still fall back rather than refuse to run. Returns the active backend's name.
 */
export function initBackend(preferred?: BackendName, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  // Calls are serialised so concurrent callers never race tf.setBackend.
  const next = chain.then(() => selectBackend(preferred, env));
  chain = next.catch(() => undefined);
  return next;
}

let chain: Promise<unknown> = Promise.resolve();
let initialised = false;

async function selectBackend(preferred: BackendName | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env.TFJS_BACKEND;
  const first = preferred ?? (isBackendName(fromEnv) ? fromEnv : undefined);
  const current = activeBackend();
  if (current && (first === undefined || current === first)) return current;
  const order = first ? [first, ...ORDER.filter((b) => b !== first)] : ORDER;
  for (const name of order) {
    if (await trySetBackend(name)) {
      initialised = true;
      if (first && name !== first) logger.warn({ preferred: first, active: name }, 'preferred TF.js backend unavailable');
      return name;
    }
  }
  throw new Error('no TF.js backend could be initialised');
}

/** The backend TF.js is using right now, or null before initBackend. */
export function activeBackend(): string | null {
  if (!initialised) return null;
  try {
    return tf.getBackend() ?? null;
  } catch {
    return null;
  }
}

export { tf };

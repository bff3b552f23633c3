import { requireO1jsFile } from '../chain/o1js-internals.js';
import type { Affine } from './pallas.js';

/**
 * Kimchi's compiled Rust (the wasm o1js ships for node) for the two costly steps of the
 * off-circuit VRF: the Poseidon permutation over Pallas's base field and Pallas scalar
 * multiplication, about 2× faster than the same in bigints. Field elements and scalars cross
 * as 32 little-endian bytes (o1js's own marshalling); wasm points are freed at once. Only for
 * canonical inputs (fields below P, scalars below Q), which the callers guarantee.
 */

interface WasmPoint {
  free(): void;
}
interface WasmAffine extends WasmPoint {
  x: Uint8Array;
  y: Uint8Array;
  infinity: boolean;
}
interface KimchiWasm {
  caml_pasta_fp_poseidon_block_cipher(state: Uint8Array): Uint8Array;
  caml_pallas_of_affine_coordinates(x: Uint8Array, y: Uint8Array): WasmPoint;
  caml_pallas_scale(p: WasmPoint, k: Uint8Array): WasmPoint;
  caml_pallas_to_affine(p: WasmPoint): WasmAffine;
}

const wasm = requireO1jsFile<KimchiWasm>('bindings/compiled/node_bindings/kimchi_wasm.cjs');
const MASK64 = (1n << 64n) - 1n;

function put(x: bigint, bytes: Uint8Array, offset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 32);
  view.setBigUint64(0, x & MASK64, true);
  view.setBigUint64(8, (x >> 64n) & MASK64, true);
  view.setBigUint64(16, (x >> 128n) & MASK64, true);
  view.setBigUint64(24, x >> 192n, true);
}

function get(bytes: Uint8Array, offset: number): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 32);
  return view.getBigUint64(0, true) | (view.getBigUint64(8, true) << 64n) | (view.getBigUint64(16, true) << 128n) | (view.getBigUint64(24, true) << 192n);
}

const bytes32 = (x: bigint) => {
  const b = new Uint8Array(32);
  put(x, b, 0);
  return b;
};

/** Kimchi's Poseidon permutation of a 3-element state, in place. */
export function permuteWasm(s: bigint[]): void {
  const state = new Uint8Array(96);
  for (let i = 0; i < 3; i++) put(s[i]!, state, 32 * i);
  const out = wasm.caml_pasta_fp_poseidon_block_cipher(state);
  for (let i = 0; i < 3; i++) s[i] = get(out, 32 * i);
}

/** `scalar · point` on Pallas (affine in, affine out; `null` for the point at infinity). */
export function scaleWasm(point: { x: bigint; y: bigint }, scalar: bigint): Affine {
  const p = wasm.caml_pallas_of_affine_coordinates(bytes32(point.x), bytes32(point.y));
  const r = wasm.caml_pallas_scale(p, bytes32(scalar));
  const a = wasm.caml_pallas_to_affine(r);
  try {
    return a.infinity ? null : { x: get(a.x, 0), y: get(a.y, 0) };
  } finally {
    a.free();
    r.free();
    p.free();
  }
}

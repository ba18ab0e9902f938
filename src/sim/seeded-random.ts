import type { Random } from '../seams/random.ts';

/** 32-bit FNV-1a: turns a seed label into starting material; quality only needs to be "different". */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** SplitMix32 step, used to spread one 32-bit seed over the four words of generator state. */
function splitMix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) >>> 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small seeded PRNG (sfc32: Chris Doty-Humphrey's Small Fast Counting generator, 128 bits of
 * state, passes PractRand to many GB). Every simulated run draws all its choices from one of these,
 * so a run replays exactly from its seed.
 *
 * `fork(label)` gives an independent stream derived from the ROOT seed and the label path only —
 * not from how many numbers the parent has drawn — so adding a draw in the network model does not
 * change the fault schedule or the election timeouts of an unrelated node.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(
    readonly seed: number | string,
    private readonly path = '',
  ) {
    const material = { value: fnv1a(`${String(seed)}/${path}`) };
    this.a = splitMix32(material);
    this.b = splitMix32(material);
    this.c = splitMix32(material);
    this.d = splitMix32(material);
    // Discard the first outputs: sfc32 mixes its state over a few rounds.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  fork(label: string): SeededRandom {
    return new SeededRandom(this.seed, this.path === '' ? label : `${this.path}/${label}`);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(minInclusive: number, maxExclusive: number): number {
    if (!Number.isInteger(minInclusive) || !Number.isInteger(maxExclusive) || maxExclusive <= minInclusive) {
      throw new RangeError(`int(${minInclusive}, ${maxExclusive}): need integers with min < max`);
    }
    return minInclusive + Math.floor(this.next() * (maxExclusive - minInclusive));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[this.int(0, items.length)]!;
  }
}

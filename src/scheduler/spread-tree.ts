/**
 * The scorers as one ordering, kept in heaps so each placement costs O(levels · log nodes) instead
 * of a scan of every node. A candidate node's rank for the next replica of a service is, in order:
 *   1. fewest replicas of this service on the node (spread across nodes);
 *   2. for each `spread: node.labels.X` preference in turn, fewest replicas of this service among
 *      nodes with the same value of X (zones), counted over every node, candidate or not;
 *   3. fewest replicas of any service on the node (least loaded);
 *   4. node id, so ties break the same way on every run.
 * Nodes are grouped by label value, one level per preference; every group is a heap of its
 * children. Taking the best candidate follows the heap tops down; placing on it only raises keys
 * along that one path, so each level is repaired with a single sift-down from the top.
 */

export interface Leaf {
  readonly kind: 'leaf';
  /** Index in the plan's id-sorted node list: comparing indices compares ids. */
  readonly node: number;
  /** Replicas of this service on the node. */
  count: number;
  /** Replicas of all services on the node. */
  load: number;
}

export interface Group {
  readonly kind: 'group';
  /** Replicas of this service on nodes of this group (candidates or not). */
  own: number;
  readonly heap: Entry[];
  /** Child groups by label value (levels above the leaves). */
  readonly byValue: Map<string, Group> | undefined;
}

type Entry = Leaf | Group;

function bestLeaf(entry: Entry): Leaf {
  let current = entry;
  while (current.kind === 'group') current = current.heap[0]!;
  return current;
}

/** Negative when `a` should take the next replica before `b`; both sit in the same heap. */
function compare(a: Entry, b: Entry): number {
  if (a.kind === 'leaf' && b.kind === 'leaf') return a.count - b.count || a.load - b.load || a.node - b.node;
  const groupA = a as Group;
  const groupB = b as Group;
  return bestLeaf(groupA).count - bestLeaf(groupB).count || groupA.own - groupB.own || compare(groupA.heap[0]!, groupB.heap[0]!);
}

function siftDown(heap: Entry[], start: number): void {
  const length = heap.length;
  const item = heap[start]!;
  let index = start;
  while (true) {
    const left = 2 * index + 1;
    if (left >= length) break;
    const right = left + 1;
    const child = right < length && compare(heap[right]!, heap[left]!) < 0 ? right : left;
    if (compare(heap[child]!, item) >= 0) break;
    heap[index] = heap[child]!;
    index = child;
  }
  heap[index] = item;
}

function heapify(group: Group): void {
  for (const child of group.heap) if (child.kind === 'group') heapify(child);
  for (let i = (group.heap.length >> 1) - 1; i >= 0; i--) siftDown(group.heap, i);
}

function removeTop(heap: Entry[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  siftDown(heap, 0);
}

const unlabelled = '\0unlabelled';

export class SpreadTree {
  private readonly root: Group;
  private readonly path: Group[] = [];

  /** @param levels how many spread preferences group the candidates */
  constructor(private readonly levels: number) {
    this.root = { kind: 'group', own: 0, heap: [], byValue: levels > 0 ? new Map() : undefined };
  }

  /** Adds a candidate under its value of each preference's label (undefined when it lacks one). */
  add(leaf: Leaf, values: readonly (string | undefined)[]): void {
    let group = this.root;
    for (let level = 0; level < this.levels; level++) {
      const key = values[level] ?? unlabelled;
      let child = group.byValue!.get(key);
      if (child === undefined) {
        child = { kind: 'group', own: 0, heap: [], byValue: level + 1 < this.levels ? new Map() : undefined };
        group.byValue!.set(key, child);
        group.heap.push(child);
      }
      group = child;
    }
    group.heap.push(leaf);
  }

  /** Counts a replica of the service that runs on a node with these label values (before `ready`). */
  countExisting(values: readonly (string | undefined)[]): void {
    let group = this.root;
    for (let level = 0; level < this.levels; level++) {
      const child = group.byValue!.get(values[level] ?? unlabelled);
      if (child === undefined) return;
      child.own += 1;
      group = child;
    }
  }

  /** Orders every heap; call once after all adds and counts. */
  ready(): void {
    heapify(this.root);
  }

  /** The best candidate, or undefined when none is left. */
  best(): Leaf | undefined {
    return this.root.heap.length === 0 ? undefined : bestLeaf(this.root);
  }

  /**
   * Records a replica placed on the current best candidate; `stillFits` tells whether that node
   * can take another replica of the service.
   */
  placeOnBest(stillFits: boolean): void {
    const path = this.path;
    path.length = 0;
    let group = this.root;
    path.push(group);
    while (group.heap[0]!.kind === 'group') {
      group = group.heap[0] as Group;
      path.push(group);
    }
    const leaf = group.heap[0] as Leaf;
    leaf.count += 1;
    leaf.load += 1;
    for (let i = 1; i < path.length; i++) path[i]!.own += 1;
    let emptied = !stillFits;
    for (let i = path.length - 1; i >= 0; i--) {
      const heap = path[i]!.heap;
      if (emptied) removeTop(heap);
      else siftDown(heap, 0);
      // A group with no candidates left leaves its parent's heap; its count no longer matters.
      emptied = heap.length === 0;
    }
  }
}

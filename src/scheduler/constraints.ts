/**
 * Placement constraints in Swarm's syntax: `node.labels.zone == east`, `node.role != manager`.
 * As in Swarm, attribute names are case-insensitive (the label name after `node.labels.` is not),
 * values compare case-insensitively, and a label a node lacks counts as empty — so `!=` holds on
 * a node without the label and `==` does not.
 */
import { schedulerCodes } from './scheduler-codes.ts';
import type { SchedulerNode } from './types.ts';

type FixedAttribute = 'id' | 'hostname' | 'role' | 'os' | 'arch';

export type ConstraintAttribute =
  | { readonly kind: FixedAttribute }
  | { readonly kind: 'label'; readonly label: string };

export interface Constraint {
  /** The text as written, for messages. */
  readonly text: string;
  readonly attribute: ConstraintAttribute;
  /** The attribute as a user would name it, e.g. `node.labels.zone`. */
  readonly attributeName: string;
  readonly equal: boolean;
  readonly value: string;
}

export interface ConstraintError {
  readonly code: string;
  readonly message: string;
}

const shape = /^\s*([A-Za-z0-9._-]+)\s*(==|!=)\s*(.*?)\s*$/;
const labelPrefix = 'node.labels.';
const fixedAttributes: Readonly<Record<string, FixedAttribute>> = {
  'node.id': 'id',
  'node.hostname': 'hostname',
  'node.role': 'role',
  'node.platform.os': 'os',
  'node.platform.arch': 'arch',
};
const known = [...Object.keys(fixedAttributes), `${labelPrefix}<label>`].join(', ');

/** The constraint, or why it cannot be one. Never throws: specs reach the scheduler from the log. */
export function parseConstraint(text: string): Constraint | ConstraintError {
  const match = typeof text === 'string' ? shape.exec(text) : null;
  if (!match) {
    return { code: schedulerCodes.invalidConstraint, message: `constraint "${String(text)}" is not of the form "attribute==value" or "attribute!=value"` };
  }
  const [, name, operator, value] = match as unknown as [string, string, string, string];
  if (value === '' || value.includes('==') || value.includes('!=')) {
    return { code: schedulerCodes.invalidConstraint, message: `constraint "${text}" has no single value after "${operator}"` };
  }
  const lower = name.toLowerCase();
  const fixed = Object.hasOwn(fixedAttributes, lower) ? fixedAttributes[lower] : undefined;
  let attribute: ConstraintAttribute;
  if (fixed !== undefined) attribute = { kind: fixed };
  else if (lower.startsWith(labelPrefix) && name.length > labelPrefix.length) attribute = { kind: 'label', label: name.slice(labelPrefix.length) };
  else return { code: schedulerCodes.unknownConstraintAttribute, message: `constraint "${text}" is on "${name}", which nodes do not have; use one of ${known}` };
  return { text, attribute, attributeName: fixed !== undefined ? lower : `${labelPrefix}${name.slice(labelPrefix.length)}`, equal: operator === '==', value };
}

export function isConstraintError(parsed: Constraint | ConstraintError): parsed is ConstraintError {
  return 'code' in parsed;
}

/** What the node has for the attribute; undefined for a label it lacks. */
export function attributeOf(node: SchedulerNode, attribute: ConstraintAttribute): string | undefined {
  switch (attribute.kind) {
    case 'id': return node.id;
    case 'hostname': return node.hostname;
    case 'role': return node.role;
    case 'os': return node.platform.os;
    case 'arch': return node.platform.arch;
    case 'label': return Object.hasOwn(node.labels, attribute.label) ? node.labels[attribute.label] : undefined;
  }
}

// Engines report the machine's architecture in the kernel's words (x86_64, aarch64) and images
// in Go's (amd64, arm64); a constraint written in either matches a node reporting the other.
const archAliases: Readonly<Record<string, string>> = { amd64: 'x86_64', x64: 'x86_64', arm64: 'aarch64' };

function comparable(attribute: ConstraintAttribute, value: string): string {
  const lower = value.toLowerCase();
  return attribute.kind === 'arch' ? archAliases[lower] ?? lower : lower;
}

export function constraintHolds(constraint: Constraint, node: SchedulerNode): boolean {
  const actual = attributeOf(node, constraint.attribute) ?? '';
  const same = comparable(constraint.attribute, actual) === comparable(constraint.attribute, constraint.value);
  return same === constraint.equal;
}

/**
 * True when no node can meet both constraints: the same attribute `== x` and `== y` with x ≠ y,
 * or `== x` and `!= x` (values compared as constraintHolds compares them). Used to refuse a VPN
 * group whose members could never run on one node.
 */
export function constraintsContradict(a: Constraint, b: Constraint): boolean {
  if (a.attributeName !== b.attributeName) return false;
  const same = comparable(a.attribute, a.value) === comparable(b.attribute, b.value);
  if (a.equal && b.equal) return !same;
  return a.equal !== b.equal && same;
}

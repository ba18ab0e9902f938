import { InvalidArgumentError, type Command } from 'commander';
import type { NodeView } from '../../api/routes/nodes.ts';
import type { ApiClient } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderTable } from '../render/table.ts';
import { waitUntil } from '../wait-until.ts';

type SetExit = (code: number) => void;

interface JsonOption extends ClientOptions {
  json?: boolean;
}

interface UpdateOptions extends ClientOptions {
  availability?: string;
  labelAdd: string[];
  labelRm: string[];
}

interface RoleOptions extends ClientOptions {
  timeout: string;
}

const labelKey = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;

function collectLabel(value: string, previous: string[]): string[] {
  const equals = value.indexOf('=');
  const key = equals < 0 ? value : value.slice(0, equals);
  if (equals < 0) throw new InvalidArgumentError(`"${value}" is not key=value (e.g. --label-add zone=east)`);
  if (!labelKey.test(key)) throw new InvalidArgumentError(`label name "${key}" must start with a letter or digit and hold only letters, digits and _ . / - (at most 128)`);
  return [...previous, value];
}

function collectKey(value: string, previous: string[]): string[] {
  if (!labelKey.test(value)) throw new InvalidArgumentError(`label name "${value}" must start with a letter or digit and hold only letters, digits and _ . / - (at most 128)`);
  return [...previous, value];
}

function nodePath(id: string): string {
  return `/v1/nodes/${encodeURIComponent(id)}`;
}

/** The role, and where Raft has not caught up with it yet, what Raft says (a manager still a learner). */
function roleText(node: NodeView): string {
  const settled = node.role === 'manager' ? node.raft === 'voter' : node.raft === 'none';
  return settled || node.raft === undefined ? node.role : `${node.role} (raft ${node.raft})`;
}

export function renderNodes(nodes: readonly NodeView[]): string {
  return renderTable(['ID', 'HOSTNAME', 'ROLE', 'STATUS', 'AVAILABILITY', 'LEADER', 'ADDRESS', 'CONTAINERS'], nodes.map((node) => [
    node.id, node.hostname, roleText(node), node.status, node.availability, node.leader ? 'leader' : '', node.address, String(node.containers),
  ]));
}

/** The Raft place a role settles into: managers vote; a demoted manager keeps the log as a learner. */
function settled(node: NodeView, role: 'manager' | 'worker'): boolean {
  return role === 'manager' ? node.raft === 'voter' : node.raft !== 'voter';
}

async function changeRole(client: ApiClient, id: string, role: 'manager' | 'worker', options: RoleOptions, io: CliIo): Promise<number> {
  const before = await client.get<NodeView>(nodePath(id));
  const verb = role === 'manager' ? 'promoted to manager' : 'demoted to worker';
  if (before.role === role && settled(before, role)) {
    writeLine(io.stdout, `node ${id} is already a ${role}`);
    return ExitCode.ok;
  }
  await client.patch<NodeView>(nodePath(id), { role });
  const timeoutMs = Math.max(1, Number(options.timeout) || 60) * 1000;
  let last: NodeView | undefined;
  const outcome = await waitUntil(async () => {
    last = await client.get<NodeView>(nodePath(id));
    return settled(last, role) ? 'done' : undefined;
  }, { timeoutMs, intervalMs: 200, ...(io.interrupted ? { interrupted: io.interrupted } : {}) });
  if (outcome === 'done') {
    writeLine(io.stdout, `node ${id} ${verb} (raft ${last?.raft ?? '?'})`);
    return ExitCode.ok;
  }
  if (outcome === 'interrupted') return ExitCode.interrupted;
  writeLine(io.stderr, `error: node ${id} is ${role} in the cluster state, but Raft still has it as ${last?.raft ?? '?'} after ${timeoutMs / 1000} s (${role === 'manager' ? 'it catches up with the log first; is it up?' : 'the managers left must stay a quorum'}); the leader keeps trying`);
  return ExitCode.failed;
}

/** `constellation node ls|inspect|update|promote|demote|rm`: the cluster's nodes (REST /v1/nodes). */
export function registerNodeCommand(program: Command, io: CliIo, setExit: SetExit): Command {
  const node = program.command('node').description('list and manage the nodes of the cluster');

  withClientOptions(node.command('ls')
    .description('list the nodes: id, hostname, role, status, availability, leader, address, containers')
    .option('--json', 'print JSON instead of a table'))
    .action(async (options: JsonOption) => {
      const nodes = await apiClientFor(options, io).get<NodeView[]>('/v1/nodes');
      writeLine(io.stdout, options.json ? JSON.stringify(nodes, null, 2) : renderNodes(nodes));
      setExit(ExitCode.ok);
    });

  withClientOptions(node.command('inspect')
    .description('show everything about one node as JSON (labels, platform, capacity, Raft membership)')
    .argument('<id>', 'node id'))
    .action(async (id: string, options: ClientOptions) => {
      writeLine(io.stdout, JSON.stringify(await apiClientFor(options, io).get<NodeView>(nodePath(id)), null, 2));
      setExit(ExitCode.ok);
    });

  withClientOptions(node.command('update')
    .description('change a node\'s availability (drain moves its replicas away, pause takes no new ones) and labels')
    .argument('<id>', 'node id')
    .option('--availability <mode>', 'active | pause | drain')
    .option('--label-add <key=value>', 'add or change a label (repeatable)', collectLabel, [])
    .option('--label-rm <key>', 'remove a label (repeatable)', collectKey, [])
    .option('--json', 'print the updated node as JSON'))
    .action(async (id: string, options: UpdateOptions & { json?: boolean }) => {
      if (options.availability !== undefined && !['active', 'pause', 'drain'].includes(options.availability)) {
        throw new CliError(ExitCode.invalid, `--availability must be active, pause or drain, got "${options.availability}"`);
      }
      if (options.availability === undefined && options.labelAdd.length === 0 && options.labelRm.length === 0) {
        throw new CliError(ExitCode.invalid, 'nothing to change: give --availability, --label-add or --label-rm');
      }
      const labelAdd = Object.fromEntries(options.labelAdd.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      const updated = await apiClientFor(options, io).patch<NodeView>(nodePath(id), {
        ...(options.availability !== undefined ? { availability: options.availability } : {}),
        ...(options.labelAdd.length > 0 ? { labelAdd } : {}),
        ...(options.labelRm.length > 0 ? { labelRemove: options.labelRm } : {}),
      });
      if (options.json) writeLine(io.stdout, JSON.stringify(updated, null, 2));
      else {
        const labels = Object.entries(updated.labels).map(([key, value]) => `${key}=${value}`).join(',');
        writeLine(io.stdout, `node ${id} updated: availability ${updated.availability}, labels ${labels === '' ? '(none)' : labels}`);
      }
      setExit(ExitCode.ok);
    });

  for (const [name, role, description] of [
    ['promote', 'manager', 'make a node a manager (a Raft voter once it has caught up with the log); at most 5 managers'],
    ['demote', 'worker', 'make a manager a worker: it leaves the Raft voters (refused for the last manager, or when the managers left could not form a quorum)'],
  ] as const) {
    withClientOptions(node.command(name)
      .description(description)
      .argument('<id>', 'node id')
      .option('--timeout <seconds>', 'how long to wait for Raft to follow', '60'))
      .action(async (id: string, options: RoleOptions) => setExit(await changeRole(apiClientFor(options, io), id, role, options, io)));
  }

  withClientOptions(node.command('rm')
    .description('remove a node that is down (drain it and stop its daemon first); a manager also leaves the Raft membership')
    .argument('<id>', 'node id'))
    .action(async (id: string, options: ClientOptions) => {
      await apiClientFor(options, io).delete(nodePath(id));
      writeLine(io.stdout, `node ${id} removed`);
      setExit(ExitCode.ok);
    });
  return node;
}

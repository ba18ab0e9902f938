import { accessSync, constants, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';

// Every command a user copies from the README must run as written: through `npx constellation`
// (a fresh `npm ci` puts nothing on PATH), with commands and options the CLI really has.

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

interface Example { readonly line: number; readonly text: string }

/** Lines of ```sh blocks, without comments. */
function shellLines(): Example[] {
  const out: Example[] = [];
  let inShell = false;
  readme.split('\n').forEach((raw, index) => {
    if (raw.startsWith('```')) {
      inShell = !inShell && raw.trim() === '```sh';
      return;
    }
    if (!inShell) return;
    const text = raw.replace(/\s+#.*$/, '').trim();
    if (text !== '' && !text.startsWith('#')) out.push({ line: index + 1, text });
  });
  return out;
}

/** `npx constellation …` quoted inline in the prose. */
function inlineExamples(): Example[] {
  const out: Example[] = [];
  readme.split('\n').forEach((raw, index) => {
    for (const match of raw.matchAll(/`(npx constellation[^`]*)`/g)) out.push({ line: index + 1, text: match[1]! });
  });
  return out;
}

/** Parses argv with the CLI's own program, every action replaced by a recorder: nothing runs. */
async function parse(argv: readonly string[]): Promise<string> {
  const sink = new PassThrough();
  sink.resume();
  const program = buildProgram({ stdout: sink, stderr: sink, env: {} }, () => {});
  let ran = '';
  // Every level: `node ls` is a subcommand of a subcommand.
  const record = (command: Command, path: string) => {
    command.action(() => { ran = path; });
    for (const sub of command.commands) record(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  record(program, '');
  ran = 'none';
  // runCli refuses a stray first word before commander sees it (the root runs the daemon).
  const [first] = argv;
  if (first !== undefined && !first.startsWith('-') && !program.commands.some((command) => command.name() === first)) throw new Error(`unknown command "${first}"`);
  await program.parseAsync([...argv], { from: 'user' });
  return ran === '' ? 'constellation' : ran;
}

describe('README examples', () => {
  it('never run a bare `constellation` in a shell block (it is not on PATH after npm ci)', () => {
    const bare = shellLines().filter((example) => /^constellation\b/.test(example.text));
    expect(bare.map((example) => `README.md:${example.line}: ${example.text}`)).toEqual([]);
  });

  it('parse with the CLI: every `npx constellation …` names a real command with real options', async () => {
    const examples = [...shellLines(), ...inlineExamples()].filter((example) => example.text.startsWith('npx constellation'));
    expect(examples.length).toBeGreaterThanOrEqual(10);
    const failures: string[] = [];
    const commands = new Set<string>();
    for (const example of examples) {
      const argv = example.text.split(/\s+/).slice(2);
      try {
        commands.add(await parse(argv));
      } catch (error) {
        failures.push(`README.md:${example.line}: ${example.text}: ${(error as Error).message.trim()}`);
      }
    }
    expect(failures).toEqual([]);
    // The examples cover what a new user does first.
    for (const name of ['constellation', 'deploy', 'ps', 'services', 'rm']) expect(commands).toContain(name);
  });

  it('the parse check itself refuses what is wrong', async () => {
    await expect(parse(['deploy', '--file', 'x.yml', '--bogus'])).rejects.toThrow(/unknown option/);
    await expect(parse(['depoly'])).rejects.toThrow(/unknown command/);
    await expect(parse(['rm'])).rejects.toThrow(/missing required argument/);
    // Nested commands parse without running (no daemon is asked), and their options are checked.
    await expect(parse(['node', 'ls'])).resolves.toBe('node ls');
    await expect(parse(['cluster', 'tokens', '[--rotate', 'manager|worker]'])).rejects.toThrow(/too many arguments/);
  });

  it('`npx constellation` resolves: package.json names an executable bin', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin?: Record<string, string> };
    const bin = pkg.bin?.constellation;
    expect(bin).toBe('bin/constellation.js');
    const path = new URL(`../../${bin}`, import.meta.url);
    expect(() => accessSync(path, constants.X_OK)).not.toThrow();
    expect(readFileSync(path, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

import type { Entry, EntryType } from './types.ts';
import type { Draft } from './draft.ts';
import { persistEntries } from './draft.ts';
import { noteAppended } from './membership.ts';

/** The leader appends new entries of its own term to its log (its own match is its last index). */
export function appendAsLeader(d: Draft, items: readonly { readonly type: EntryType; readonly data: string }[]): Entry[] {
  const s = d.s;
  const first = s.log.lastIndex + 1;
  const entries: Entry[] = items.map((item, offset) => ({ term: s.term, index: first + offset, type: item.type, data: item.data }));
  s.log = s.log.append(entries);
  persistEntries(d, entries);
  noteAppended(s, entries);
  return entries;
}

// Child process for the crash test: submits deploys forever and prints each acknowledged seq.
import { FileStateStore } from '../../../src/adapters/file-state-store.ts';
import { service, stack } from './fixtures.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: file-state-store-writer.ts DATA_DIR');
const store = new FileStateStore(dataDir);
await store.open();
let seq = store.current().sessions['writer']?.seq ?? 0;
while (true) {
  seq += 1;
  const name = `s${seq}`;
  const result = await store.submit({ clientId: 'writer', seq, command: { type: 'deploy-stack', stack: stack(name, [service('web')]), specHash: name, atMs: seq } });
  if (!result.ok) throw new Error(`deploy ${seq} refused: ${result.message}`);
  process.stdout.write(`ack ${seq}\n`);
}

import type { RaftPersistedState, RaftStorage } from '../../seams/raft-storage.ts';

/**
 * Hands a Raft node the state its owner already loaded (to check the WAL before binding any port)
 * instead of reading the WAL a second time.
 */
export function preloadedStorage(storage: RaftStorage, persisted: RaftPersistedState): RaftStorage {
  let handedOver = false;
  return {
    load: async () => {
      if (handedOver) throw new Error('the preloaded raft state was already handed over');
      handedOver = true;
      return persisted;
    },
    setHardState: (hardState) => storage.setHardState(hardState),
    append: (entries) => storage.append(entries),
    saveSnapshot: (snapshot) => storage.saveSnapshot(snapshot),
    sync: () => storage.sync(),
    close: () => storage.close(),
  };
}

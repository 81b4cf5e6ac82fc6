/** The watched folder: files dropped in an inbox are taken when complete, scanned, and filed. */
export { openInbox, type InboxLayout } from './inbox.js';
export { createLedger, watcherIdentity, type Ledger, type LedgerEntry } from './ledger.js';
export { classifyName, stampedName, utcStamp, originalNameOf, WORK_FOLDERS } from './names.js';
export { assessStability, type FileSnapshot, type Observation, type Stability } from './stability.js';
export { runWatcher, type WatcherOptions } from './watcher.js';

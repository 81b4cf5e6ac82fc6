export { buildApiServer, CSV_TYPES, PARTIAL_HEADER, type ApiServerDeps } from './server.js';
export { loadApiConfig, type ApiConfig } from '../config/api.js';
export { API_DEFAULTS } from '../config/defaults.js';
export { BatchService, type BatchView } from './batches.js';
export { RetryMerger } from '../batch/retry-merger.js';
export { DataDir, BATCH_ID } from './data-dir.js';
export { openQueues, DASHBOARD_PATH } from './dashboard.js';
export { BATCH_OPTIONS } from './options.js';

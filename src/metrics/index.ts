export { UpstreamMetricsRecorder, type UpstreamRecorderOptions } from './upstream-recorder.js';
export { recordBatchRows, REJECTED_STATUS } from './rows.js';
export {
  METRIC_NAMES,
  metricsFromSnapshot,
  readMetricsSnapshot,
  renderMetrics,
  type MetricsSnapshot,
} from './exporter.js';
export { DURATION_BUCKETS_S, RATE_WINDOW_S } from './keys.js';

// Nightly schedules: job files → BullMQ job schedulers → a worker that starts each tick's batch.
export { cronProblem, folderTimestamp, isTimeZone, nextRuns, zonedIso } from './cron.js';
export { assertScheduleDefinition, SCHEDULED_SCAN_JOB, type ScheduleDefinition } from './definition.js';
export { SCHEDULE_QUEUE } from '../queue/keys.js';
export { JOB_FIELDS, JOB_ID_PATTERN, parseJobFile, type JobFileResult } from './job-file.js';
export { loadJobsFolder, type JobsFolder } from './jobs-folder.js';
export { listSchedules, type LastRun, type ScheduleEntry } from './list.js';
export { readRuns, recordRun, type ScheduleRun } from './runs.js';
export { runFolder, ScheduledRunError, startScheduledRun, type RunDeps, type RunStart } from './start-run.js';
export { SCHEDULED_JOB_OPTIONS, syncSchedules, type SyncAction, type SyncEntry } from './sync.js';
export { startScheduleWorker, tickOf, type ScheduleWorker, type ScheduleWorkerOptions } from './worker.js';

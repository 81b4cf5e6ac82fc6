import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** JSON-lines file this run's fault cases append their figures to (read back at teardown). */
    faultReportLines: string;
  }
}

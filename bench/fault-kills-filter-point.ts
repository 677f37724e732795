/** The log line filterAlerts' bench instance writes after each match published (fault-kills-filter-worker.ts). */
export const MATCH_PUBLISHED = 'filtered match published';

/**
 * filterAlerts' instance for bench/fault-kills-filter.ts: the real instance worker
 * (functions/night/instance-worker.ts) whose filter streams also log MATCH_PUBLISHED after each
 * match published to `filtered-alerts`: the crash rehearsal's point, as no timed call or log line
 * of filterAlerts falls between its publishes and its ack.
 */
import '../functions/night/instance-worker.js';
import { filterServices } from '../functions/filter-context.js';
import { MATCH_PUBLISHED } from './fault-kills-filter-point.js';

const streams = filterServices().streams;
const publish = streams.publish.bind(streams);
streams.publish = async (frame, attributes) => {
  await publish(frame, attributes);
  const line = { severity: 'DEBUG', message: MATCH_PUBLISHED, filterId: attributes.filterId };
  process.stderr.write(`${JSON.stringify(line)}\n`);
};

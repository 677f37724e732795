/**
 * `ap alerts --in FILE`: prints the alerts of an Avro object container file (alerts.avro) or of
 * a Pub/Sub message dump (JSON lines of {"data": base64 Confluent frame, "attributes": {...}})
 * as JSON lines on stdout, cutouts elided.
 */
import { once } from 'node:events';
import { defineCommand, fileError, required } from '../command.js';
import { alertForDisplay, readAlertFile } from '../../shared/alerts/container.js';

export const command = defineCommand({
  name: 'alerts',
  summary: 'print the alerts in an Avro file or Pub/Sub dump as JSON lines',
  help: `usage: ap alerts --in FILE

  --in FILE   an Avro object container file (as 'ap process' writes DIR/alerts.avro), or a
              Pub/Sub message dump: JSON lines, one message a line,
              {"data": "<base64 Confluent-framed alert>", "attributes": {...}}
              (a {"message": {...}} wrapper, as push deliveries have, is accepted)

Prints one alert a line as JSON; cutouts are replaced by '<N bytes FITS elided>'.`,
  options: { in: { type: 'string' } },
  async run(values) {
    const file = required(values, 'in');
    let count = 0;
    try {
      for await (const alert of readAlertFile(file)) {
        // Waits while the reader is behind: memory stays flat, and a reader that stops (EPIPE) stops us.
        if (!process.stdout.write(`${JSON.stringify(alertForDisplay(alert))}\n`))
          await once(process.stdout, 'drain');
        count++;
      }
    } catch (err) {
      throw fileError(file, err);
    }
    process.stderr.write(
      `${JSON.stringify({ severity: 'INFO', message: 'alerts printed', file, count })}\n`,
    );
  },
});
